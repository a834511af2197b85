"""Funnels and stage durations from ``events``; transitions, top paths and Sankey links
from the ingested ``journeys`` table.

Every function takes a tidy table from ``cxkit.ingest`` first, keyword-only options after, and returns a long-form DataFrame with a fixed set of columns, also when the
input is empty. The work is vectorised (sort once, then ``shift`` / ``groupby`` / numpy):
a million events take seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


from cxkit.journeys.base import (
    START,
    END,
    FUNNEL_COLUMNS,
    SIDE_STAGES,
    SANKEY_COLUMNS,
    _require,
    _check_level,
    _ts_int,
    _stage_order,
    _journeys,
)


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
        Ingested events; needs ``customer_id`` and ``stage``.
    stages : list of str, optional
        Stages forming the funnel, in this order. Default: the stages present, in catalog
        order (:data:`STAGE_ORDER`), other stages appended by name, leaving out
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
        order = [s for s in _stage_order(ev["stage"].astype(str)) if s not in SIDE_STAGES]
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

def transition_matrix(journeys: pd.DataFrame, *, level: str = "stage", normalize: bool = True,
                      collapse_repeats: bool = True) -> pd.DataFrame:
    """Counts of moves between consecutive journey states, with ``start``/``end`` states.

    Journeys are read as ingestion built them (:mod:`cxkit.ingest.journeys`: by time, ties
    by source, row and touchpoint); each begins at the synthetic state ``start`` and
    finishes at ``end``.

    Parameters
    ----------
    journeys : DataFrame
        The ingested ``journeys`` table (``customer_id, touchpoint_sequence,
        event_stages``; a segment's rows for a segment), or the ``events`` table, from
        which the journeys are built the same way (:mod:`cxkit.ingest.journeys`).
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
        Tidy ``from, to, count, prob``, rows ordered by ``from`` then ``to`` in display
        order (``start``, stages in catalog order, ``end``; touchpoints by their stage).

    Examples
    --------
    >>> j = pd.DataFrame({"customer_id": ["C1"], "touchpoint_sequence": [["ad", "order"]],
    ...                   "event_stages": [["awareness", "purchase"]]})
    >>> transition_matrix(j)[["from", "to", "count"]].values.tolist()
    [['start', 'awareness', 1], ['awareness', 'purchase', 1], ['purchase', 'end', 1]]
    """
    _check_level(level)
    j = _journeys(journeys, level, collapse_repeats)
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


def top_paths(journeys: pd.DataFrame, *, level: str = "stage", n: int | None = 10,
              max_len: int | None = None, collapse_repeats: bool = True) -> pd.DataFrame:
    """Most common whole journeys, written ``"a > b > c"``.

    Parameters
    ----------
    journeys : DataFrame
        The ingested ``journeys`` table (``customer_id, touchpoint_sequence,
        event_stages``; a segment's rows for a segment), or the ``events`` table, from
        which the journeys are built the same way (:mod:`cxkit.ingest.journeys`).
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
    >>> j = pd.DataFrame({"customer_id": ["C1", "C2"],
    ...                   "touchpoint_sequence": [["ad", "order"], ["ad"]],
    ...                   "event_stages": [["awareness", "purchase"], ["awareness"]]})
    >>> top_paths(j)["path"].tolist()
    ['awareness', 'awareness > purchase']
    """
    _check_level(level)
    if max_len is not None and max_len < 1:
        raise ValueError(f"max_len must be a positive integer or None, got {max_len!r}")
    j = _journeys(journeys, level, collapse_repeats)
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


def sankey_links(journeys: pd.DataFrame, *, level: str = "stage", max_steps: int = 5,
                 min_count: int = 1, collapse_repeats: bool = True) -> pd.DataFrame:
    """Step-indexed links between journey states, ready for a plotly/d3 Sankey.

    Node labels carry the step (``"1:awareness"``, ``"2:purchase"``) so the diagram stays
    acyclic even when customers return to a state.

    Parameters
    ----------
    journeys : DataFrame
        The ingested ``journeys`` table (``customer_id, touchpoint_sequence,
        event_stages``; a segment's rows for a segment), or the ``events`` table, from
        which the journeys are built the same way (:mod:`cxkit.ingest.journeys`).
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
    >>> j = pd.DataFrame({"customer_id": ["C1"], "touchpoint_sequence": [["ad", "order"]],
    ...                   "event_stages": [["awareness", "purchase"]]})
    >>> sankey_links(j).values.tolist()
    [['1:awareness', '2:purchase', 1]]

    To draw it: ``nodes = pd.unique(links[["source", "target"]].values.ravel())`` and
    ``plotly.graph_objects.Sankey(node={"label": nodes}, link={...})`` with indices.
    """
    _check_level(level)
    if max_steps < 2:
        raise ValueError(f"max_steps must be at least 2 to form a link, got {max_steps!r}")
    j = _journeys(journeys, level, collapse_repeats)
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
