"""Output tables as Ibis expressions over the classified sources (both engines).

``events``, ``gaps``, ``customers``, ``journeys`` and ``responses`` follow the contracts in
docs/ARCHITECTURE.md.  ``quarantine`` is assembled in pandas because its ``raw`` column is
the JSON of each source's own columns (the bad rows are few by construction).
"""

from __future__ import annotations

import json
from datetime import datetime

import ibis
import pandas as pd
import pyarrow as pa

from cxkit._json import jsonable as _jsonable
from cxkit.ingest.catalog import UNITS, Catalog, Rule
from cxkit.ingest.config import SourcesSpec
from cxkit.ingest.engine import UTC_TS, Engine
from cxkit.ingest.journeys import JOURNEY_ORDER
from cxkit.ingest.parse import blank_to_null, json_object
from cxkit.ingest.identity import Identity
from cxkit.ingest.pipeline import Staged

__all__ = ["events_table", "gaps_table", "customers_table", "journeys_table",
           "responses_table", "journeys_parts", "account", "quarantine_frame", "EVENT_COLUMNS", "GAP_COLUMNS",
           "QUARANTINE_COLUMNS"]

EVENT_COLUMNS = ["event_id", "customer_id", "event_ts", "source", "touchpoint", "stage",
                 "channel", "value", "attributes", "source_row"]
GAP_COLUMNS = ["event_id", "customer_id", "event_ts", "touchpoint", "rule", "expected",
               "actual", "gap", "unit", "met"]
QUARANTINE_COLUMNS = ["source", "file", "source_row", "reason", "column", "raw"]


def _union(parts: list[ibis.Table]) -> ibis.Table | None:
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p)
    return out


def _emits_events(s: Staged) -> bool:
    return s.spec.role == "events" or (s.spec.role == "customers" and s.spec.touchpoint is not None)


def events_table(finals: dict[str, tuple[Staged, ibis.Table]], catalog: Catalog) -> ibis.Table | None:
    """Canonical events of every kept row of event-emitting sources."""
    stage = {k: v.stage for k, v in catalog.touchpoints.items()}
    channel = {k: v.channel for k, v in catalog.touchpoints.items()}
    parts = []
    for s, f in finals.values():
        if not _emits_events(s):
            continue
        k = f.filter(f._reason.isnull())
        parts.append(k.select(
            event_id=k._eid, customer_id=k._cid, event_ts=k._ts.cast(UTC_TS),
            source=ibis.literal(s.name), touchpoint=k._tp, stage=k._tp.substitute(stage),
            channel=k._tp.substitute(channel), value=k._value.cast("float64"),
            attributes=json_object(k, s.unmapped), source_row=k._row.cast("int64")))
    return _union(parts)


def _epoch(ts: ibis.Value) -> ibis.Value:
    # Whole seconds on both engines (Spark's unix_timestamp truncates sub-seconds).
    return ts.epoch_seconds().cast("float64").floor().cast("float64")


def _rule_columns(k: ibis.Table, rule: Rule, engine: Engine, as_of: datetime) -> dict:
    unit_s = UNITS[rule.unit]

    def field(name):
        return k[f"_f_{name}"]

    target = None
    if rule.target is not None:
        target = field(rule.target) if isinstance(rule.target, str) else ibis.literal(float(rule.target))
    if rule.kind == "promised_vs_actual":
        expected, actual = field(rule.expected), field(rule.actual)
        gap = (_epoch(actual) - _epoch(expected)) / unit_s
    elif rule.kind == "sla_vs_actual":
        start, actual = field(rule.start), field(rule.actual)
        deadline_s = _epoch(start) + target * unit_s
        expected = engine.epoch_ms((deadline_s * 1000).round().cast("int64")).cast(UTC_TS)
        gap = (_epoch(actual) - _epoch(start)) / unit_s - target
    else:  # target_vs_actual: numbers, no timestamps
        actual_n = field(rule.actual)
        expected = actual = ibis.null(UTC_TS)
        gap = actual_n - target
    if rule.rounding == "floor":
        gap = gap.floor().cast("float64")
    met = gap <= rule.tolerance
    if rule.kind != "target_vs_actual":
        # No actual yet: a breach once the deadline has passed, unknown before.
        overdue = expected < ibis.literal(as_of, "timestamp('UTC')")
        met = ibis.cases((gap.notnull(), met), (expected.notnull() & overdue, False),
                         else_=ibis.null("boolean"))
    return dict(rule=ibis.literal(rule.kind), expected=expected.cast(UTC_TS),
                actual=actual.cast(UTC_TS), gap=gap.cast("float64"), unit=ibis.literal(rule.unit),
                met=met)


