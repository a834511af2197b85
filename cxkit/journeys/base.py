"""Shared ground of the journey analytics: table columns, the stage order, input checks
and the reading of the ingested ``journeys`` table (``_journeys``) that the transition,
path and Sankey functions share (journeys are built once, in :mod:`cxkit.ingest.journeys`).

The analytics themselves live in :mod:`~cxkit.journeys.paths` (funnel, durations,
transitions, top paths, Sankey links), :mod:`~cxkit.journeys.cohorts` (cohort retention)
and :mod:`~cxkit.journeys.gaps` (gaps by segment); :mod:`cxkit.journeys` exports them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxkit._checks import require_columns

#: Journey stages in catalog order; stages not listed here are appended in first-seen order.
STAGE_ORDER: tuple[str, ...] = (
    "awareness", "consideration", "purchase", "delivery", "onboarding",
    "usage", "support", "feedback", "renewal",
)

START, END = "start", "end"
_LEVELS = ("stage", "touchpoint")

FUNNEL_COLUMNS = ["stage", "step", "customers", "reached", "share_of_first",
                  "conversion_from_previous", "fallout", "fallout_share"]
#: Stages customers visit only when something happens: left out of the default funnel.
SIDE_STAGES: tuple[str, ...] = ("support", "feedback")
TRANSITION_COLUMNS = ["from", "to", "count", "prob"]
PATH_COLUMNS = ["path", "customers", "share"]
SANKEY_COLUMNS = ["source", "target", "value"]
RETENTION_COLUMNS = ["cohort", "period_index", "active", "cohort_size", "observed", "retention",
                     "signed_up"]
GAP_STAT_COLUMNS = ["n", "mean_gap", "median_gap", "n_met", "share_met", "share_met_low",
                    "share_met_high", "unit"]
JOURNEY_GAPS_COLUMNS = ["touchpoint", "rule", "segment_var", "segment_value", "n", "mean_gap",
                        "share_met", "share_met_low", "share_met_high", "unit"]


# ---------------------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------------------

def _require(data: pd.DataFrame, columns: Iterable[str], table: str) -> None:
    """Raise a ValueError naming every required column that ``data`` lacks."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{table} must be a pandas DataFrame, got {type(data).__name__}")
    require_columns(data, list(columns), table=table,
                    hint=f"Pass the `{table}` table written by cxkit.ingest (see "
                         "docs/ARCHITECTURE.md) or rename your columns to match.")


def _check_level(level: str) -> None:
    if level not in _LEVELS:
        raise ValueError(f"level must be one of {list(_LEVELS)}, got {level!r}")


def _ts_int(ts: pd.Series) -> np.ndarray:
    """Timestamps as int64 nanoseconds since the epoch (UTC), for fast numeric sorting."""
    if not pd.api.types.is_datetime64_any_dtype(ts.dtype):
        ts = pd.to_datetime(ts, utc=True, format="mixed")
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return ts.to_numpy().astype("datetime64[ns]").view("int64")


def _stage_order(stages) -> list[str]:
    """Catalog stages present, in catalog order, then the others by name."""
    present = {str(s) for s in pd.unique(np.asarray(stages, dtype=object)) if s is not None}
    return [s for s in STAGE_ORDER if s in present] + sorted(present - set(STAGE_ORDER))


class _Journeys(NamedTuple):
    """Journey steps in order, as integer codes (fast to compare, count and group)."""

    customer: np.ndarray   # customer code; each customer's steps are contiguous
    state: np.ndarray      # index into ``states``
    step: np.ndarray       # 0-based position in the customer's journey
    states: list[str]      # state labels in display (journey) order


_SEQUENCE = {"stage": "event_stages", "touchpoint": "touchpoint_sequence"}


def _lists(data: pd.DataFrame, level: str) -> tuple[pa.ListArray, pa.ListArray]:
    """(states of ``level``, stages) per customer, one entry per event, from the ingested
    ``journeys`` table or, given ``events``, built the way ingestion builds them."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"journeys must be a pandas DataFrame, got {type(data).__name__}")
    if "touchpoint_sequence" not in data.columns:
        from cxkit.ingest.journeys import journeys_from_events

        table = journeys_from_events(data)
        return table[_SEQUENCE[level]].combine_chunks(), table["event_stages"].combine_chunks()
    require_columns(data, ["customer_id", "touchpoint_sequence", "event_stages"],
                    table="journeys", hint="Pass the `journeys` table written by cxkit.ingest "
                    "(one written before `event_stages` existed: ingest again, or pass the "
                    "`events` table).")
    stages = pa.array(data["event_stages"], pa.list_(pa.string()))
    states = stages if level == "stage" else pa.array(data["touchpoint_sequence"],
                                                      pa.list_(pa.string()))
    return states, stages


def _codes(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(integer code per value, -1 for null; the distinct labels as strings)."""
    if not pa.types.is_dictionary(values.type):
        values = pc.cast(values, pa.string()).dictionary_encode()
    idx = values.indices.to_numpy(zero_copy_only=False)
    codes = np.where(np.asarray(values.is_valid()), np.nan_to_num(idx, nan=-1), -1).astype("int64")
    return codes, np.asarray(pc.cast(values.dictionary, pa.string()).to_pylist(), dtype=object)


def _journeys(data: pd.DataFrame, level: str, collapse_repeats: bool) -> _Journeys:
    """Each customer's states in journey order (:mod:`cxkit.ingest.journeys`: by time, ties
    by source, row in the source and touchpoint), read from the ``journeys`` table.

    Display order of the states: stages in catalog order, then others by name; touchpoints
    by the catalog rank of their stage, then by name.  Events without a stage are left out
    at stage level.
    """
    lists, stage_lists = _lists(data, level)
    cust = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype("int64")
    lab, lab_names = _codes(pc.list_flatten(lists))
    stg, stg_names = _codes(pc.list_flatten(stage_lists))
    ok = lab >= 0
    lab, stg, c = lab[ok], stg[ok], cust[ok]
    present = np.unique(stg[stg >= 0])
    rank = {s: i for i, s in enumerate(_stage_order(stg_names[present]))}
    if level == "stage":
        states = list(rank)
    else:
        # each touchpoint after the earliest stage (in catalog order) it is seen in
        stg_rank = np.array([rank.get(x, len(rank)) for x in stg_names] + [len(rank)],
                            dtype="int64")
        pairs = np.unique(np.c_[lab, stg_rank[stg]], axis=0)
        first = pd.DataFrame({"label": lab_names[pairs[:, 0]], "rank": pairs[:, 1]})
        states = (first.groupby("label")["rank"].min().reset_index()
                  .sort_values(["rank", "label"])["label"].tolist())
    to_state = {x: i for i, x in enumerate(states)}
    s = np.array([to_state.get(x, -1) for x in lab_names], dtype="int64")[lab]
    new = np.r_[True, c[1:] != c[:-1]] if len(c) else np.zeros(0, dtype=bool)
    if collapse_repeats:
        # a repeat only collapses within one customer's journey
        keep = new | np.r_[True, s[1:] != s[:-1]] if len(c) else new
        c, s, new = c[keep], s[keep], new[keep]
    idx = np.arange(len(c))
    step = idx - np.maximum.accumulate(np.where(new, idx, 0))
    return _Journeys(c, s, step, states)
