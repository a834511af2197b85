"""Identity stitching: staged sources -> classified rows with their customer.

The customers source defines the canonical customers.  Any row holding
two identifiers (an email next to a customer id, a device id next to a customer id on a
login, an order id next to an account id) links them.  Identifiers resolve breadth-first
from the canonical id; an identifier linked to two customers belongs to the one whose link
came first (by timestamp, then source order, then file row) and every later link row that
names another customer is quarantined as ``identity_conflict`` and listed in the report,
so nothing is merged on a guess.

It adds the last check of :mod:`~cxkit.ingest.pipeline`'s order (8): ``identity_conflict`` and
``orphan``.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from cxkit.ingest.config import SourcesSpec
from cxkit.ingest.engine import Engine
from cxkit.ingest.pipeline import Staged, _row_event_id

__all__ = ["Identity", "customer_master", "resolve_identity", "classify"]


@dataclass
class Identity:
    """Resolved identifier maps (``value -> customer_id`` per id kind) and conflicts."""

    maps: dict[str, ibis.Table]
    conflicts: ibis.Table | None  # _src, _fidx, _row, kind, value, owner, claimant


def customer_master(engine: Engine, customers: Staged) -> ibis.Table:
    """The canonical customers (``_mv`` = ``_mc`` = customer id, ``_ci`` = its position in
    customer_id order, an integer to sort journeys on): the customers source's kept keys."""
    cust = customers.table
    master = cust.filter(cust._reason.isnull()).select(_mv=cust._key).distinct()
    master = master.mutate(_mc=master._mv, _ci=ibis.row_number().over(order_by=master._mv).cast("int32"))
    return engine.materialize(master, "idmap")


def resolve_identity(engine: Engine, spec: SourcesSpec, staged: dict[str, Staged],
                     master: ibis.Table) -> Identity:
    """Stitch identifiers breadth-first from the canonical customer id (see module doc);
    ``master`` is :func:`customer_master` of the customers source."""
    canonical = spec.identity.canonical
    maps = {canonical: master}
    kinds = sorted({k for s in staged.values() for k in s.spec.ids} - {canonical})
    conflicts = []
    progress = True
    while progress:
        progress = False
        for k in [k for k in kinds if k not in maps]:
            cands = []
            for s in staged.values():
                if k not in s.spec.ids:
                    continue
                via = [j for j in s.spec.ids if j != k and j in maps]
                if not via:
                    continue
                j = canonical if canonical in via else via[0]
                a = s.table
                a = a.filter(a._reason.isnull() & a[f"_id_{k}"].notnull() & a[f"_id_{j}"].notnull())
                mp = maps[j]
                jn = a.join(mp, a[f"_id_{j}"] == mp._mv)
                cands.append(jn.select(value=jn[f"_id_{k}"], customer_id=jn._mc, _ci=jn._ci,
                                       _ts=jn._ts, _src=ibis.literal(s.index), _fidx=jn._fidx,
                                       _row=jn._row))
            if not cands:
                continue
            c = cands[0]
            for other in cands[1:]:
                c = c.union(other)
            c = engine.materialize(c, f"links_{k}")
            w = ibis.window(group_by=c.value, order_by=[c._ts.isnull(), c._ts, c._src, c._fidx, c._row])
            ranked = c.mutate(_rn=ibis.row_number().over(w))
            owners = ranked.filter(ranked._rn == 0).select(value="value", owner="customer_id",
                                                           _ci="_ci")
            owners = engine.materialize(owners, f"owners_{k}")
            j = c.join(owners, "value")
            bad = j.filter(j.customer_id != j.owner).select(
                "_src", "_fidx", "_row", kind=ibis.literal(k), value=j.value, owner=j.owner,
                claimant=j.customer_id)
            conflicts.append(bad)
            maps[k] = owners.select(_mv="value", _mc="owner", _ci="_ci")
            progress = True
    conf = None
    if conflicts:
        conf = conflicts[0]
        for other in conflicts[1:]:
            conf = conf.union(other)
        conf = engine.materialize(conf, "conflicts")
    return Identity(maps, conf)


def classify(engine: Engine, s: Staged, ident: Identity) -> ibis.Table:
    """Add ``_cid`` (the resolved customer id), ``_ci`` (its integer position) and the
    identity reasons (check 8) to a staged source.

    Materialised when an identity join was needed (the outputs, the report and the
    quarantine all read it, so the join is paid once) and always on Spark; a source resolved
    while parsing stays an expression on DuckDB.
    """
    a = s.table
    resolved = "_cid" in a.columns  # keyed by the canonical id: resolved while parsing
    if s.spec.role == "lookup":
        a = a.mutate(_cid=ibis.null("string"), _ci=ibis.null("int32"))
    else:
        mp = ident.maps.get(s.spec.key)
        if not resolved and mp is None:
            a = a.mutate(_cid=ibis.null("string"), _ci=ibis.null("int32"))
        elif not resolved:
            j = a.left_join(mp, a._key == mp._mv)
            a = j.select(*a.columns, _cid=j._mc, _ci=j._ci)
        if ident.conflicts is not None:
            cf = ident.conflicts
            cf = cf.filter(cf._src == s.index).select(_cf_fidx="_fidx", _cf_row="_row").distinct()
            j = a.left_join(cf, (a._fidx == cf._cf_fidx) & (a._row == cf._cf_row))
            a = j.select(*a.columns, _conf=j._cf_row.notnull())
        else:
            a = a.mutate(_conf=ibis.literal(False))
        key_col = s.spec.ids[s.spec.key]
        ok = a._reason.isnull()
        orphan = ok & a._cid.isnull() if s.spec.unresolved == "orphan" else ibis.literal(False)
        a = a.mutate(
            _reason=ibis.cases((ok & a._conf, "identity_conflict"), (orphan, "orphan"),
                               else_=a._reason),
            _rcol=ibis.cases(((ok & a._conf) | orphan, ibis.literal(key_col)), else_=a._rcol),
        ).drop("_conf")
    # Identifier and dedupe columns served identity resolution and duplicates; no output
    # reads them.  Event ids made of the row position are rebuilt where they are written.
    drop = [f"_id_{k}" for k in s.spec.ids] + [f"_d{i}" for i in range(len(s.spec.dedupe_on or []))]
    drop += ["_key"] + ([] if s.spec.event_id else ["_eid"])
    out = a.drop(*[c for c in drop if c in a.columns])
    # DuckDB: a source resolved while parsing stays an expression (what is left are probes
    # of small tables: duplicates, conflicts); Spark checkpoints every source.
    if engine.cache_classified or not resolved:
        out = engine.materialize(out, f"final_{s.name}")
    if "_eid" not in out.columns:
        out = out.mutate(_eid=_row_event_id(out, s.name, multi_file=len(s.raw.files) > 1))
    return out