def _linked(finals, role: str) -> bool:
    return any(s.spec.link for s, _ in finals.values() if s.spec.role == role)


def gaps_table(finals, catalog: Catalog, engine: Engine, as_of: datetime) -> ibis.Table | None:
    """One row per kept event of a touchpoint with an expectation rule (plus ``link``, the
    transaction it belongs to, when an event source declares one)."""
    parts = []
    with_link = _linked(finals, "events")
    for s, f in finals.values():
        if not _emits_events(s):
            continue
        tp_spec = s.spec.touchpoint
        for tp in catalog.rule_touchpoints:
            if tp_spec.value is not None and tp_spec.value != tp:
                continue
            rule = catalog.touchpoints[tp].rule
            if not all(fld in s.spec.fields for fld in rule.fields()):
                continue  # checked in validate_config for constant touchpoints
            k = f.filter(f._reason.isnull() & (f._tp == tp))
            link = {"link": k._link if s.spec.link else ibis.null("string")} if with_link else {}
            parts.append(k.select(event_id=k._eid, customer_id=k._cid,
                                  event_ts=k._ts.cast(UTC_TS), touchpoint=k._tp,
                                  **_rule_columns(k, rule, engine, as_of), **link))
    return _union(parts)


def customers_table(spec: SourcesSpec, finals, ident: Identity, events: ibis.Table | None) -> ibis.Table:
    """One row per customer: segments, cohort and the identifiers linked to them."""
    s, f = finals[spec.customers_source]
    k = f.filter(f._reason.isnull())
    w = ibis.window(group_by=k._cid, order_by=[k._fidx, k._row])
    k = k.mutate(_crn=ibis.row_number().over(w))
    k = k.filter(k._crn == 0)
    cols = {"customer_id": k._cid}
    for seg, col in s.spec.segments.items():
        cols[seg] = blank_to_null(k[col])
    if s.spec.cohort and s.spec.cohort.quarter_of:
        ts = k._cohort_ts
        cols["cohort"] = ts.year().cast("string") + "Q" + ts.quarter().cast("string")
    out = k.select(**cols)
    if s.spec.cohort and s.spec.cohort.first_touchpoint and events is not None:
        e = events.filter(events.touchpoint == s.spec.cohort.first_touchpoint)
        first = e.group_by(_c="customer_id").aggregate(_first=e.event_ts.min())
        first = first.mutate(cohort=first._first.year().cast("string") + "Q"
                             + first._first.quarter().cast("string"))
        j = out.left_join(first, out.customer_id == first._c)
        out = j.select(*out.columns, cohort=j.cohort)
    for kind, mp in ident.maps.items():
        if kind == spec.identity.canonical:
            continue
        agg = mp.group_by(_c="_mc").aggregate(_ids=mp._mv.collect())
        j = out.left_join(agg, out.customer_id == agg._c)
        out = j.select(*out.columns, **{kind: j._ids.sort()})
    return out


