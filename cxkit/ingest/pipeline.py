"""Validation: raw source tables -> staged rows, each kept or with its first failing check.

Every row of every source ends in exactly one place: kept (``_reason`` null) or quarantined
with one reason.  Checks run in this order and the first that fails names the row's reason:

1. ``malformed_row``      the CSV parser rejected the line, or a numeric field (value,
                          numeric rule field) is not a number
2. ``missing_id``         the key identifier is blank
3. ``bad_timestamp``      the event timestamp (or a timestamp rule field) does not parse
4. ``future_timestamp``   the event timestamp is after ``as_of`` (default: now)
5. ``unknown_touchpoint`` the touchpoint is not in the catalog
6. ``score_out_of_range`` a survey score is not a number within its declared range
7. ``duplicate_event``    same event id (or dedupe columns) as an earlier row; first kept
8. ``identity_conflict``  the row links an identifier already claimed by another customer
   ``orphan``             the key does not resolve to a known customer

Identity stitching (check 8) lives in :mod:`cxkit.ingest.identity`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import ibis

from cxkit.ingest.catalog import Catalog
from cxkit.ingest.config import SourceSpec, SourcesSpec, TimestampSpec
from cxkit.ingest.engine import Engine
from cxkit.ingest.parse import blank_to_null, parse_number, parse_timestamp, present
from cxkit.ingest.readers import RawSource

__all__ = ["REASONS", "Staged", "stage_source"]

REASONS = ["malformed_row", "missing_id", "bad_timestamp", "future_timestamp",
           "unknown_touchpoint", "score_out_of_range", "duplicate_event", "identity_conflict",
           "orphan"]


@dataclass
class Staged:
    """One source after validation: ``table`` has ``_fidx, _row``, the raw columns an output
    reads (segments, verbatim, unmapped attributes) and parsed ``_``-columns
    (``_key _ts _tp _value _f_* _s_* _id_* _eid _link _reason _rcol``, and ``_cid _ci`` when
    resolved while parsing); ``source`` is the raw table, for the quarantine's raw values."""

    name: str
    index: int
    spec: SourceSpec
    raw: RawSource
    table: ibis.Table
    unmapped: list[str] = field(default_factory=list)
    source: ibis.Table | None = None  # the raw table (file columns + _fidx, _row)


def _enrich(t: ibis.Table, src: SourceSpec, raw_tables: dict[str, ibis.Table]) -> ibis.Table:
    for col, e in src.enrich.items():
        t = t.mutate(_cur=blank_to_null(t[e.column]))
        for step in e.chain:
            lk = raw_tables[step.source]
            lk = lk.mutate(_lk=blank_to_null(lk[step.key]), _lv=lk[step.value].cast("string"))
            lk = lk.filter(lk._lk.notnull())
            # Several matches (an order with several items): the first in file order wins.
            w = ibis.window(group_by=lk._lk, order_by=[lk._fidx, lk._row])
            lk = lk.mutate(_lrn=ibis.row_number().over(w))
            lk = lk.filter(lk._lrn == 0).select("_lk", "_lv")
            j = t.left_join(lk, t._cur == lk._lk)
            t = j.select(*[c for c in t.columns if c != "_cur"], _cur=j._lv)
        t = t.rename({col: "_cur"})
    return t


