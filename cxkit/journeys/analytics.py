"""Journey analytics on ingested tables: funnels, transitions, paths, cohorts, gaps.

Every function takes a tidy table from ``cxkit.ingest`` first (``events``, ``customers``,
``gaps``; schemas in docs/ARCHITECTURE.md), keyword-only options after, and returns a
long-form pandas DataFrame with a fixed set of columns, also when the input is empty.

The work is vectorised (sort once, then ``shift`` / ``groupby`` / numpy), so a million
events take seconds; there are no per-customer Python loops.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from cxkit._checks import MISSING_SEGMENT, require_columns
from cxkit.stats import beta_hdi

__all__ = [
    "STAGE_ORDER",
    "stage_funnel",
    "stage_durations",
    "transition_matrix",
    "top_paths",
    "sankey_links",
    "cohort_retention",
    "retention_matrix",
    "gap_by_segment",
    "journey_gaps_table",
]

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


# ---------------------------------------------------------------------------------------
# funnel
# ---------------------------------------------------------------------------------------

def stage_funnel(events: pd.DataFrame, *, stages: Sequence[str] | None = None) -> pd.DataFrame:
    """Customers passing each journey stage in turn, with conversion and fall-out.

    A customer *is in* step ``k`` of the funnel when they have events in stage ``k`` **and in
    every stage before it** (in any order). So no step can hold more customers than the step
    before it, and ``fallout`` (customers in the previous step but not this one) is exactly
    the difference between consecutive steps. Customers who joined a stage mid-way (e.g. a
    purchase without a recorded visit) are counted in ``reached`` but not in the funnel.

    Parameters
    ----------
    events : DataFrame
        Ingested events; needs ``customer_id`` and ``stage`` (``event_ts``/``event_id``
        only to order unknown stages by first appearance).
    stages : list of str, optional
        Stages forming the funnel, in this order. Default: the stages present, in catalog
        order (:data:`STAGE_ORDER`), unknown stages appended in first-seen order, leaving out
        the side stages in :data:`SIDE_STAGES` (support, feedback), which customers visit
        only when something happens and so are not steps of a progression.

    Returns
    -------
    DataFrame
        One row per stage: ``stage``, ``step`` (1-based), ``customers`` (in the funnel at
        this step), ``reached`` (with any event in the stage), ``share_of_first``
        (customers / customers at the first step), ``conversion_from_previous``,
        ``fallout`` and ``fallout_share`` (fallout / customers at the previous step).
        Ratios are NaN where undefined (first step, or an empty previous step).

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": [1, 1, 2, 3], "stage": ["awareness", "purchase",
    ...                    "awareness", "purchase"]})
    >>> stage_funnel(ev)[["stage", "customers", "reached", "fallout"]].values.tolist()
    [['awareness', 2, 2, 0], ['purchase', 1, 2, 1]]
    """
    _require(events, ["customer_id", "stage"], "events")
    ev = events.loc[events["customer_id"].notna() & events["stage"].notna()]
    if stages is None:
        ts = (_ts_int(ev["event_ts"]) if "event_ts" in ev.columns
              else np.arange(len(ev)))  # no times: first seen = first in the table
        order = [s for s in _stage_order(ev["stage"].astype(str).to_numpy(), ts)
                 if s not in SIDE_STAGES]
    else:
        order = [str(s) for s in stages]
        if len(set(order)) != len(order):
            raise ValueError(f"stages must be unique, got {order}")
    n_stages = len(order)
    if n_stages == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            FUNNEL_COLUMNS, ["object", "int64", "int64", "int64", "float64", "float64",
                             "int64", "float64"])})

    # boolean customer x stage matrix: reached[c, s]; in the funnel = reached all so far
    # stages outside the funnel (side stages) get -1
    stage_code = (ev["stage"].astype(str).map({st: i for i, st in enumerate(order)})
                  .fillna(-1).to_numpy(dtype="int64"))
    in_funnel = stage_code >= 0
    cust_code, _ = pd.factorize(ev["customer_id"].to_numpy()[in_funnel])
    reached = np.zeros((cust_code.max() + 1 if len(cust_code) else 0, n_stages), dtype=bool)
    reached[cust_code, stage_code[in_funnel]] = True
    passed = np.logical_and.accumulate(reached, axis=1)

    customers = passed.sum(axis=0).astype("int64")
    fallout = np.zeros(n_stages, dtype="int64")
    fallout[1:] = customers[:-1] - customers[1:]
    prev = np.r_[np.nan, customers[:-1]].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_first = customers / customers[0] if customers[0] else np.full(n_stages, np.nan)
        conversion = np.where(prev > 0, customers / prev, np.nan)
        fallout_share = np.where(prev > 0, fallout / prev, np.nan)
    return pd.DataFrame({
        "stage": order,
        "step": np.arange(1, n_stages + 1, dtype="int64"),
        "customers": customers,
        "reached": reached.sum(axis=0).astype("int64"),
        "share_of_first": np.asarray(share_first, dtype=float),
        "conversion_from_previous": conversion,
        "fallout": fallout,
        "fallout_share": fallout_share,
    })


def stage_durations(events: pd.DataFrame, *, stages: Sequence[str] | None = None,
                    unit: str = "days") -> pd.DataFrame:
    """Time between consecutive funnel stages: from a customer's first event in one stage to
    their first event in the next, for customers with both (and the next one later).

    Parameters
    ----------
    events : DataFrame
        Ingested events; needs ``customer_id, stage, event_ts``.
    stages : list of str, optional
        Stages in order; default as in :func:`stage_funnel`.
    unit : {"days", "hours"}

    Returns
    -------
    DataFrame
        ``from_stage, to_stage, customers, median, p25, p75, unit``.

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": [1, 1], "stage": ["awareness", "purchase"],
    ...                    "event_ts": pd.to_datetime(["2024-01-01", "2024-01-03"], utc=True)})
    >>> stage_durations(ev)[["from_stage", "to_stage", "median"]].values.tolist()
    [['awareness', 'purchase', 2.0]]
    """
    _require(events, ["customer_id", "stage", "event_ts"], "events")
    scale = {"days": 86_400e9, "hours": 3_600e9}.get(unit)
    if scale is None:
        raise ValueError(f"unit must be 'days' or 'hours', got {unit!r}")
    order = stage_funnel(events, stages=stages)["stage"].tolist()
    ev = events.loc[events["customer_id"].notna() & events["stage"].isin(order)
                    & events["event_ts"].notna()]
    first = (pd.DataFrame({"c": ev["customer_id"].to_numpy(), "s": ev["stage"].to_numpy(),
                           "t": _ts_int(ev["event_ts"])})
             .groupby(["c", "s"])["t"].min().unstack())
    rows = []
    for a, b in zip(order[:-1], order[1:]):
        if a in first.columns and b in first.columns:
            d = (first[b] - first[a]).dropna()
            d = d[d >= 0] / scale
        else:
            d = pd.Series(dtype=float)
        q = d.quantile([0.25, 0.5, 0.75]) if len(d) else pd.Series([np.nan] * 3,
                                                                   index=[.25, .5, .75])
        rows.append({"from_stage": a, "to_stage": b, "customers": int(len(d)),
                     "median": float(q[0.5]), "p25": float(q[0.25]), "p75": float(q[0.75]),
                     "unit": unit})
    return pd.DataFrame(rows, columns=["from_stage", "to_stage", "customers", "median", "p25",
                                       "p75", "unit"])


# ---------------------------------------------------------------------------------------
# transitions, paths, sankey
# ---------------------------------------------------------------------------------------

def transition_matrix(events: pd.DataFrame, *, level: str = "stage", normalize: bool = True,
                      collapse_repeats: bool = True) -> pd.DataFrame:
    """Counts of moves between consecutive journey states, with ``start``/``end`` states.

    Each customer's events are ordered by ``event_ts`` (ties by ``event_id``); the journey
    begins at the synthetic state ``start`` and finishes at ``end``.

    Parameters
    ----------
    events : DataFrame
        Ingested events; needs ``customer_id, event_ts, event_id`` and the ``level`` column.
    level : {"stage", "touchpoint"}
        Which column defines a state.
    normalize : bool
        True: ``prob`` is P(to | from), each ``from`` row sums to 1. False: ``prob`` is
        the share of all transitions (the whole table sums to 1).
    collapse_repeats : bool
        Merge consecutive events in the same state into one visit (no self-loops).

    Returns
    -------
    DataFrame
        Tidy ``from, to, count, prob``, rows ordered by ``from`` then ``to`` in journey
        order (``start``, stages in catalog order, ``end``).

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": [1, 1], "event_id": [1, 2],
    ...                    "event_ts": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
    ...                    "stage": ["awareness", "purchase"]})
    >>> transition_matrix(ev)[["from", "to", "count"]].values.tolist()
    [['start', 'awareness', 1], ['awareness', 'purchase', 1], ['purchase', 'end', 1]]
    """
    _check_level(level)
    _require(events, ["customer_id", "event_ts", "event_id", level], "events")
    j = _journeys(events, level, collapse_repeats)
    if not len(j.state):
        return pd.DataFrame({"from": pd.Series(dtype=object), "to": pd.Series(dtype=object),
                             "count": pd.Series(dtype="int64"),
                             "prob": pd.Series(dtype="float64")})
    # codes: 0 = start, 1..k = states in journey order, k + 1 = end; so the flat index
    # of the (from, to) count matrix is already in display order
    m = len(j.states) + 2
    s = j.state + 1
    first = j.step == 0
    last = np.r_[first[1:], True]
    src = np.r_[np.where(first, 0, np.r_[0, s[:-1]]), s[last]]
    dst = np.r_[s, np.full(last.sum(), m - 1)]
    counts = np.bincount(src * m + dst, minlength=m * m)
    cell = np.flatnonzero(counts)
    f_idx, t_idx = np.divmod(cell, m)
    labels = np.array([START, *j.states, END], dtype=object)
    count = counts[cell].astype("int64")
    total = counts.reshape(m, m).sum(axis=1)[f_idx] if normalize else count.sum()
    return pd.DataFrame({"from": labels[f_idx], "to": labels[t_idx], "count": count,
                         "prob": count / total})


def top_paths(events: pd.DataFrame, *, level: str = "stage", n: int | None = 10,
              max_len: int | None = None, collapse_repeats: bool = True) -> pd.DataFrame:
    """Most common whole journeys, written ``"a > b > c"``.

    Parameters
    ----------
    events : DataFrame
        Ingested events; needs ``customer_id, event_ts, event_id`` and the ``level`` column.
    level : {"stage", "touchpoint"}
        Which column defines a step.
    n : int or None
        Number of paths to keep (None: all).
    max_len : int, optional
        Keep only the first ``max_len`` steps of each journey, so long tails with the same
        beginning count as one path.
    collapse_repeats : bool
        Merge consecutive events in the same state into one step.

    Returns
    -------
    DataFrame
        ``path, customers, share`` (share of all customers with a journey), most common
        first, ties broken alphabetically by path.

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": [1, 1, 2], "event_id": [1, 2, 3],
    ...                    "event_ts": pd.to_datetime(["2024-01-01"] * 3, utc=True),
    ...                    "stage": ["awareness", "purchase", "awareness"]})
    >>> top_paths(ev)["path"].tolist()
    ['awareness', 'awareness > purchase']
    """
    _check_level(level)
    _require(events, ["customer_id", "event_ts", "event_id", level], "events")
    if max_len is not None and max_len < 1:
        raise ValueError(f"max_len must be a positive integer or None, got {max_len!r}")
    j = _journeys(events, level, collapse_repeats)
    keep = j.step < max_len if max_len is not None else slice(None)
    step, state = j.step[keep], j.state[keep]
    if not len(step):
        return pd.DataFrame({"path": pd.Series(dtype=object),
                             "customers": pd.Series(dtype="int64"),
                             "share": pd.Series(dtype="float64")})
    # one string per customer: concatenate "a", " > b", ... within each journey in C
    # (np.add.reduceat) instead of a Python join per customer
    with_sep = np.array([" > " + x for x in j.states], dtype=object)
    bare = np.array(j.states, dtype=object)
    pieces = np.where(step == 0, bare[state], with_sep[state])
    paths = pd.Series(np.add.reduceat(pieces, np.flatnonzero(step == 0)))
    out = paths.value_counts().rename("customers").rename_axis("path").reset_index()
    out["customers"] = out["customers"].astype("int64")
    out["share"] = out["customers"] / len(paths)
    out = out.sort_values(["customers", "path"], ascending=[False, True], ignore_index=True)
    return out.head(n).reset_index(drop=True) if n is not None else out


def sankey_links(events: pd.DataFrame, *, level: str = "stage", max_steps: int = 5,
                 min_count: int = 1, collapse_repeats: bool = True) -> pd.DataFrame:
    """Step-indexed links between journey states, ready for a plotly/d3 Sankey.

    Node labels carry the step (``"1:awareness"``, ``"2:purchase"``) so the diagram stays
    acyclic even when customers return to a state.

    Parameters
    ----------
    events : DataFrame
        Ingested events; needs ``customer_id, event_ts, event_id`` and the ``level`` column.
    level : {"stage", "touchpoint"}
        Which column defines a node.
    max_steps : int
        Keep the first ``max_steps`` steps of each journey (links up to that step).
    min_count : int
        Drop links followed by fewer customers.
    collapse_repeats : bool
        Merge consecutive events in the same state into one step.

    Returns
    -------
    DataFrame
        ``source, target, value`` (customers following the link), by step then value
        (largest first).

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": [1, 1], "event_id": [1, 2],
    ...                    "event_ts": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
    ...                    "stage": ["awareness", "purchase"]})
    >>> sankey_links(ev).values.tolist()
    [['1:awareness', '2:purchase', 1]]

    To draw it: ``nodes = pd.unique(links[["source", "target"]].values.ravel())`` and
    ``plotly.graph_objects.Sankey(node={"label": nodes}, link={...})`` with indices.
    """
    _check_level(level)
    _require(events, ["customer_id", "event_ts", "event_id", level], "events")
    if max_steps < 2:
        raise ValueError(f"max_steps must be at least 2 to form a link, got {max_steps!r}")
    j = _journeys(events, level, collapse_repeats)
    keep = j.step < max_steps
    step, state, cust = j.step[keep], j.state[keep], j.customer[keep]
    linked = cust[:-1] == cust[1:]  # consecutive steps of the same customer
    k = len(j.states)
    key = (step[:-1][linked] * k + state[:-1][linked]) * k + state[1:][linked]
    if not len(key):
        return pd.DataFrame({"source": pd.Series(dtype=object),
                             "target": pd.Series(dtype=object),
                             "value": pd.Series(dtype="int64")})
    uniq, value = np.unique(key, return_counts=True)
    link_step, rest = np.divmod(uniq, k * k)
    a, b = np.divmod(rest, k)
    names = np.array(j.states, dtype=object)
    out = pd.DataFrame({
        "_step": link_step,
        "source": [f"{i + 1}:{x}" for i, x in zip(link_step, names[a])],  # links, not rows
        "target": [f"{i + 2}:{x}" for i, x in zip(link_step, names[b])],
        "value": value,
    })
    out = out.loc[out["value"] >= min_count]
    out["value"] = out["value"].astype("int64")
    out = out.sort_values(["_step", "value", "source", "target"],
                          ascending=[True, False, True, True], ignore_index=True)
    return out[SANKEY_COLUMNS]


# ---------------------------------------------------------------------------------------
# cohorts
# ---------------------------------------------------------------------------------------

def _ts_ordinals(ts: pd.Series, period: str) -> np.ndarray:
    """Period ordinals (months since epoch for "M", ...) of timestamps, taken in UTC."""
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        if pd.api.types.is_datetime64_any_dtype(ts.dtype):
            ts = ts.dt.tz_localize("UTC")  # the table contract says naive means UTC
        else:
            ts = pd.to_datetime(ts, utc=True, format="mixed")
    return ts.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period(period).array.asi8


def _cohort_anchor(values: pd.Series, period: str) -> tuple[pd.Series, np.ndarray] | None:
    """(label, start ordinal) per customer if the cohort column is time-like, else None.

    Datetime columns are binned to ``period`` and labelled by that period ("2024-01");
    strings that parse as periods/dates ("2024-01", "2024Q1") keep their own label.
    """
    if isinstance(values.dtype, pd.PeriodDtype):
        per = values.dt.asfreq(period, how="start")
        return per.astype(str), per.array.asi8
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        ords = _ts_ordinals(values, period)
        labels = pd.PeriodIndex.from_ordinals(ords, freq=period).astype(str)
        return pd.Series(labels, index=values.index), ords
    if not (pd.api.types.is_object_dtype(values.dtype)
            or pd.api.types.is_string_dtype(values.dtype)):
        return None
    parsed = {}
    for v in pd.unique(values.to_numpy()):  # a few distinct cohort labels, not customers
        try:
            parsed[v] = pd.Period(str(v)).asfreq(period, how="start").ordinal
        except (ValueError, TypeError):
            return None
    return values.astype(str), values.map(parsed).to_numpy(dtype="int64")


def cohort_retention(events: pd.DataFrame, customers: pd.DataFrame, *, cohort: str = "cohort",
                     period: str = "M",
                     activity_stages: Sequence[str] | None = None) -> pd.DataFrame:
    """Share of each cohort active in each period since the cohort started.

    Parameters
    ----------
    events : DataFrame
        Ingested events; needs ``customer_id, event_ts`` (and ``stage`` with
        ``activity_stages``).
    customers : DataFrame
        Ingested customers; needs ``customer_id`` and the ``cohort`` column. Every customer
        with a cohort counts in the cohort size, active or not.
    cohort : str
        Column of ``customers`` defining cohorts. If it is time-like (dates, or labels such
        as ``"2024-01"``), ``period_index`` counts periods since the cohort's start. Otherwise
        (e.g. ``"region"``) it counts periods since each customer's first activity.
    period : str
        Pandas period alias: ``"M"`` months, ``"W"`` weeks, ``"Q"`` quarters, ``"D"`` days.
    activity_stages : list of str, optional
        Only events in these stages count as activity (e.g. ``["usage", "purchase"]``).
        Default: any event.

    Each customer's period 0 is their first active period on or after the cohort's start
    (for a non-time cohort: their first activity), so period 0 is 100% by construction and a
    quarterly signup cohort read monthly does not count February signups as January drop-outs.

    Returns
    -------
    DataFrame
        Tidy ``cohort, period_index, active, cohort_size, observed, retention, signed_up``
        with every period from 0 to the last one the data covers (zero activity included).
        ``cohort_size``: customers who started (had any activity); ``observed``: those whose
        own period ``k`` lies within the data (late starters are not yet observed long);
        ``retention = active / observed``; ``signed_up``: every customer of the cohort,
        active or not. Activity before the cohort start is ignored; customers without a
        cohort value are left out.

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": [1, 1, 2],
    ...                    "event_ts": pd.to_datetime(["2024-01-05", "2024-02-03",
    ...                                                "2024-01-09"], utc=True)})
    >>> cu = pd.DataFrame({"customer_id": [1, 2], "cohort": ["2024-01", "2024-01"]})
    >>> cohort_retention(ev, cu)["retention"].tolist()
    [1.0, 0.5]
    """
    _require(events, ["customer_id", "event_ts"] + (["stage"] if activity_stages else []),
             "events")
    _require(customers, ["customer_id", cohort], "customers")
    cust = customers.loc[customers[cohort].notna(), ["customer_id", cohort]]
    cust = cust.drop_duplicates("customer_id").reset_index(drop=True)
    ev = events.loc[events["customer_id"].notna() & events["event_ts"].notna()]
    if activity_stages is not None:
        ev = ev.loc[ev["stage"].isin(list(activity_stages))]
    empty = pd.DataFrame({"cohort": pd.Series(dtype=object),
                          "period_index": pd.Series(dtype="int64"),
                          "active": pd.Series(dtype="int64"),
                          "cohort_size": pd.Series(dtype="int64"),
                          "observed": pd.Series(dtype="int64"),
                          "retention": pd.Series(dtype="float64"),
                          "signed_up": pd.Series(dtype="int64")})
    if cust.empty:
        return empty

    ev_ord = pd.DataFrame({"customer_id": ev["customer_id"].to_numpy(),
                           "ord": _ts_ordinals(ev["event_ts"], period) if len(ev)
                           else np.array([], dtype="int64")})
    data_end = int(ev_ord["ord"].max()) if len(ev_ord) else None
    anchor = _cohort_anchor(cust[cohort], period)
    if anchor is not None:
        labels, cohort_start = anchor
        cust = cust.assign(cohort_label=labels.to_numpy(), cohort_start=cohort_start)
    else:
        cust = cust.assign(cohort_label=cust[cohort].astype(str).to_numpy(),
                           cohort_start=np.iinfo("int64").min)
    # each customer's clock starts at their first activity on or after the cohort start,
    # so period 0 holds every customer who started: 100% by construction
    act = ev_ord.merge(cust[["customer_id", "cohort_label", "cohort_start"]],
                       on="customer_id")
    act = act.loc[act["ord"] >= act["cohort_start"]]
    start = act.groupby("customer_id")["ord"].min().rename("start")
    act = act.merge(start, left_on="customer_id", right_index=True)
    act["period_index"] = (act["ord"] - act["start"]).astype("int64")
    act = act.drop_duplicates(["customer_id", "period_index"])
    active = act.groupby(["cohort_label", "period_index"]).size().rename("active")

    signed_up = cust.groupby("cohort_label").size().rename("signed_up")
    started = cust.merge(start, left_on="customer_id", right_index=True)
    sizes = started.groupby("cohort_label").size().reindex(signed_up.index, fill_value=0)
    if anchor is not None:
        order = cust.groupby("cohort_label")["cohort_start"].min().sort_values(
            kind="stable").index
    else:
        order = signed_up.index.sort_values()
    first_start = started.groupby("cohort_label")["start"].min().reindex(order)
    horizon = ((data_end - first_start) if data_end is not None else first_start * 0)
    horizon = horizon.fillna(0).clip(lower=0).astype("int64")
    grid = pd.DataFrame({
        "cohort": np.repeat(order.to_numpy(), horizon.to_numpy() + 1),
        "period_index": np.concatenate([np.arange(h + 1) for h in horizon.to_numpy()]),
    })
    grid["active"] = active.reindex(
        pd.MultiIndex.from_frame(grid[["cohort", "period_index"]])).fillna(0).to_numpy()
    grid["active"] = grid["active"].astype("int64")
    grid["period_index"] = grid["period_index"].astype("int64")
    grid["cohort_size"] = sizes.reindex(grid["cohort"]).to_numpy().astype("int64")
    # customers observed k periods after their own start (late starters are not yet)
    starts = {c: np.sort(g.to_numpy()) for c, g in started.groupby("cohort_label")["start"]}
    limit = (data_end if data_end is not None else 0) - grid["period_index"].to_numpy()
    grid["observed"] = np.array([np.searchsorted(starts.get(c, np.zeros(0)), lim, "right")
                                 for c, lim in zip(grid["cohort"], limit)], dtype="int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        grid["retention"] = np.where(grid["observed"] > 0,
                                     grid["active"] / grid["observed"].clip(lower=1), np.nan)
    grid["signed_up"] = signed_up.reindex(grid["cohort"]).to_numpy().astype("int64")
    grid["cohort"] = grid["cohort"].astype(object)
    return grid[RETENTION_COLUMNS]


def retention_matrix(table: pd.DataFrame, *, values: str = "retention") -> pd.DataFrame:
    """Pivot a :func:`cohort_retention` table to cohorts x period_index.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`cohort_retention`.
    values : str
        Column to spread: ``"retention"`` (default) or ``"active"``.

    Returns
    -------
    DataFrame
        Index ``cohort`` (in the table's order), columns ``period_index``; NaN where a
        cohort has not been observed that long.

    Examples
    --------
    >>> t = pd.DataFrame({"cohort": ["a", "a"], "period_index": [0, 1], "active": [2, 1],
    ...                   "cohort_size": [2, 2], "retention": [1.0, 0.5]})
    >>> retention_matrix(t).loc["a"].tolist()
    [1.0, 0.5]
    """
    _require(table, ["cohort", "period_index", values], "retention")
    out = table.pivot(index="cohort", columns="period_index", values=values)
    return out.reindex(pd.unique(table["cohort"].to_numpy()))


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


def gap_by_segment(gaps: pd.DataFrame, customers: pd.DataFrame, *, segment: str = "region",
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
    >>> gap_by_segment(gaps, cu)[["region", "n", "share_met"]].values.tolist()
    [['North', 2, 0.5]]
    """
    g = _gaps_with_segment(gaps, customers, segment, touchpoint)
    out = _gap_stats(g, ["touchpoint", "rule", "_segment"])
    return out.rename(columns={"_segment": segment})


def journey_gaps_table(gaps: pd.DataFrame, customers: pd.DataFrame, *,
                       segments: Sequence[str] = ("region",),
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
    >>> journey_gaps_table(gaps, cu)["segment_value"].tolist()
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