def journeys_table(events: ibis.Table, customers: ibis.Table, segments: list[str],
                   engine: Engine, catalog: Catalog) -> ibis.Table:
    """Per-customer ordered journey (:mod:`cxkit.ingest.journeys`): counts, first/last
    time, the touchpoint of each event, its stage (``event_stages``) and the stages with
    consecutive repeats collapsed (``stage_sequence``: awareness, purchase, ...)."""
    # Anonymous events (no customer) have no journey.
    e = events.filter(events.customer_id.notnull())
    # One ordered aggregate (the expensive part at scale); stages are derived from the
    # touchpoint list.
    agg = e.group_by("customer_id").aggregate(
        n_events=e.event_id.count(), first_ts=e.event_ts.min(), last_ts=e.event_ts.max(),
        touchpoint_sequence=engine.ordered_collect(e.touchpoint, [e[c] for c in JOURNEY_ORDER]))
    stage = {k: v.stage for k, v in catalog.touchpoints.items()}
    # Stages as a column first: the filter below reads the previous element, and with the
    # mapping inlined there it was re-mapped per element (quadratic per customer).
    agg = agg.mutate(event_stages=agg.touchpoint_sequence.map(lambda x: x.substitute(stage)))
    agg = agg.mutate(stage_sequence=agg.event_stages.filter(
        lambda x, i: (i == 0) | (x != agg.event_stages[i - 1])))
    seg = customers.select(_c="customer_id", **{c: c for c in segments})
    j = agg.left_join(seg, agg.customer_id == seg._c)
    return j.select("customer_id", "n_events", "first_ts", "last_ts", "stage_sequence",
                    "touchpoint_sequence", "event_stages", *[j[c] for c in segments])


def journeys_parts(finals, events: ibis.Table, customers: ibis.Table,
                   segments: list[str]) -> tuple[ibis.Table, ibis.Table, ibis.Table]:
    """What the DuckDB journeys path assembles in Arrow: every kept event with a customer
    (``_ci, touchpoint, event_ts, _src, _row``: unordered, the engine sorts), the
    customers' segments, and per-customer counts and times with segments (read only when
    the events have null times or touchpoints)."""
    names = sorted(s.name for s, _ in finals.values() if _emits_events(s))
    parts = []
    for s, f in finals.values():
        if not _emits_events(s):
            continue
        k = f.filter(f._reason.isnull() & f._ci.notnull())
        parts.append(k.select(_ci=k._ci, touchpoint=k._tp, event_ts=k._ts.cast(UTC_TS),
                              _src=ibis.literal(names.index(s.name), "int16"),
                              _row=k._row.cast("int64")))
    seq = _union(parts)
    seg = customers.select(_c="customer_id", **{c: c for c in segments})
    e = events.filter(events.customer_id.notnull())
    agg = e.group_by("customer_id").aggregate(
        n_events=e.event_id.count(), first_ts=e.event_ts.min(), last_ts=e.event_ts.max())
    j = agg.left_join(seg, agg.customer_id == seg._c)
    head = j.select("customer_id", "n_events", "first_ts", "last_ts", *[j[c] for c in segments])
    return seq, seg, head