def stage_source(engine: Engine, spec: SourcesSpec, catalog: Catalog, name: str,
                 raw: RawSource, raw_tables: dict[str, ibis.Table], as_of: datetime,
                 master: ibis.Table | None = None) -> Staged:
    """Parse one source and assign the row-level reasons (checks 1-7).

    ``master`` (the canonical customers, see :func:`customer_master`): a source keyed by
    the canonical id resolves its customers in the same pass (``_cid``, ``_ci``), so
    classification needs no second pass over it."""
    src = spec.sources[name]
    index = list(spec.sources).index(name)
    t = _enrich(raw_tables[name], src, raw_tables)
    used = set(src.enrich)
    m: dict[str, ibis.Value] = {}
    checks: list[tuple[ibis.BooleanValue, str, str | None]] = []

    for kind, col in src.ids.items():
        m[f"_id_{kind}"] = blank_to_null(t[col])
        used.add(col)
    key_col = src.ids.get(src.key) if src.key else None
    m["_key"] = blank_to_null(t[key_col]) if key_col else ibis.null("string")

    # Numeric fields first: a value that is not a number makes the row malformed.
    if src.value:
        m["_value"] = parse_number(t[src.value])
        checks.append((present(t[src.value]) & m["_value"].isnull(), "malformed_row", src.value))
        used.add(src.value)
    else:
        m["_value"] = ibis.null("float64")
    ts_fields = []
    for fname, f in src.fields.items():
        if isinstance(f, str):
            m[f"_f_{fname}"] = parse_number(t[f])
            checks.append((present(t[f]) & m[f"_f_{fname}"].isnull(), "malformed_row", f))
            used.add(f)
        else:
            ts_fields.append((fname, f))

    if key_col:
        checks.append((m["_key"].isnull(), "missing_id", key_col))

    if src.timestamp is not None:
        tss = src.ts_spec(src.timestamp)
        ts = parse_timestamp(t[tss.column], tss, engine)
        used.add(tss.column)
        if tss.fallback:
            fb = parse_timestamp(t[tss.fallback], TimestampSpec(
                column=tss.fallback, format=tss.format, timezone=tss.timezone), engine)
            bad_main = present(t[tss.column]) & ts.isnull()
            checks.append((bad_main, "bad_timestamp", tss.column))
            ts = ibis.cases((present(t[tss.column]), ts), else_=fb)
            used.add(tss.fallback)
        m["_ts"] = ts
        checks.append((ts.isnull(), "bad_timestamp", tss.fallback or tss.column))
    else:
        m["_ts"] = ibis.null("timestamp('UTC')")
    for fname, f in ts_fields:
        fs = src.ts_spec(f)
        m[f"_f_{fname}"] = parse_timestamp(t[fs.column], fs, engine)
        checks.append((present(t[fs.column]) & m[f"_f_{fname}"].isnull(), "bad_timestamp", fs.column))
        used.add(fs.column)
    if src.timestamp is not None:
        checks.append((m["_ts"] > ibis.literal(as_of, "timestamp('UTC')"), "future_timestamp",
                       src.timestamp.column))

    if src.touchpoint is not None:
        tp = src.touchpoint
        if tp.value is not None:
            m["_tp"] = ibis.literal(tp.value)
        else:
            m["_tp"] = blank_to_null(t[tp.column])
            if tp.map:
                m["_tp"] = m["_tp"].substitute(tp.map)
            used.add(tp.column)
        checks.append((~_in_catalog(m["_tp"], list(catalog.touchpoints)), "unknown_touchpoint",
                       tp.column))
    else:
        m["_tp"] = ibis.null("string")

    for sname, s in src.scores.items():
        raw_score = t[s.column]
        if s.map:
            text = blank_to_null(raw_score.cast("string")).strip().lower()
            raw_score = text.substitute({str(k).strip().lower(): str(v) for k, v in s.map.items()},
                                        else_=ibis.null("string"))
        v0 = parse_number(raw_score)
        is_na = v0.isin(s.na).fill_null(False) if s.na else ibis.literal(False)
        v = ibis.cases((is_na, ibis.null("float64")), else_=v0)
        m[f"_s_{sname}"] = v
        bad = present(t[s.column]) & ~is_na & (v0.isnull() | (v0 < s.min) | (v0 > s.max))
        checks.append((bad, "score_out_of_range", s.column))
        used.add(s.column)
    for c in list(src.segments.values()) + ([src.verbatim] if src.verbatim else []):
        used.add(c)
    if src.cohort and src.cohort.quarter_of:
        cq = src.ts_spec(src.cohort.quarter_of)
        m["_cohort_ts"] = parse_timestamp(t[cq.column], cq, engine)
        used.add(cq.column)
    for c in src.event_id or []:
        used.add(c)
    for c in src.dedupe_on or []:
        used.add(c)
    if src.link:
        m["_link"] = blank_to_null(t[src.link])
        used.add(src.link)

    if src.event_id:
        parts = [blank_to_null(t[c]).fill_null("") for c in src.event_id]
        eid = parts[0]
        for p in parts[1:]:
            eid = eid + "|" + p
        m["_eid"] = ibis.literal(f"{name}:") + eid

    # The first failing check's number (null: all passed); reason and column names are
    # looked up from it, so each check is evaluated once per row.
    if checks:
        chk = ibis.cases(*[(c, ibis.literal(i, "int16")) for i, (c, _, _) in enumerate(checks)],
                         else_=ibis.null("int16"))
    else:
        chk = ibis.null("int16")

    # Duplicates among rows that passed every earlier check; the first in file order stays.
    if src.dedupe_on:
        dd = {f"_d{i}": blank_to_null(t[c]) for i, c in enumerate(src.dedupe_on)}
    elif src.event_id:
        dd = {"_eid": m["_eid"]}
    elif src.role == "customers" and src.repeated_rows == "collapse":
        dd = {}  # repeats kept; customers_table folds them into one customer
    elif src.role == "customers":
        dd = {"_key": m["_key"]}
    elif src.role == "lookup":
        dd = {}
    else:
        dd = {"_key": m["_key"], "_ts": m["_ts"], "_tp": m["_tp"]}
    if src.dedupe_on:
        m.update(dd)
    if dd:
        m["_h"] = engine.row_hash(list(dd.values()))

    # Only what later steps read is materialised: parsed values, row position, reasons and
    # the raw columns that reach an output (segments, verbatim, event attributes, a
    # response id).  Quarantined rows get their raw values back from the raw table by
    # position, so the raw text is not copied.
    unmapped = [c for c in raw.columns if c not in used]
    carry = list(unmapped) + list(src.segments.values()) + ([src.verbatim] if src.verbatim else [])
    if src.role == "responses" and src.event_id and len(src.event_id) == 1:
        carry.append(src.event_id[0])
    carry = list(dict.fromkeys(c for c in carry if c in t.columns))
    key_id = f"_id_{src.key}" if key_col else None
    cols = {c: e for c, e in m.items() if not (c == "_key" and key_id)}
    t = t.select("_fidx", "_row", *carry, **cols, _chk=chk)
    if master is not None and key_id and src.key == spec.identity.canonical and src.role != "customers":
        j = t.left_join(master, t[key_id] == master._mv)
        t = j.select(*t.columns, _ci=j._ci)
    t = engine.materialize(t, f"parsed_{name}")
    if "_ci" in t.columns:  # a canonical id that resolved is its own customer id
        t = t.mutate(_cid=ibis.cases((t._ci.notnull(), t[key_id]), else_=ibis.null("string")))
    t = t.mutate(_reason=_lookup(t._chk, [r for _, r, _ in checks]),
                 _rcol=_lookup(t._chk, [col for _, _, col in checks]))
    t = t.drop("_chk").mutate(_key=t[key_id]) if key_id else t.drop("_chk")
    if "_eid" not in t.columns:
        t = t.mutate(_eid=_row_event_id(t, name, multi_file=len(raw.files) > 1))
    if not dd:
        return Staged(name, index, src, raw, t, unmapped, raw_tables[name])

    dup_col = ",".join(src.dedupe_on or src.event_id or []) or None
    t = _mark_duplicates(engine, t, list(dd), dup_col, name)
    # Spark: checkpointed (identity resolution and classification read it again).
    if engine.cache_classified:
        t = engine.materialize(t, f"stage_{name}")
    return Staged(name, index, src, raw, t, unmapped, raw_tables[name])


