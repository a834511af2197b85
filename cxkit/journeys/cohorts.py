"""Cohort retention from ``events`` and ``customers``: who is still active, period by period."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxkit.journeys.base import (
    RETENTION_COLUMNS,
    _require,
)


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