def responses_table(spec: SourcesSpec, finals, catalog: Catalog, gaps: ibis.Table | None,
                    customers: ibis.Table, segments: list[str]) -> ibis.Table | None:
    """Survey responses with segments, scores, verbatim and features per rule touchpoint:
    ``had_/n_/gap_/breach_/never_<tp>`` over the gaps in [responded_at - window,
    responded_at); ``never_<tp>`` is 1 when an event's actual never happened although its
    deadline passed (its gap is then unknown and left out of ``gap_<tp>``).

    Linked responses (a response source with ``link``, e.g. the order a review is about)
    take instead the gaps of the events with the same link, whenever they happened, for
    every touchpoint whose event source declares a link too: a review written before a
    late parcel arrived is still about that parcel.  Responses without a link value, and
    touchpoints without linked events, use the window.
    """
    parts = []
    with_link = _linked(finals, "responses")
    linked_tps = {tp for s, _ in finals.values() if s.spec.role == "events" and s.spec.link
                  for tp in catalog.rule_touchpoints
                  if s.spec.touchpoint.value in (None, tp)}
    score_names: list[str] = []
    extra: list[str] = []
    with_language = any(s.spec.role == "responses" and s.spec.language for s, _ in finals.values())
    for s, f in finals.values():
        if s.spec.role != "responses":
            continue
        for n in s.spec.scores:
            if n not in score_names:
                score_names.append(n)
        for n in s.spec.segments:
            if n not in extra:
                extra.append(n)
    for s, f in finals.values():
        if s.spec.role != "responses":
            continue
        k = f.filter(f._reason.isnull())
        rid = blank_to_null(k[s.spec.event_id[0]]) if s.spec.event_id and len(s.spec.event_id) == 1 else k._eid
        cols = dict(response_id=rid, customer_id=k._cid, responded_at=k._ts.cast(UTC_TS))
        for n in score_names:
            cols[n] = k[f"_s_{n}"] if n in s.spec.scores else ibis.null("float64")
        cols["verbatim"] = blank_to_null(k[s.spec.verbatim]) if s.spec.verbatim else ibis.null("string")
        if with_language:  # the source's declared verbatim language, null where undeclared
            cols["language"] = ibis.literal(s.spec.language, "string") if s.spec.language else ibis.null("string")
        if with_link:
            cols["link"] = k._link if s.spec.link else ibis.null("string")
        for n in extra:
            cols[n] = blank_to_null(k[s.spec.segments[n]]) if n in s.spec.segments else ibis.null("string")
        parts.append(k.select(**cols))
    r = _union(parts)
    if r is None:
        return None
    seg = customers.select(_c="customer_id", **{c: c for c in segments if c not in extra})
    j = r.left_join(seg, r.customer_id == seg._c)
    order = ["response_id", "customer_id", "responded_at"] + [c for c in segments if c not in extra] \
        + extra + score_names + ["verbatim"] + (["language"] if with_language else []) \
        + (["link"] if with_link else [])
    r = j.select(*[j[c] for c in order])
    window = ibis.interval(seconds=int(round(spec.window_days * 86400)))
    for tp in catalog.rule_touchpoints:
        if gaps is None:
            r = r.mutate(**{f"had_{tp}": ibis.literal(0, "int64"), f"n_{tp}": ibis.literal(0, "int64"),
                            f"gap_{tp}": ibis.null("float64"), f"breach_{tp}": ibis.literal(0, "int64"),
                            f"never_{tp}": ibis.literal(0, "int64")})
            continue
        by_link = with_link and tp in linked_tps
        g = gaps.filter(gaps.touchpoint == tp)
        g = g.select(_gc="customer_id", _gt="event_ts", _gg="gap", _gm="met",
                     **({"_gl": "link"} if by_link else {}))
        base = r.select(_rid="response_id", _rc="customer_id", _rt="responded_at",
                        **({"_rl": "link"} if by_link else {}))
        win = base.filter(base._rl.isnull()) if by_link else base
        m = win.join(g, [win._rc == g._gc, g._gt >= win._rt - window, g._gt < win._rt])
        m = m.select("_rid", "_gc", "_gg", "_gm")
        if by_link:
            lk = base.filter(base._rl.notnull())
            m2 = lk.join(g, [lk._rc == g._gc, lk._rl == g._gl])
            m = m.union(m2.select("_rid", "_gc", "_gg", "_gm"))
        agg = m.group_by("_rid").aggregate(
            _n=m._gc.count(), _gap=m._gg.mean(),
            _br=ibis.cases((m._gm == False, 1), else_=0).sum(),  # noqa: E712 (Ibis expression)
            # an actual that never happened although its deadline passed (never delivered,
            # never answered): gap unknown, met false
            _nv=ibis.cases((m._gg.isnull() & (m._gm == False), 1), else_=0).sum())  # noqa: E712
        j = r.left_join(agg, r.response_id == agg._rid)
        r = j.select(*r.columns, **{
            f"had_{tp}": ibis.cases((j._n.fill_null(0) > 0, 1), else_=0).cast("int64"),
            f"n_{tp}": j._n.fill_null(0).cast("int64"),
            f"gap_{tp}": j._gap.cast("float64"),
            f"breach_{tp}": j._br.fill_null(0).cast("int64"),
            f"never_{tp}": ibis.cases((j._nv.fill_null(0) > 0, 1), else_=0).cast("int64")})
    return r


