"""The customer value table: one row per surveyed customer, experience before a cutoff,
revenue and retention after it.

The cutoff splits time into an *observation* period (``event_ts <= cutoff``: the latest
survey score, past revenue) and an *outcome* period ``(cutoff, cutoff + horizon_days]``
(did the customer pay again, how much). Scoring strictly before the outcome period keeps
the link "experience -> later revenue" free of reverse causation.

What the data can support
-------------------------
On the sample data customers renew contracts, so most surveyed customers have a revenue
event in the horizon and both retention and spend can be modelled. On Olist "retention" is a
repeat purchase, which is rare (2 repeat buyers in the 4,000-order sample): the table is
still correct and useful for the quadrants, but a retention model on it would only echo its
prior. The table records the counts in ``table.attrs`` and warns when fewer than
``MIN_RETAINED`` customers were retained; :func:`cxkit.value.fit_value_model` refuses to fit
such a table.
"""

from __future__ import annotations

import warnings

import pandas as pd

from cxkit._checks import require_columns

#: Fewer retained customers than this and a retention / spend model is not identifiable.
MIN_RETAINED = 20

TABLE_COLUMNS = ["customer_id", "score", "n_responses", "revenue_pre", "retained",
                 "revenue_post"]


def _require(df: pd.DataFrame, cols: list[str], name: str) -> None:
    require_columns(df, cols, table=name, error=KeyError,
                    hint=f"Pass the '{name}' output of cxkit ingest (schema in "
                         "docs/ARCHITECTURE.md).")


def _to_utc(values: pd.Series, name: str) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    try:
        # ISO 8601 with mixed offsets (as the sources write them) parses element-wise
        return pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"column '{name}' has values that are not ISO 8601 timestamps "
                         f"({exc}); pass timezone-aware datetimes (the ingest output).") from None


def segment_columns(customers: pd.DataFrame) -> list[str]:
    """Segment columns of an ingested customers table: every column but ``customer_id`` whose
    values are scalars (identifier kinds are lists of ids).

    Examples
    --------
    >>> segment_columns(pd.DataFrame({"customer_id": ["a"], "area": ["N"], "email": [["x"]]}))
    ['area']
    """
    out = []
    for col in customers.columns:
        if col == "customer_id":
            continue
        first = customers[col].dropna().head(1)
        if len(first) and not isinstance(first.iloc[0], (str, int, float, bool)):
            continue
        out.append(col)
    return out


def default_cutoff(events: pd.DataFrame, horizon_days: int = 365) -> pd.Timestamp:
    """The latest midnight (UTC) that still leaves ``horizon_days`` of events after it.

    ``cutoff = floor_day(max(event_ts)) - horizon_days``: the outcome window is then fully
    observed for everyone, and the observation period is as long as the data allows.

    Examples
    --------
    >>> ev = pd.DataFrame({"event_ts": [pd.Timestamp("2024-01-01", tz="UTC"),
    ...                                 pd.Timestamp("2025-06-30 13:00", tz="UTC")]})
    >>> default_cutoff(ev, horizon_days=180)
    Timestamp('2025-01-01 00:00:00+0000', tz='UTC')
    """
    _require(events, ["event_ts"], "events")
    ts = _to_utc(events["event_ts"], "event_ts").dropna()
    if ts.empty:
        raise ValueError("events table has no timestamps; cannot choose a cutoff. "
                         "Pass cutoff= explicitly.")
    cutoff = ts.max().floor("D") - pd.Timedelta(days=horizon_days)
    if cutoff <= ts.min():
        raise ValueError(
            f"events span {ts.min()} to {ts.max()}, shorter than horizon_days={horizon_days}: "
            f"no observation period is left before the cutoff. Shorten horizon_days."
        )
    return cutoff


