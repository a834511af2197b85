"""Expectation gaps by segment: n, mean and median gap and the share of rules met, with the
94% HDI of a Beta(1 + met, 1 + not met) posterior (:func:`cxkit.stats.beta_hdi`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxkit._checks import MISSING_SEGMENT
from cxkit.stats import beta_hdi

from cxkit.journeys.base import (
    GAP_STAT_COLUMNS,
    JOURNEY_GAPS_COLUMNS,
    _require,
)


# ---------------------------------------------------------------------------------------
# gaps
# ---------------------------------------------------------------------------------------

def _gap_stats(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """n, mean/median gap, share met with its 94% HDI (Beta(1, 1) prior), per group."""
    met = df["met"]
    df = df.assign(_met=met.eq(True).fillna(False).astype("int64"), _rated=met.notna().astype("int64"))
    g = df.groupby(keys, sort=True, dropna=False)
    out = g.agg(n=("gap", "size"), mean_gap=("gap", "mean"), median_gap=("gap", "median"),
                n_met=("_met", "sum"), _rated=("_rated", "sum"),
                unit=("unit", lambda u: ", ".join(sorted(map(str, pd.unique(u.dropna()))))))
    out = out.reset_index()
    out["n"] = out["n"].astype("int64")
    out["n_met"] = out["n_met"].astype("int64")
    rated = out.pop("_rated").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share_met"] = np.where(rated > 0, out["n_met"] / rated, np.nan)
    if len(out):
        lo, hi = beta_hdi(1 + out["n_met"].to_numpy(), 1 + rated - out["n_met"].to_numpy())
    else:
        lo = hi = np.array([], dtype=float)
    out["share_met_low"] = lo
    out["share_met_high"] = hi
    return out[keys + GAP_STAT_COLUMNS]


_GAP_COLUMNS = ["customer_id", "touchpoint", "rule", "gap", "unit", "met"]


def _gaps_with_segment(gaps: pd.DataFrame, customers: pd.DataFrame, segment: str,
                       touchpoint: str | Sequence[str] | None) -> pd.DataFrame:
    _require(gaps, _GAP_COLUMNS, "gaps")
    _require(customers, ["customer_id", segment], "customers")
    g = gaps[_GAP_COLUMNS]
    if touchpoint is not None:
        wanted = [touchpoint] if isinstance(touchpoint, str) else list(touchpoint)
        g = g.loc[g["touchpoint"].isin(wanted)]
    seg = customers[["customer_id", segment]].drop_duplicates("customer_id")
    seg = seg.rename(columns={segment: "_segment"})
    g = g.merge(seg, on="customer_id", how="left")
    # gaps of customers without a segment are kept, under a visible label
    g["_segment"] = g["_segment"].astype(object).where(g["_segment"].notna(), MISSING_SEGMENT)
    g["_segment"] = g["_segment"].astype(str)
    return g


def gap_by_segment(gaps: pd.DataFrame, customers: pd.DataFrame, *, segment: str,
                   touchpoint: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Service gaps per touchpoint, rule and customer segment, with share met and its HDI.

    Parameters
    ----------
    gaps : DataFrame
        Ingested gaps; needs ``customer_id, touchpoint, rule, gap, unit, met``.
    customers : DataFrame
        Ingested customers; needs ``customer_id`` and the ``segment`` column.
    segment : str
        Segment column of ``customers`` (``"region"``, ``"channel"``, ``"plan"``, ...).
        Gaps of customers missing from ``customers`` are reported under ``"(missing)"`` (as missing segment values).
    touchpoint : str or list of str, optional
        Only these touchpoints. Default: all.

    Returns
    -------
    DataFrame
        ``touchpoint, rule, <segment>, n, mean_gap, median_gap, n_met, share_met,
        share_met_low, share_met_high, unit``. ``share_met`` is the observed share of met
        rows among rows with a known ``met``; low/high are the 94% highest-density interval
        of its Beta(1 + met, 1 + not met) posterior (flat prior, scipy, no sampling).

    Examples
    --------
    >>> gaps = pd.DataFrame({"customer_id": [1, 2], "touchpoint": "delivery",
    ...                      "rule": "on_time", "gap": [2.0, -1.0], "unit": "days",
    ...                      "met": [False, True]})
    >>> cu = pd.DataFrame({"customer_id": [1, 2], "region": ["North", "North"]})
    >>> gap_by_segment(gaps, cu, segment="region")[["region", "n", "share_met"]].values.tolist()
    [['North', 2, 0.5]]
    """
    g = _gaps_with_segment(gaps, customers, segment, touchpoint)
    out = _gap_stats(g, ["touchpoint", "rule", "_segment"])
    return out.rename(columns={"_segment": segment})


def journey_gaps_table(gaps: pd.DataFrame, customers: pd.DataFrame, *,
                       segments: Sequence[str] = (),
                       overall: bool = True) -> pd.DataFrame:
    """The published ``tables/journey_gaps.parquet``: gap stats for several segmentations.

    Parameters
    ----------
    gaps, customers : DataFrame
        As in :func:`gap_by_segment`.
    segments : sequence of str
        Segment columns of ``customers``, stacked long-form.
    overall : bool
        Also add one row per touchpoint and rule over all customers
        (``segment_var="overall"``, ``segment_value="all"``), after the segments.

    Returns
    -------
    DataFrame
        ``touchpoint, rule, segment_var, segment_value, n, mean_gap, share_met,
        share_met_low, share_met_high, unit``, by touchpoint and rule, then segment
        variable in the order given, ``overall`` last.

    Examples
    --------
    >>> gaps = pd.DataFrame({"customer_id": [1, 2], "touchpoint": "delivery",
    ...                      "rule": "on_time", "gap": [2.0, -1.0], "unit": "days",
    ...                      "met": [False, True]})
    >>> cu = pd.DataFrame({"customer_id": [1, 2], "region": ["North", "South"]})
    >>> journey_gaps_table(gaps, cu, segments=["region"])["segment_value"].tolist()
    ['North', 'South', 'all']
    """
    if isinstance(segments, str):
        segments = (segments,)
    _require(gaps, _GAP_COLUMNS, "gaps")
    _require(customers, ["customer_id", *segments], "customers")
    parts = []
    for seg in segments:  # a handful of segment columns
        g = _gaps_with_segment(gaps, customers, seg, None)
        parts.append(_gap_stats(g, ["touchpoint", "rule", "_segment"]).assign(segment_var=seg))
    if overall:
        # last, so readers that default to the first segment_var show a real segmentation
        g = gaps[_GAP_COLUMNS].assign(_segment="all")
        parts.append(_gap_stats(g, ["touchpoint", "rule", "_segment"])
                     .assign(segment_var="overall"))
    out = pd.concat(parts, ignore_index=True).rename(columns={"_segment": "segment_value"})
    if out.empty:
        out = out.astype({"segment_var": object, "segment_value": object})
    out = out.sort_values(["touchpoint", "rule"], kind="stable", ignore_index=True)
    return out[JOURNEY_GAPS_COLUMNS]
