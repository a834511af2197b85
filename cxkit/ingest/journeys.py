"""The one definition of a customer's journey, shared by ingestion and the analytics.

A journey is a customer's events with a touchpoint, ordered by :data:`JOURNEY_ORDER`
(time, then source name, then the row in the source, then the touchpoint, so that events
at the same instant always fall the same way on every engine); events without a time sit
at the end.  The ``journeys`` table holds it as lists: ``touchpoint_sequence`` (one entry
per event), ``event_stages`` (the stage of each of those events) and ``stage_sequence``
(``event_stages`` with consecutive repeats collapsed).

Where it is built: DuckDB sorts and :func:`assemble` builds the lists in Arrow
(:meth:`~cxkit.ingest.engine.DuckDBEngine.journeys_arrow`); Spark runs the same order as an
Ibis list aggregate (:func:`~cxkit.ingest.tables.journeys_table`; a test checks they agree);
:func:`journeys_from_events` builds the same lists from an ``events`` table for analytics
handed events instead of the ingested ``journeys`` table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from cxkit._checks import require_columns

__all__ = ["JOURNEY_ORDER", "assemble", "journeys_from_events"]

#: Order of the events within a journey (ties at one time broken by source, row, touchpoint).
JOURNEY_ORDER: tuple[str, ...] = ("event_ts", "source", "source_row", "touchpoint")


def assemble(ci: np.ndarray, tp: pa.Array, st: np.ndarray,
             stages: list[str]) -> tuple[np.ndarray, pa.ListArray, pa.ListArray, pa.ListArray]:
    """Journey lists from events already sorted by customer and :data:`JOURNEY_ORDER`.

    Parameters
    ----------
    ci : integer array
        Each event's customer key; one customer's events are contiguous.
    tp : Arrow array
        Each event's touchpoint (no nulls: events without one are not in journeys).
    st : integer array
        Each event's stage as an index into ``stages`` (-1: no stage).
    stages : list of str

    Returns
    -------
    starts, touchpoint_sequence, event_stages, stage_sequence
        ``starts[i]`` is the first event of the i-th customer; one list per customer.
    """
    n = len(ci)
    if n:
        starts = np.concatenate([[0], np.flatnonzero(ci[1:] != ci[:-1]) + 1])
    else:
        starts = np.zeros(0, np.int64)
    offsets = pa.array(np.concatenate([starts, [n]]), pa.int32())
    # A stage opens where it differs from the previous event's, and at each customer's
    # first event; the consecutive repeats collapse.
    new = np.ones(n, dtype=bool)
    if n:
        np.not_equal(st[1:], st[:-1], out=new[1:])
        new[starts] = True
    newpos = np.flatnonzero(new)
    st_offsets = pa.array(np.searchsorted(newpos, np.concatenate([starts, [n]])), pa.int32())
    names = pa.array(stages, pa.string())
    # List values stay dictionary-encoded: no per-event string copies, and Parquet stores
    # them dictionary-encoded anyway.
    every = pa.DictionaryArray.from_arrays(pa.array(st, pa.int16(), mask=st < 0), names)
    collapsed = pa.DictionaryArray.from_arrays(
        pa.array(st[newpos], pa.int16(), mask=st[newpos] < 0), names)
    return (starts, pa.ListArray.from_arrays(offsets, tp),
            pa.ListArray.from_arrays(offsets, every),
            pa.ListArray.from_arrays(st_offsets, collapsed))


def _sort_codes(values: pd.Series) -> np.ndarray:
    """Integers in the values' sort order, nulls last (as SQL's ``ORDER BY``)."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype):
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        na = values.isna().to_numpy()
        codes = values.to_numpy(dtype="datetime64[ns]" if values.dtype.kind == "M" else "int64",
                                na_value=np.datetime64("NaT") if values.dtype.kind == "M" else 0)
        codes = codes.view("int64") if codes.dtype.kind == "M" else codes
        return np.where(na, np.iinfo(np.int64).max, codes) if na.any() else codes
    codes, _ = pd.factorize(values, sort=True)
    return np.where(codes < 0, codes.max(initial=-1) + 1, codes)


def journeys_from_events(events: pd.DataFrame) -> pa.Table:
    """The ``journeys`` lists of an ``events`` table, built as ingestion builds them.

    Parameters
    ----------
    events : DataFrame
        The ingested ``events`` table: ``customer_id`` and the :data:`JOURNEY_ORDER`
        columns, and ``stage``.

    Returns
    -------
    pyarrow.Table
        ``customer_id, stage_sequence, touchpoint_sequence, event_stages``, one row per
        customer with at least one event with a touchpoint, by ``customer_id``.

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": ["C1", "C1"], "source": "web", "source_row": [2, 1],
    ...                    "event_ts": pd.to_datetime(["2024-01-01"] * 2, utc=True),
    ...                    "touchpoint": ["order", "search"], "stage": ["purchase", "awareness"]})
    >>> journeys_from_events(ev)["touchpoint_sequence"].to_pylist()
    [['search', 'order']]
    """
    require_columns(events, ["customer_id", *JOURNEY_ORDER, "stage"], table="events",
                    hint="Pass the `journeys` table written by cxkit.ingest, or the `events` "
                         "table with its source and source_row columns (they order events at "
                         "the same time).")
    ev = events.loc[events["customer_id"].notna() & events["touchpoint"].notna()]
    if not pd.api.types.is_datetime64_any_dtype(ev["event_ts"].dtype):  # text: by instant
        ev = ev.assign(event_ts=pd.to_datetime(ev["event_ts"], utc=True, format="mixed"))
    keys = [_sort_codes(ev[c]) for c in ("customer_id", *JOURNEY_ORDER)]
    order = np.lexsort(keys[::-1])
    cust = keys[0][order]
    stage_codes, stages = pd.factorize(ev["stage"].astype(object), sort=True)
    tp_codes, tp_names = pd.factorize(ev["touchpoint"].astype(object), sort=True)
    tp = pa.DictionaryArray.from_arrays(pa.array(tp_codes[order], pa.int32()),
                                        pa.array([str(t) for t in tp_names], pa.string()))
    starts, tps, every, collapsed = assemble(cust, tp, stage_codes[order],
                                             [str(s) for s in stages])
    ids = ev["customer_id"].to_numpy()[order][starts]
    return pa.table({"customer_id": pa.array(ids), "stage_sequence": collapsed, "touchpoint_sequence": tps,
                     "event_stages": every})