def customer_value_table(
    events: pd.DataFrame,
    responses: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    score: str,
    cutoff=None,
    horizon_days: int = 365,
    segments: list[str] | None = None,
) -> pd.DataFrame:
    """One row per customer with a scored survey response at or before ``cutoff``.

    Parameters
    ----------
    events : DataFrame
        Ingested ``events`` (``customer_id, event_ts, value``; ``value`` is money on revenue
        events, null otherwise).
    responses : DataFrame
        Ingested ``responses`` (``customer_id, responded_at`` and the score column).
    customers : DataFrame
        Ingested ``customers`` (``customer_id`` + segment columns).
    score : str
        Score column of ``responses`` to use (``"nps"``, ``"csat"``, ``"review_score"``...).
    cutoff : str, Timestamp or None
        End of the observation period (inclusive; naive values are read as UTC). ``None``:
        :func:`default_cutoff`, the latest midnight leaving ``horizon_days`` of data after it.
    horizon_days : int
        Length of the outcome period ``(cutoff, cutoff + horizon_days]``.
    segments : list of str, optional
        Segment columns to carry from ``customers`` (the run YAML's ``value.segment`` and
        ``value.segments``); default every text column of ``customers`` (the segments and
        cohort the sources YAML declared), identifier lists excluded.

    Returns
    -------
    DataFrame
        ``customer_id``, segment columns, ``score`` (latest non-null score at or before the
        cutoff; ties on ``responded_at`` broken by the last row), ``n_responses`` (scored
        responses at or before the cutoff), ``revenue_pre`` (sum of ``value`` at or before the
        cutoff), ``retained`` (bool: any event with ``value > 0`` in the horizon),
        ``revenue_post`` (sum of ``value`` in the horizon). Sorted by ``customer_id``.
        ``attrs`` holds ``score_name, cutoff, horizon_days, n_customers, n_retained,
        retention_rate``.

    Warns
    -----
    UserWarning
        When fewer than ``MIN_RETAINED`` customers are retained (e.g. Olist repeat purchases).

    Examples
    --------
    >>> tbl = customer_value_table(events, responses, customers, score="nps",
    ...                            cutoff="2025-01-01", horizon_days=365)  # doctest: +SKIP
    >>> tbl[["customer_id", "score", "retained", "revenue_post"]].head()  # doctest: +SKIP
    """
    _require(events, ["customer_id", "event_ts", "value"], "events")
    _require(responses, ["customer_id", "responded_at", score], "responses")
    _require(customers, ["customer_id"], "customers")
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days}.")

    cutoff = (default_cutoff(events, horizon_days) if cutoff is None
              else pd.Timestamp(cutoff))
    if cutoff.tzinfo is None:
        cutoff = cutoff.tz_localize("UTC")
    cutoff = cutoff.tz_convert("UTC")
    end = cutoff + pd.Timedelta(days=horizon_days)

    resp = responses[["customer_id", "responded_at", score]].copy()
    resp["responded_at"] = _to_utc(resp["responded_at"], "responded_at")
    resp = resp[resp[score].notna() & resp["customer_id"].notna()
                & (resp["responded_at"] <= cutoff)]
    # stable sort keeps file order among equal timestamps, so "last row wins" is defined
    resp = resp.sort_values(["customer_id", "responded_at"], kind="mergesort")
    grouped = resp.groupby("customer_id", sort=True)
    base = pd.DataFrame({
        "score": grouped[score].last().astype(float),
        "n_responses": grouped.size().astype("int64"),
    }).reset_index()

    ev = events[["customer_id", "event_ts", "value"]].copy()
    ev["event_ts"] = _to_utc(ev["event_ts"], "event_ts")
    ev["value"] = pd.to_numeric(ev["value"], errors="coerce")
    ev = ev[ev["customer_id"].isin(base["customer_id"]) & ev["value"].notna()]
    pre = ev[ev["event_ts"] <= cutoff].groupby("customer_id")["value"].sum()
    post_ev = ev[(ev["event_ts"] > cutoff) & (ev["event_ts"] <= end)]
    post = post_ev.groupby("customer_id")["value"].sum()
    paid = post_ev[post_ev["value"] > 0].groupby("customer_id").size()

    ids = base["customer_id"]
    base["revenue_pre"] = ids.map(pre).fillna(0.0).astype(float).to_numpy()
    base["retained"] = ids.map(paid).fillna(0).to_numpy() > 0
    base["revenue_post"] = ids.map(post).fillna(0.0).astype(float).to_numpy()

    if segments is None:
        segments = segment_columns(customers)
    _require(customers, list(segments), "customers")
    seg = customers[["customer_id", *segments]].drop_duplicates("customer_id", keep="last")
    out = base.merge(seg, on="customer_id", how="left", validate="one_to_one")
    out = out[["customer_id", *segments, *TABLE_COLUMNS[1:]]].reset_index(drop=True)

    n_ret = int(out["retained"].sum())
    out.attrs.update({
        "score_name": score,
        "cutoff": cutoff.isoformat(),
        "horizon_days": int(horizon_days),
        "n_customers": int(len(out)),
        "n_retained": n_ret,
        "retention_rate": float(n_ret / len(out)) if len(out) else float("nan"),
        "segments": list(segments),
    })
    if n_ret < MIN_RETAINED:
        warnings.warn(
            f"Only {n_ret} of {len(out)} surveyed customers have revenue in the "
            f"{horizon_days} days after {cutoff.date()}: too few to estimate how experience "
            f"moves retention or spend. The table supports descriptive use (quadrants); "
            f"fit_value_model needs at least {MIN_RETAINED} retained customers "
            f"(try an earlier cutoff or a longer horizon).",
            UserWarning, stacklevel=2,
        )
    return out


