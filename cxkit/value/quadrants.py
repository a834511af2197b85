"""Sort customers into Model / Growth / At-risk / Dangling by experience and revenue.

=============  ===========  ============  ==============================================
quadrant       score        revenue       what to do
=============  ===========  ============  ==============================================
Model          high         high          keep them; learn from their journeys
Growth         high         low           happy but small: cross-sell, upgrade
At-risk        low          high          valuable and unhappy: fix their experience first
Dangling       low          low           low priority; cheap, scalable fixes
=============  ===========  ============  ==============================================

Thresholds (``high`` means):

* score ``>= score_threshold``. Default for NPS: **7**, passives and promoters. Promoters
  alone (>= 9) are too strict for "high": on typical NPS distributions they are a minority and
  the split would call most satisfied customers "low". 7 is the standard boundary where a
  customer stops being a detractor. For any other score the default is the median.
* revenue ``> revenue_threshold`` (strictly above). Default: the median of ``revenue``. Strict
  so that customers who spent nothing are never "high revenue", even when the median is 0.

Ties at the score threshold count as high, ties at the revenue threshold as low; both
thresholds are stored in the output (columns and ``attrs``) so plots and reports show them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

QUADRANTS = ["Model", "Growth", "At-risk", "Dangling"]
NPS_HIGH = 7.0


def assign_quadrants(table: pd.DataFrame, *, score: str = "score", revenue: str = "revenue_pre",
                     score_threshold: float | None = None,
                     revenue_threshold: float | None = None) -> pd.DataFrame:
    """Add ``quadrant`` (Model / Growth / At-risk / Dangling) to the value table.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`cxkit.value.customer_value_table` (or any table with the two columns).
    score, revenue : str
        Columns to split on.
    score_threshold : float, optional
        High score means ``score >= score_threshold``. Default: 7 when the table's score is
        NPS (``attrs["score_name"] == "nps"`` or ``score == "nps"``), else the median.
    revenue_threshold : float, optional
        High revenue means ``revenue > revenue_threshold``. Default: median revenue.

    Returns
    -------
    DataFrame
        A copy of ``table`` plus ``score_high``, ``revenue_high`` (bool), ``quadrant``
        (categorical in the order Model, Growth, At-risk, Dangling), ``score_threshold``,
        ``revenue_threshold``.

    Examples
    --------
    >>> t = pd.DataFrame({"score": [9, 9, 3, 3], "revenue_pre": [100, 0, 100, 0]})
    >>> assign_quadrants(t, score_threshold=7)["quadrant"].tolist()
    ['Model', 'Growth', 'At-risk', 'Dangling']
    """
    for col in (score, revenue):
        if col not in table.columns:
            raise KeyError(f"table has no column '{col}' (columns: {list(table.columns)}).")
    s = table[score].astype(float)
    r = table[revenue].astype(float)
    bad = s.isna() | r.isna()
    if bad.any():
        raise ValueError(f"missing '{score}' or '{revenue}' at rows {list(table.index[bad][:5])} "
                         f"({int(bad.sum())} in all); fill or drop them first.")
    if score_threshold is None:
        is_nps = table.attrs.get("score_name") == "nps" or score == "nps"
        score_threshold = NPS_HIGH if is_nps else float(np.median(s))
    if revenue_threshold is None:
        revenue_threshold = float(np.median(r))

    out = table.copy()
    out["score_high"] = (s >= score_threshold).to_numpy()
    out["revenue_high"] = (r > revenue_threshold).to_numpy()
    label = np.select(
        [out["score_high"] & out["revenue_high"], out["score_high"] & ~out["revenue_high"],
         ~out["score_high"] & out["revenue_high"]],
        QUADRANTS[:3], default=QUADRANTS[3])
    out["quadrant"] = pd.Categorical(label, categories=QUADRANTS)
    out["score_threshold"] = float(score_threshold)
    out["revenue_threshold"] = float(revenue_threshold)
    out.attrs.update({"score_threshold": float(score_threshold),
                      "revenue_threshold": float(revenue_threshold),
                      "score_column": score, "revenue_column": revenue})
    return out


def quadrant_summary(q: pd.DataFrame, *, revenue: str | None = None) -> pd.DataFrame:
    """Count, revenue and shares per quadrant (all four, empty ones as zero).

    Parameters
    ----------
    q : DataFrame
        Output of :func:`assign_quadrants`.
    revenue : str, optional
        Revenue column; default the one used to assign the quadrants (else ``revenue_pre``).

    Returns
    -------
    DataFrame
        ``quadrant, n_customers, share_customers, revenue, share_revenue``.

    Examples
    --------
    >>> t = pd.DataFrame({"score": [9, 9, 3], "revenue_pre": [100, 0, 300]})
    >>> q = assign_quadrants(t, score_threshold=7, revenue_threshold=50)
    >>> quadrant_summary(q)["n_customers"].tolist()
    [1, 1, 1, 0]
    """
    if "quadrant" not in q.columns:
        raise KeyError("no 'quadrant' column; pass the output of assign_quadrants.")
    revenue = revenue or q.attrs.get("revenue_column", "revenue_pre")
    quad = pd.Categorical(q["quadrant"], categories=QUADRANTS)
    g = pd.DataFrame({"quadrant": quad, "rev": q[revenue].astype(float).to_numpy()})
    agg = g.groupby("quadrant", observed=False)["rev"].agg(n_customers="size", revenue="sum")
    agg = agg.reindex(QUADRANTS).fillna(0)
    n_tot, rev_tot = agg["n_customers"].sum(), agg["revenue"].sum()
    out = pd.DataFrame({
        "quadrant": QUADRANTS,
        "n_customers": agg["n_customers"].astype(int).to_numpy(),
        "share_customers": (agg["n_customers"] / n_tot).to_numpy() if n_tot else 0.0,
        "revenue": agg["revenue"].astype(float).to_numpy(),
        "share_revenue": (agg["revenue"] / rev_tot).to_numpy() if rev_tot else 0.0,
    })
    return out
