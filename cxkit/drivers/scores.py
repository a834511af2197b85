"""NPS and top-2-box CSAT per segment from raw scores, with conjugate Bayesian intervals
(no MCMC): ``tables/nps_by_segment.parquet`` and the CSAT table.

Intervals are 94% HDIs (:data:`cxkit.stats.HDI_PROB`) of the posterior draws, named
``<stat>_low``/``<stat>_high``. Missing segment values are labelled ``"(missing)"``; the
all-customers row is ``"All"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxkit._checks import MISSING_SEGMENT, require_columns
from cxkit.stats import HDI_PROB, hdi_1d

ALL = "All"


def _check_columns(data: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    require_columns(data, columns, table="responses",
                    hint=f"({what}) Pass the table the model was fitted on (ingest output "
                         "responses.parquet).")


def _segment_labels_for(data: pd.DataFrame, segment) -> pd.Series:
    """Labels for ``segment`` (a column or list of columns), joined with ``|``."""
    if segment is None:
        return pd.Series(ALL, index=data.index, dtype=object)
    columns = [segment] if isinstance(segment, str) else list(segment)
    _check_columns(data, columns, "segment")
    parts = [
        data[c].astype("string").fillna(MISSING_SEGMENT).astype(str) for c in columns
    ]
    labels = parts[0]
    for part in parts[1:]:
        labels = labels + "|" + part
    return labels.astype(object)


def _integer_scores(data: pd.DataFrame, score: str, low: int, high: int) -> pd.Series:
    """Numeric scores (NaN where missing); raise on values off the ``low..high`` integer scale."""
    _check_columns(data, [score], "score")
    raw = data[score]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    off = values.notna() & ((values < low) | (values > high) | (values % 1 != 0))
    bad = bad | off
    if bad.any():
        rows = list(data.index[bad][:5])
        shown = [raw.loc[r] for r in rows]
        raise ValueError(
            f"column {score!r} has {int(bad.sum())} value(s) that are not integers in "
            f"{low}..{high}, e.g. rows {rows}: {shown}. Quarantine them at ingest "
            "(reason score_out_of_range) or clean the column before summarising."
        )
    return values


# --------------------------------------------------------------------------- scores


def _segment_order(labels: pd.Series) -> list[str]:
    return sorted(labels.unique().tolist(), key=str) + [ALL]


def nps_by_segment(
    data: pd.DataFrame,
    *,
    segment: str | Sequence[str] | None,
    score: str,
    prior: float = 1.0,
    draws: int = 4000,
    seed: int = 0,
) -> pd.DataFrame:
    """Net Promoter Score per segment with a Bayesian 94% HDI.

    Scores 9-10 are promoters, 7-8 passives, 0-6 detractors. The three counts of a
    segment are multinomial; with a symmetric Dirichlet(``prior``) prior the posterior
    is Dirichlet(counts + prior) (conjugate), sampled with numpy, and
    NPS = 100 x (P(promoter) - P(detractor)) draw by draw. Missing scores are skipped.

    Parameters
    ----------
    data : DataFrame
        One row per survey response.
    segment : str, list of str or None
        Segment column(s); with two or more, labels are joined with ``|``
        (``"North|web"``), as in the driver model. ``None`` gives only ``"All"``.
        Missing segment values are labelled ``"(missing)"``.
    score : str
        Column with 0-10 integer scores; other values raise ``ValueError``.
    prior : float, default 1.0
        Dirichlet concentration added to each of the three counts (1 = uniform).
    draws : int, default 4000
        Posterior draws per segment.
    seed : int, default 0
        Seed of the numpy generator (results are reproducible).

    Returns
    -------
    DataFrame
        One row per segment (sorted, then ``"All"``): ``segment, n, promoters,
        passives, detractors, nps_observed, nps_mean, nps_low, nps_high``.

    Examples
    --------
    >>> nps_by_segment(responses, segment="region", score="nps")  # doctest: +SKIP
    """
    if prior <= 0:
        raise ValueError(f"prior must be > 0 (a Dirichlet concentration), got {prior}.")
    scores = _integer_scores(data, score, 0, 10)
    # boolean masks rather than .loc: the index of a concatenated frame may repeat
    keep = scores.notna().to_numpy()
    labels = _segment_labels_for(data, segment)[keep]
    scores = scores[keep]
    group = pd.cut(scores, [-0.5, 6.5, 8.5, 10.5], labels=["detractors", "passives", "promoters"])
    counts = pd.crosstab(labels.to_numpy(), group.to_numpy()).reindex(
        columns=["promoters", "passives", "detractors"], fill_value=0
    )
    if segment is not None:
        counts.loc[ALL] = counts.sum()
    counts = counts.reindex(_segment_order(labels) if segment is not None else [ALL])
    rng = np.random.default_rng(seed)
    rows = []
    for label, (p, m, d) in counts.iterrows():
        n = p + m + d
        share = rng.dirichlet(np.array([p, m, d], dtype=float) + prior, size=draws)
        nps = 100 * (share[:, 0] - share[:, 2])
        low, high = hdi_1d(nps, HDI_PROB)
        observed = 100 * (p - d) / n if n else np.nan
        rows.append((label, n, p, m, d, observed, nps.mean(), low, high))
    return pd.DataFrame(
        rows,
        columns=[
            "segment", "n", "promoters", "passives", "detractors", "nps_observed",
            "nps_mean", "nps_low", "nps_high",
        ],
    ).astype({"n": int, "promoters": int, "passives": int, "detractors": int})  # fmt: skip


def csat_by_segment(
    data: pd.DataFrame,
    *,
    segment: str | Sequence[str] | None,
    score: str,
    scale_max: int = 5,
    top: int = 2,
    prior: float = 1.0,
    draws: int = 4000,
    seed: int = 0,
) -> pd.DataFrame:
    """Top-box CSAT share per segment with a Beta posterior and 94% HDI.

    A response is satisfied when its score is in the top ``top`` points of a
    1..``scale_max`` scale (4 or 5 out of 5 by default). The satisfied count is
    binomial; with a Beta(``prior``, ``prior``) prior the posterior is
    Beta(prior + satisfied, prior + n - satisfied).

    Parameters
    ----------
    data : DataFrame
        One row per survey response.
    segment : str, list of str or None
        Segment column(s), as in :func:`nps_by_segment`.
    score : str
        Column with integer scores in 1..``scale_max``; other values raise.
    scale_max : int, default 5
        Highest point of the scale.
    top : int, default 2
        How many top points count as satisfied.
    prior : float, default 1.0
        Beta prior concentration on each side (1 = uniform).
    draws : int, default 4000
        Posterior draws per segment (for the HDI).
    seed : int, default 0
        Seed of the numpy generator.

    Returns
    -------
    DataFrame
        ``segment, n, satisfied, share_observed, share_mean, share_low,
        share_high`` (one row per segment, then ``"All"``).

    Examples
    --------
    >>> csat_by_segment(responses, segment=["region", "channel"], score="csat")  # doctest: +SKIP
    """
    if prior <= 0:
        raise ValueError(f"prior must be > 0 (a Beta concentration), got {prior}.")
    if not 1 <= top < scale_max:
        raise ValueError(f"top must be between 1 and scale_max - 1 ({scale_max - 1}), got {top}.")
    scores = _integer_scores(data, score, 1, scale_max)
    keep = scores.notna().to_numpy()
    labels = _segment_labels_for(data, segment)[keep]
    scores = scores[keep]
    satisfied = (scores > scale_max - top).astype(int)
    counts = satisfied.groupby(labels.to_numpy()).agg(["sum", "size"])
    if segment is not None:
        counts.loc[ALL] = counts.sum()
    counts = counts.reindex(_segment_order(labels) if segment is not None else [ALL])
    rng = np.random.default_rng(seed)
    rows = []
    for label, (k, n) in counts.iterrows():
        a, b = prior + k, prior + n - k
        low, high = hdi_1d(rng.beta(a, b, size=draws), HDI_PROB)
        rows.append((label, n, k, k / n if n else np.nan, a / (a + b), low, high))
    return pd.DataFrame(
        rows,
        columns=[
            "segment", "n", "satisfied", "share_observed", "share_mean",
            "share_low", "share_high",
        ],
    ).astype({"n": int, "satisfied": int})  # fmt: skip