def _in_catalog(tp: ibis.StringValue, known: list[str]) -> ibis.BooleanValue:
    """Non-null and one of ``known``.  A CASE for catalogs of usual size: DuckDB turns an
    IN list of more than a few constants into a join, several times slower per row."""
    if len(known) > 64:
        return tp.notnull() & tp.isin(known)
    return tp.substitute({k: True for k in known}, else_=False)


def _lookup(code: ibis.IntegerValue, names: list[str | None]) -> ibis.StringValue:
    """``names[code]`` (null for a null code or a null name)."""
    return code.substitute({i: ibis.literal(n, "string") for i, n in enumerate(names)},
                           else_=ibis.null("string")).cast("string")


def _row_event_id(t: ibis.Table, name: str, multi_file: bool) -> ibis.StringValue:
    """``<source>:<row>`` (``<source>:f<file>:<row>`` for globs of several files)."""
    if multi_file:
        return ibis.literal(f"{name}:f") + t._fidx.cast("string") + ":" + t._row.cast("string")
    return ibis.literal(f"{name}:") + t._row.cast("string")


def _mark_duplicates(engine: Engine, t: ibis.Table, keys: list[str], dup_col: str | None,
                     name: str) -> ibis.Table:
    """Reason ``duplicate_event`` for every row whose dedupe key an earlier row (file, row
    order) already has.  Rows with a null key part are never duplicates.

    Cheap on tables where almost every key is unique: group on one 64-bit hash (``_h``) to
    find the few candidate hashes, check the candidates' exact keys, and probe the parsed
    table with the (small) set of duplicate row positions.
    """
    ok = t.filter(t._reason.isnull())
    for k in keys:
        ok = ok.filter(ok[k].notnull())
    hashes = engine.materialize(engine.repeated_values(ok, "_h"), f"duphash_{name}")
    cand = ok.semi_join(hashes, "_h")
    w = ibis.window(group_by=[cand[k] for k in keys], order_by=[cand._fidx, cand._row])
    cand = cand.mutate(_rn=ibis.row_number().over(w))
    dups = cand.filter(cand._rn > 0).select(_dfidx="_fidx", _drow="_row")
    dups = engine.materialize(dups, f"dups_{name}")
    j = t.left_join(dups, [t._fidx == dups._dfidx, t._row == dups._drow])
    dup = j._drow.notnull()
    return j.select(*[c for c in t.columns if c not in ("_reason", "_rcol", "_h")],
                    _reason=ibis.cases((dup, "duplicate_event"), else_=t._reason),
                    _rcol=ibis.cases((dup, ibis.literal(dup_col, "string")), else_=t._rcol))
