"""Shared ground of the journey analytics: table columns, the stage order, input checks
and the one reconstruction of journeys from events (``_journeys``) that the funnel, path
and transition functions read.

The analytics themselves live in :mod:`~cxkit.journeys.paths` (funnel, durations,
transitions, top paths, Sankey links), :mod:`~cxkit.journeys.cohorts` (cohort retention)
and :mod:`~cxkit.journeys.gaps` (gaps by segment); :mod:`cxkit.journeys` exports them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd

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


def _stage_order(stages: np.ndarray, ts: np.ndarray) -> list[str]:
    """Catalog stages present, in catalog order, then unknown stages as first seen
    (earliest event; ties by name, so the order never depends on row order)."""
    first = pd.DataFrame({"stage": stages, "ts": ts}).groupby("stage")["ts"].min()
    known = [s for s in STAGE_ORDER if s in first.index]
    unknown = first.drop(known).reset_index().sort_values(["ts", "stage"])["stage"]
    return known + unknown.tolist()


def _state_order(labels: np.ndarray, ts: np.ndarray, stages: np.ndarray | None) -> list[str]:
    """Display order of states. Stages: catalog order. Touchpoints (``stages`` given): by
    the catalog rank of the stage of their earliest event, then first seen, then name."""
    if stages is None:
        return _stage_order(labels, ts)
    rank = {s: i for i, s in enumerate(_stage_order(stages, ts))}
    df = pd.DataFrame({"label": labels, "ts": ts,
                       "rank": pd.Series(stages).map(rank).to_numpy()})
    first = df.sort_values(["ts", "rank"], kind="stable").drop_duplicates("label")
    return first.sort_values(["rank", "ts", "label"])["label"].tolist()


class _Journeys(NamedTuple):
    """Journey steps in order, as integer codes (fast to compare, count and group)."""

    customer: np.ndarray   # customer code; each customer's steps are contiguous
    state: np.ndarray      # index into ``states``
    step: np.ndarray       # 0-based position in the customer's journey
    states: list[str]      # state labels in display (journey) order


def _journeys(events: pd.DataFrame, level: str, collapse_repeats: bool) -> _Journeys:
    """Each customer's states ordered by ``event_ts``, ties broken by ``event_id``.

    Rows without a customer, state or time cannot sit in a journey and are left out.
    Sorting integer codes with numpy is an order of magnitude faster than sorting the
    string columns; ``event_id`` strings are compared only for rows that tie on time.
    """
    ok = events["customer_id"].notna() & events[level].notna() & events["event_ts"].notna()
    ev = events.loc[ok]
    cust = pd.factorize(ev["customer_id"])[0]
    ts = _ts_int(ev["event_ts"])
    order = np.lexsort((ts, cust))
    c, t = cust[order], ts[order]
    tie = (c[1:] == c[:-1]) & (t[1:] == t[:-1])
    if tie.any():
        tied = np.r_[tie, False] | np.r_[False, tie]
        key = np.zeros(len(order))
        key[tied] = pd.Series(ev["event_id"].to_numpy()[order[tied]]).rank(method="first")
        order = order[np.lexsort((key, t, c))]
        c = cust[order]
    labels = ev[level].astype(str).to_numpy()
    stages = (ev["stage"].astype(str).to_numpy()
              if level == "touchpoint" and "stage" in ev.columns else None)
    states = _state_order(labels, ts, stages)
    s = pd.Categorical(labels, categories=states).codes.astype("int64")[order]
    new = np.r_[True, c[1:] != c[:-1]] if len(c) else np.zeros(0, dtype=bool)
    if collapse_repeats:
        # a repeat only collapses within one customer's journey
        keep = new | np.r_[True, s[1:] != s[:-1]] if len(c) else new
        c, s, new = c[keep], s[keep], new[keep]
    idx = np.arange(len(c))
    step = idx - np.maximum.accumulate(np.where(new, idx, 0))
    return _Journeys(c, s, step, states)
