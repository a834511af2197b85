"""Tables a manager reads about verbatims: topic prevalence per segment, example comments,
and how strongly each topic goes with a score or a journey gap.

Intervals are Bayesian: a topic's share in a segment has a Beta(0.5 + mentions, 0.5 + others)
posterior (Jeffreys prior) and ``share_low``/``share_high`` are its 94% equal-tailed
interval, the probability the driver model's HDIs use. A segment with fewer than ``min_n``
commenting respondents shows no share and says "too few responses"; a topic with fewer than
``min_n`` mentions shows no example comments (too easy to recognise who wrote them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from cxkit._checks import MISSING_SEGMENT, require_columns
from cxkit.stats import beta_equal_tailed

PROB = 0.94
MIN_N = 30
TOO_FEW = "too few responses"


def _topic_cols(scored: pd.DataFrame) -> list[str]:
    cols = sorted((c for c in scored.columns if c.startswith("topic_")),
                  key=lambda c: int(c.split("_")[1]))
    if not cols:
        raise ValueError("no topic_<k> columns: pass the table returned by fit_topics or "
                         "join_topics.")
    return cols


def topic_prevalence(data: pd.DataFrame, topics: pd.DataFrame, *,
                     segments: Sequence[str] = (), min_n: int = MIN_N,
                     prob: float = PROB) -> pd.DataFrame:
    """Share of commenting respondents who mention each topic, overall and per segment.

    Parameters
    ----------
    data : DataFrame
        Responses joined with their topics (:func:`cxkit.voice.join_topics`): needs
        ``has_verbatim``, ``topic_<k>`` and the ``segments`` columns.
    topics : DataFrame
        The ``topics`` table (``topic, label, keywords``).
    segments : sequence of str
        Segment columns; ``segment_var == "all"`` rows are always included.
    min_n : int
        Privacy and precision floor: segments with fewer commenting respondents get NaN
        shares and ``note = "too few responses"``.

    Returns
    -------
    DataFrame ``topic, label, segment_var, segment_value, n, mentions, share_mean, share_low,
    share_high, note`` (94% interval; ``attrs["interval"]`` says so).
    """
    require_columns(data, ["has_verbatim", *segments], table="responses with topics",
                    hint="Join the topic scores first (cxkit.voice.join_topics).")
    cols = _topic_cols(data)
    d = data[data["has_verbatim"] == 1].assign(all="all")
    labels = topics.set_index("topic")["label"]
    rows = []
    for var in ["all", *segments]:
        g = d.groupby(d[var].astype(object).where(d[var].notna(), MISSING_SEGMENT), sort=True)
        n = g.size()
        for col in cols:
            k = int(col.split("_")[1])
            x = g[col].sum()
            a, b = 0.5 + x, 0.5 + n - x
            low, high = beta_equal_tailed(a, b, prob)
            ok = n >= min_n
            for seg in n.index:
                rows.append({
                    "topic": k, "label": labels.get(k, f"topic {k}"), "segment_var": var,
                    "segment_value": str(seg), "n": int(n[seg]),
                    "mentions": int(x[seg]) if ok[seg] else np.nan,
                    "share_mean": float(a[seg] / (a[seg] + b[seg])) if ok[seg] else np.nan,
                    "share_low": float(low[n.index.get_loc(seg)]) if ok[seg] else np.nan,
                    "share_high": float(high[n.index.get_loc(seg)]) if ok[seg] else np.nan,
                    "note": "" if ok[seg] else TOO_FEW})
    out = pd.DataFrame(rows)
    out.attrs["interval"] = f"{prob:.0%} equal-tailed, Beta(0.5 + mentions, 0.5 + others)"
    return out


def example_verbatims(data: pd.DataFrame, topics: pd.DataFrame, *, text: str = "verbatim",
                      n_examples: int = 3, min_n: int = MIN_N,
                      max_chars: int = 240) -> pd.DataFrame:
    """Up to ``n_examples`` comments per topic: those weighing most on it.

    Only comments that mention a single topic are chosen when there are enough of them
    (clearer examples). A topic mentioned by fewer than ``min_n`` respondents gets one row
    with an empty ``verbatim`` and ``note = "too few responses"``.

    Returns
    -------
    DataFrame ``topic, label, rank, verbatim, weight, note``.
    """
    cols = _topic_cols(data)
    require_columns(data, [text], table="responses with topics",
                    hint="Pass text=<the verbatim column>.")
    n_flags = data[cols].sum(axis=1)
    rows = []
    for _, t in topics.iterrows():
        k = int(t["topic"])
        col, wcol = f"topic_{k}", f"weight_{k}"
        hit = data[data[col] == 1]
        if len(hit) < min_n:
            rows.append({"topic": k, "label": t["label"], "rank": 1, "verbatim": "",
                         "weight": np.nan, "note": TOO_FEW})
            continue
        single = hit[n_flags.loc[hit.index] == 1]
        pool = single if len(single) >= n_examples else hit
        weight = pool[wcol] if wcol in pool.columns else pd.Series(1.0, index=pool.index)
        # Distinct comments (case-blind): one sentence repeated is not three examples.
        pick = (pool.assign(_w=weight, _t=pool[text].astype(str).str.strip())
                .assign(_k=lambda x: x["_t"].str.lower())
                .sort_values("_w", ascending=False, kind="stable")
                .drop_duplicates("_k").head(n_examples))
        for r, (_, row) in enumerate(pick.iterrows(), start=1):
            v = row["_t"]
            rows.append({"topic": k, "label": t["label"], "rank": r,
                         "verbatim": v if len(v) <= max_chars else v[:max_chars - 1] + "…",
                         "weight": float(row["_w"]), "note": ""})
    return pd.DataFrame(rows)


def topic_association(data: pd.DataFrame, *, columns: Sequence[str],
                      prob: float = PROB) -> pd.DataFrame:
    """Mean of each column among respondents who mention a topic versus those who do not.

    Among commenting respondents only. ``diff = mean_with - mean_without`` with a normal
    approximation interval (Welch's standard error) at ``prob``; ``n_with``/``n_without``
    count the rows where the column is known.

    Returns
    -------
    DataFrame ``topic, column, n_with, n_without, mean_with, mean_without, diff, diff_low,
    diff_high``.
    """
    cols = _topic_cols(data)
    require_columns(data, ["has_verbatim", *columns], table="responses with topics",
                    hint="Join the topic scores first (cxkit.voice.join_topics).")
    d = data[data["has_verbatim"] == 1]
    z = stats.norm.ppf(0.5 + prob / 2)
    rows = []
    for col in cols:
        for c in columns:
            y = pd.to_numeric(d[c], errors="coerce")
            a, b = y[(d[col] == 1) & y.notna()], y[(d[col] == 0) & y.notna()]
            if len(a) < 2 or len(b) < 2:
                diff = se = np.nan
            else:
                diff = a.mean() - b.mean()
                se = np.sqrt(a.var() / len(a) + b.var() / len(b))
            rows.append({"topic": int(col.split("_")[1]), "column": c, "n_with": len(a),
                         "n_without": len(b), "mean_with": a.mean(), "mean_without": b.mean(),
                         "diff": diff, "diff_low": diff - z * se, "diff_high": diff + z * se})
    out = pd.DataFrame(rows)
    out.attrs["interval"] = f"{prob:.0%} normal approximation (Welch)"
    return out