def account(engine: Engine, f: ibis.Table) -> tuple[int, pd.DataFrame]:
    """One scan of a classified source: the number of kept rows and every quarantined row's
    position and reason (``_qf, _qr, _qreason, _qcol``).

    A group-by where every kept row falls in one group and each quarantined row in its own,
    so the report's counts and the quarantine's rows come from the same pass.
    """
    bad = f._reason.notnull()
    g = f.group_by(_qreason=f._reason, _qcol=f._rcol,
                   _qf=ibis.cases((bad, f._fidx), else_=ibis.null("int32")).cast("int32"),
                   _qr=ibis.cases((bad, f._row), else_=ibis.null("int64")).cast("int64")
                   ).aggregate(_n=f._row.count())
    df = engine.to_pandas(g)
    kept_rows = df["_qreason"].isna()
    q = df[~kept_rows]
    if (q["_n"] != 1).any():  # positions are unique; anything else is a bug, not data
        raise RuntimeError("quarantine: a source position appears twice")
    q = q.drop(columns="_n").astype({"_qf": "int64", "_qr": "int64"})
    q = q.sort_values(["_qf", "_qr"], ignore_index=True)
    return int(df.loc[kept_rows, "_n"].sum()), q


def quarantine_frame(engine: Engine, finals, accounts: dict[str, tuple[int, pd.DataFrame]]) -> pd.DataFrame:
    """All quarantined rows: source, file, source_row, reason, column, raw (JSON).

    The raw values are read back from each source's raw table by position (file, row):
    the classified tables carry parsed values only."""
    frames = []
    for name, (s, f) in finals.items():
        q = accounts[name][1]
        if len(q):
            pos = engine.register_arrow(engine.tmp_name(f"qpos_{name}"), pa.Table.from_pandas(
                q[["_qf", "_qr"]].astype({"_qf": "int32", "_qr": "int64"}), preserve_index=False))
            r = s.source
            j = r.join(pos, [r._fidx == pos._qf, r._row == pos._qr])
            raw = engine.to_pandas(j.select(_qf=r._fidx, _qr=r._row, *[r[c] for c in s.raw.columns]))
            df = q.merge(raw, on=["_qf", "_qr"], how="left", validate="one_to_one")
            raw = [json.dumps({c: _jsonable(v) for c, v in zip(s.raw.columns, row)}, ensure_ascii=False)
                   for row in df[s.raw.columns].itertuples(index=False, name=None)]
            frames.append(pd.DataFrame({
                "source": s.name, "file": [s.raw.files[i] for i in df["_qf"]],
                "source_row": df["_qr"].astype("int64"), "reason": df["_qreason"],
                "column": df["_qcol"], "raw": raw}))
        mal = s.raw.malformed
        if len(mal):
            frames.append(pd.DataFrame({
                "source": s.name, "file": [s.raw.files[int(i)] for i in mal["_fidx"]],
                "source_row": mal["_row"].astype("int64"), "reason": "malformed_row",
                "column": None, "raw": [json.dumps({"line": x}, ensure_ascii=False) for x in mal["line"]]}))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "source_row" else "object")
                             for c in QUARANTINE_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["source", "file", "source_row"], kind="stable").reset_index(drop=True)