# --------------------------------------------------------------------------- snapshot shape
def _flag(values: pd.Series, *, true_values, false_values, where: str) -> pd.Series:
    text = values.astype("string").str.strip().str.lower()
    trues = {str(v).strip().lower() for v in true_values}
    falses = {str(v).strip().lower() for v in false_values}
    bad = ~text.isin(trues | falses) | text.isna()
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise ValueError(f"{where}, row {i + 1}: {values.iloc[i]!r} is neither a true value "
                         f"{sorted(trues)} nor a false value {sorted(falses)}; add it to "
                         f"value.snapshot.true_values/false_values ({int(bad.sum())} rows).")
    return text.isin(trues).to_numpy(dtype=bool)


def _number(values: pd.Series, *, where: str, blank_ok: bool) -> pd.Series:
    text = values.astype("string").str.strip().replace("", pd.NA)
    num = pd.to_numeric(text, errors="coerce")
    bad = (num.isna() & text.notna()) if blank_ok else num.isna()
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise ValueError(f"{where}, row {i + 1}: {values.iloc[i]!r} is not a number "
                         f"({int(bad.sum())} such rows); fix the file or map another column.")
    return num.astype(float)


def snapshot_value_table(
    snapshot: pd.DataFrame,
    *,
    customer_id: str,
    score: str,
    revenue: str,
    churned: str | None = None,
    retained: str | None = None,
    revenue_pre: str | None = None,
    segments: list[str] | tuple = (),
    true_values=("1", "true", "yes", "y"),
    false_values=("0", "false", "no", "n"),
    score_name: str | None = None,
    file: str = "snapshot",
) -> pd.DataFrame:
    """The value table from a customer snapshot: one row per customer, no timestamps.

    A snapshot states per customer a score, whether they churned (or were retained) in the
    period after it, the revenue of that period and segments. It becomes the same table as
    :func:`customer_value_table`: ``retained`` from the flag, ``revenue_post`` = ``revenue``,
    ``revenue_pre`` from its own column or, when the snapshot has only one revenue column,
    that same period revenue (stated in ``attrs["revenue_pre_from"]``; quadrants then rank
    customers by their period revenue). Customers without a score are left out and counted
    (``attrs["n_without_score"]``).

    Parameters
    ----------
    snapshot : DataFrame
        The file's rows, values as read (text is fine: numbers and flags are parsed here).
    customer_id, score, revenue, churned, retained, revenue_pre : str
        Column names (from the run YAML's ``value.snapshot``); exactly one of ``churned`` or
        ``retained``.
    segments : list of str
        Segment columns to carry.
    true_values, false_values : sequence of str
        How the flag column writes yes and no (case and spaces ignored).
    score_name : str, optional
        Name of the score in the responses table (``attrs["score_name"]``); default ``score``.
    file : str
        Shown in error messages.

    Raises
    ------
    KeyError
        A named column is not in the snapshot.
    ValueError
        Duplicate customer ids, a flag or number that does not parse (file, row, column).

    Examples
    --------
    >>> snap = pd.DataFrame({"id": ["a", "b"], "csat": ["5", "2"], "churn": ["no", "yes"],
    ...                      "spend": ["120.5", "0"], "tier": ["gold", "basic"]})
    >>> t = snapshot_value_table(snap, customer_id="id", score="csat", churned="churn",
    ...                          revenue="spend", segments=["tier"])
    >>> t[["customer_id", "tier", "score", "retained", "revenue_post"]].values.tolist()
    [['a', 'gold', 5.0, True, 120.5], ['b', 'basic', 2.0, False, 0.0]]
    """
    if (churned is None) == (retained is None):
        raise ValueError("give exactly one of churned= or retained= (the flag column).")
    flag = churned or retained
    cols = [customer_id, score, revenue, flag, *([revenue_pre] if revenue_pre else []),
            *segments]
    require_columns(snapshot, cols, table=f"snapshot {file}", error=KeyError,
                    hint="Name the snapshot's columns in the run YAML's value.snapshot.")
    df = snapshot.reset_index(drop=True)
    ids = df[customer_id].astype("string").str.strip()
    dup = ids.duplicated(keep=False) & ids.notna()
    if dup.any() or ids.isna().any():
        i = int((dup | ids.isna()).to_numpy().nonzero()[0][0])
        raise ValueError(f"{file}, row {i + 1}, column {customer_id!r}: customer id "
                         f"{df[customer_id].iloc[i]!r} is blank or repeated; a snapshot has "
                         f"one row per customer.")
    sc = _number(df[score], where=f"{file}, column {score!r}", blank_ok=True)
    flag_true = _flag(df[flag], true_values=true_values, false_values=false_values,
                      where=f"{file}, column {flag!r}")
    post = _number(df[revenue], where=f"{file}, column {revenue!r}", blank_ok=False)
    pre = (_number(df[revenue_pre], where=f"{file}, column {revenue_pre!r}", blank_ok=False)
           if revenue_pre else post)
    out = pd.DataFrame({"customer_id": ids.astype(str)})
    for seg in segments:
        out[seg] = df[seg].astype("string").str.strip().replace("", pd.NA).astype(object)
    out["score"] = sc.to_numpy()
    out["n_responses"] = sc.notna().astype("int64").to_numpy()
    out["revenue_pre"] = pre.to_numpy()
    out["retained"] = ~flag_true if churned else flag_true
    out["revenue_post"] = post.to_numpy()
    n_all = len(out)
    out = out[out["score"].notna()].sort_values("customer_id", kind="mergesort")
    out = out.reset_index(drop=True)
    n_ret = int(out["retained"].sum())
    out.attrs.update({
        "score_name": score_name or score, "cutoff": None, "horizon_days": None,
        "source": "snapshot", "file": file, "n_customers": int(len(out)),
        "n_without_score": int(n_all - len(out)), "n_retained": n_ret,
        "retention_rate": float(n_ret / len(out)) if len(out) else float("nan"),
        "revenue_pre_from": revenue_pre or revenue, "segments": list(segments),
    })
    if n_ret < MIN_RETAINED:
        warnings.warn(f"Only {n_ret} of {len(out)} snapshot customers were retained: too few "
                      f"to estimate how experience moves retention or spend "
                      f"(fit_value_model needs {MIN_RETAINED}).", UserWarning, stacklevel=2)
    return out


def read_snapshot(path, *, delimiter: str = ",", **columns) -> pd.DataFrame:
    """Read a snapshot file (CSV or Parquet) and build :func:`snapshot_value_table`.

    CSV values are read as text (nothing guessed); the header is checked for blank or
    repeated cells first. ``columns`` are the keyword arguments of
    :func:`snapshot_value_table` (the run YAML's ``value.snapshot`` minus ``path``).

    Examples
    --------
    >>> read_snapshot("snapshot.csv", customer_id="id", score="csat", churned="churn",
    ...               revenue="spend")  # doctest: +SKIP
    """
    from pathlib import Path

    from cxkit.ingest.readers import check_header

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: snapshot file not found; check value.snapshot.path "
                                f"(relative to the run YAML).")
    if path.suffix.lower() in (".parquet", ".pq"):
        df = pd.read_parquet(path)
    else:
        import csv

        with open(path, newline="", encoding="utf-8-sig") as fh:
            check_header(path, next(csv.reader(fh, delimiter=delimiter), []))
        df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=delimiter,
                         encoding="utf-8-sig")
    return snapshot_value_table(df, file=str(path), **columns)
