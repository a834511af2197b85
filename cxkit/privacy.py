"""The privacy floor: no estimate for a group of fewer than ``min_n`` responses.

One helper, used by the dashboards, the reports' summary and the exported CSV: a row whose
count is below the floor keeps its labels and its count, and every estimate in it becomes
missing (tables, Parquet) or the words "too few responses" (what people read).
The floor is ``dashboard.min_n`` of the run YAML (default 30).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: Default privacy floor: fewer responses than this and no estimate is shown.
MIN_N = 30
#: What replaces an estimate below the floor.
TOO_FEW = "too few responses"
#: Count columns recognised by :func:`apply_min_n` when ``n_col`` is not given, in order.
COUNT_COLUMNS = ("n", "performance_n", "customers", "n_customers", "n_responses")

_ASSOCIATION = ("mean_with", "mean_without", "diff", "diff_low", "diff_high")
#: Tables of estimates per group, saved with the floor (:meth:`cxkit.rundir.Run.save_table`):
#: table name -> (count column, or several whose smallest counts, estimate columns; None =
#: every numeric column but the count).
#: A table named ``<kind>_by_segment`` (the headline score) is floored on ``n`` too. Model
#: inputs, per-customer tables (quadrants, at_risk), draws and whole-population tables
#: (funnel) are not group estimates and are saved as they are.
FLOORED_TABLES: dict[str, tuple[str | tuple[str, ...], tuple[str, ...] | None]] = {
    "journey_gaps": ("n", ("mean_gap", "share_met", "share_met_low", "share_met_high")),
    "topic_prevalence": ("n", ("mentions", "share_mean", "share_low", "share_high")),
    "driver_importance": ("n", None),
    "topic_driver_importance": ("n", None),
    "olist_driver_importance": ("n", None),
    "importance_performance": ("performance_n", None),
    "revenue_at_risk": ("customers", ("revenue_at_risk_mean", "revenue_at_risk_low",
                                      "revenue_at_risk_high")),
    "cohort_retention": ("cohort_size", ("active", "retention")),
    # topic mentioners vs the others: both groups must reach the floor
    "topic_association": (("n_with", "n_without"), _ASSOCIATION),
    "olist_topic_association": (("n_with", "n_without"), _ASSOCIATION),
}

__all__ = ["MIN_N", "TOO_FEW", "FLOORED_TABLES", "apply_min_n", "min_n_of", "count_column",
           "floor_for_table"]


def count_column(table: pd.DataFrame) -> str | None:
    """The first column of ``table`` named in :data:`COUNT_COLUMNS`, or None."""
    return next((c for c in COUNT_COLUMNS if c in table.columns), None)


def min_n_of(manifest: Mapping[str, Any] | Any | None) -> int:
    """The floor a run was made with: ``parameters.dashboard.min_n`` of its manifest (a
    :class:`cxkit.rundir.Manifest` or its JSON), else :data:`MIN_N`.

    Examples
    --------
    >>> min_n_of({"parameters": {"dashboard": {"min_n": 50}}})
    50
    >>> min_n_of({})
    30
    """
    if hasattr(manifest, "parameters"):  # a cxkit.rundir.Manifest
        manifest = {"parameters": manifest.parameters}
    try:
        value = (manifest or {})["parameters"]["dashboard"]["min_n"]
    except (KeyError, TypeError):
        return MIN_N
    return int(value) if value is not None else MIN_N


def apply_min_n(table: pd.DataFrame, n_col: str | None = None, min_n: int = MIN_N, *,
                estimates: Sequence[str] | None = None, as_text: bool = False
                ) -> pd.DataFrame:
    """Hide every estimate of the rows with fewer than ``min_n`` responses.

    Parameters
    ----------
    table : DataFrame
        Any tidy table with a count column (one row per group).
    n_col : str, optional
        The count column; default the first of :data:`COUNT_COLUMNS` present.
    min_n : int
        The floor (a group of exactly ``min_n`` is shown).
    estimates : list of str, optional
        Columns to hide; default every numeric column except the count.
    as_text : bool
        False (tables, Parquet, CSV): hidden cells become missing and a ``note`` column says
        "too few responses". True (HTML, dashboards): hidden cells read "too few responses".

    Returns
    -------
    DataFrame
        A copy; the input is not changed.

    Raises
    ------
    KeyError
        When no count column is found: the floor cannot be applied, so nothing is shown.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["a", "b"], "n": [40, 3], "nps": [12.0, 80.0]})
    >>> apply_min_n(t)["nps"].tolist()
    [12.0, nan]
    >>> apply_min_n(t, as_text=True)["nps"].tolist()
    [12.0, 'too few responses']
    """
    n_col = n_col or count_column(table)
    if n_col is None or n_col not in table.columns:
        raise KeyError(f"no count column ({n_col or ', '.join(COUNT_COLUMNS)}) in a table "
                       f"with columns {list(table.columns)}: the privacy floor of {min_n} "
                       f"responses cannot be checked, so the table must not be shown. Add "
                       f"the number of responses per row.")
    out = table.copy()
    small = (pd.to_numeric(out[n_col], errors="coerce").fillna(0) < min_n).to_numpy()
    if estimates is None:
        estimates = [c for c in out.columns
                     if c != n_col and pd.api.types.is_numeric_dtype(out[c])
                     and not pd.api.types.is_bool_dtype(out[c])]
    estimates = [c for c in estimates if c in out.columns]
    if as_text:
        for c in estimates:
            if small.any():
                out[c] = out[c].astype(object)
                out.loc[small, c] = TOO_FEW
        return out
    for c in estimates:
        if small.any():
            out[c] = out[c].astype(float)
            out.loc[small, c] = np.nan
    before = out["note"].fillna("").astype(str) if "note" in out else ""
    out["note"] = np.where(small, TOO_FEW, before)
    return out


def floor_for_table(name: str, table: pd.DataFrame, min_n: int = MIN_N) -> pd.DataFrame:
    """``table`` with the privacy floor applied if ``name`` is a table of group estimates
    (:data:`FLOORED_TABLES`, or ``<kind>_by_segment``); other tables come back unchanged.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["All", "tiny"], "n": [400, 4], "nps_mean": [20.0, 60.0]})
    >>> floor_for_table("nps_by_segment", t)[["n", "nps_mean", "note"]].values.tolist()
    [[400, 20.0, ''], [4, nan, 'too few responses']]
    >>> floor_for_table("quadrants", t) is t
    True
    """
    if name in FLOORED_TABLES:
        n_col, estimates = FLOORED_TABLES[name]
    elif name.endswith("_by_segment"):
        n_col, estimates = "n", None
    else:
        return table
    counts = [n_col] if isinstance(n_col, str) else list(n_col)
    lacking = [c for c in counts if c not in table.columns]
    if lacking:
        raise KeyError(f"table {name!r} is saved with the privacy floor, which needs its "
                       f"count column {lacking[0]!r}; it has {list(table.columns)}. Keep the "
                       f"count per row in the table (cxkit.privacy.FLOORED_TABLES).")
    if len(counts) == 1:
        return apply_min_n(table, counts[0], min_n, estimates=estimates)
    smallest = "__smallest_n"
    out = apply_min_n(table.assign(**{smallest: table[counts].min(axis=1)}), smallest, min_n,
                      estimates=[c for c in estimates or table.select_dtypes("number").columns
                                 if c not in counts])
    return out.drop(columns=smallest)
