"""Public entry points: :func:`ingest` (in memory), :func:`run_ingest` (writes files),
:func:`load_ingest` (reads them back)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from cxkit.ingest.catalog import Catalog, load_catalog
from cxkit.ingest.config import SourcesSpec, load_sources
from cxkit.ingest.engine import DuckDBEngine, Engine, make_engine
from cxkit.ingest.errors import ConfigError
from cxkit.ingest.identity import classify, customer_master, resolve_identity
from cxkit.ingest.pipeline import Staged, stage_source
from cxkit.ingest.readers import empty_sources, read_source, required_columns
from cxkit.ingest.report import IngestReport, SourceReport
from cxkit.ingest.tables import (account, customers_table, events_table, gaps_table, journeys_parts,
                                 journeys_table, quarantine_frame, responses_table)

__all__ = ["IngestResult", "ingest", "run_ingest", "load_ingest", "TABLES"]

TABLES = ("events", "customers", "journeys", "gaps", "responses", "quarantine")


@dataclass
class IngestResult:
    """In-memory ingestion output: one pandas DataFrame per table plus the report."""

    events: pd.DataFrame
    customers: pd.DataFrame
    journeys: pd.DataFrame
    gaps: pd.DataFrame
    responses: pd.DataFrame
    quarantine: pd.DataFrame
    report: IngestReport = field(default_factory=IngestReport)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {t: getattr(self, t) for t in TABLES}


def config_problems(spec: SourcesSpec, catalog: Catalog) -> list[str]:
    """Every cross-check failure between the sources YAML and the catalog, one line each
    (names file and key); empty when they agree."""
    where, out = spec.file, []
    for name, s in spec.sources.items():
        tp = s.touchpoint
        if tp is not None and tp.value is not None and tp.value not in catalog.touchpoints:
            out.append(f"{where}: sources.{name}.touchpoint: '{tp.value}' is not in the "
                       f"catalog {catalog.file} (known: {sorted(catalog.touchpoints)})")
        if tp is not None and tp.map:
            bad = sorted(set(tp.map.values()) - set(catalog.touchpoints))
            if bad:
                out.append(f"{where}: sources.{name}.touchpoint.map: {bad} not in the "
                           f"catalog {catalog.file}")
        if tp is not None and tp.value in catalog.touchpoints and catalog.touchpoints[tp.value].rule:
            rule = catalog.touchpoints[tp.value].rule
            missing = [f for f in rule.fields() if f not in s.fields]
            if missing:
                out.append(f"{where}: sources.{name}.fields: touchpoint '{tp.value}' has a "
                           f"{rule.kind} rule in {catalog.file} that needs fields {missing}")
        if s.cohort and s.cohort.first_touchpoint and s.cohort.first_touchpoint not in catalog.touchpoints:
            out.append(f"{where}: sources.{name}.cohort.first_touchpoint: "
                       f"'{s.cohort.first_touchpoint}' is not in the catalog")
    return out


def validate_config(spec: SourcesSpec, catalog: Catalog) -> None:
    """Cross-checks between the sources YAML and the catalog; raises listing every problem."""
    problems = config_problems(spec, catalog)
    if problems:
        raise ConfigError("\n".join(problems))


def _as_spec(sources: Path | str | SourcesSpec) -> SourcesSpec:
    return sources if isinstance(sources, SourcesSpec) else load_sources(sources)


class _Run:
    """One ingestion: builds every output as an engine expression."""

    def __init__(self, spec: SourcesSpec, engine: Engine, progress: bool):
        self.spec = spec
        self.engine = engine
        self.catalog = load_catalog(spec.resolve(spec.catalog))
        validate_config(spec, self.catalog)
        self.as_of = spec.as_of or datetime.now(timezone.utc)
        if self.as_of.tzinfo is None:
            self.as_of = self.as_of.replace(tzinfo=timezone.utc)
        self.t0 = time.perf_counter()
        self.progress = progress

    def build(self):
        spec, eng = self.spec, self.engine
        reader = eng.raw if isinstance(eng, DuckDBEngine) else duckdb.connect()
        if not isinstance(eng, DuckDBEngine):
            reader.execute("SET TimeZone='UTC'")
        # Columns other sources look up in a source must exist in it too.
        lookups: dict[str, list[str]] = {n: [] for n in spec.sources}
        for s in spec.sources.values():
            for e in s.enrich.values():
                for step in e.chain:
                    lookups[step.source] += [step.key, step.value]
        names = list(spec.sources)
        # One step per source read and validated, identity, accounting, and one per output
        # table; delay: the bar appears only on inputs that take a while.
        self.bar = bar = tqdm(total=2 * len(names) + 2 + len(TABLES), desc="ingest", unit="step",
                              disable=not self.progress, delay=5, leave=False)
        raws, raw_tables = {}, {}
        for n in names:
            need = required_columns(spec.sources[n]) + [c for c in lookups[n]
                                                         if c not in required_columns(spec.sources[n])]
            raws[n] = read_source(reader, spec, n, need)
            if isinstance(eng, DuckDBEngine):
                raw_tables[n] = eng.con.table(raws[n].table)
            else:
                raw_tables[n] = eng.register_arrow(f"raw_{n}", reader.sql(
                    f'SELECT * FROM "{raws[n].table}"').to_arrow_table())
            bar.set_postfix_str(f"read {n}")
            bar.update()
        if isinstance(eng, DuckDBEngine):
            # Row numbers are fixed now; later steps need no input order, and DuckDB runs
            # them faster and leaner without preserving it.
            eng.raw.execute("SET preserve_insertion_order=false")
        # The customers source first: its kept ids are the canonical customers, which
        # sources keyed by the canonical id resolve against while they are parsed.
        staged: dict[str, Staged] = {}
        master = None
        for n in [spec.customers_source] + [n for n in names if n != spec.customers_source]:
            staged[n] = stage_source(eng, spec, self.catalog, n, raws[n], raw_tables, self.as_of,
                                     master=master)
            if n == spec.customers_source:
                master = customer_master(eng, staged[n])
            bar.set_postfix_str(f"validated {n}")
            bar.update()
        staged = {n: staged[n] for n in names}
        ident = resolve_identity(eng, spec, staged, master)
        bar.update()
        finals = {n: (staged[n], classify(eng, staged[n], ident)) for n in names}
        # The quarantine reads raw values back from the raw tables; after it and the
        # report, the outputs read only the classified tables.
        accounts = {n: account(eng, f) for n, (_, f) in finals.items()}
        self.quarantine = quarantine_frame(eng, finals, accounts)
        self.report = self._report(finals, ident, accounts)
        if isinstance(eng, DuckDBEngine):
            eng.drop_intermediates([f for _, f in finals.values()])
        cust_spec = spec.sources[spec.customers_source]
        segments = list(cust_spec.segments) + (["cohort"] if cust_spec.cohort else [])
        events = events_table(finals, self.catalog)
        gaps = gaps_table(finals, self.catalog, eng, self.as_of)
        customers = customers_table(spec, finals, ident, events)
        self.exprs = {
            "events": events,
            "customers": customers,
            "journeys": journeys_table(events, customers, segments, eng, self.catalog) if events is not None else None,
            "gaps": gaps,
            "responses": responses_table(spec, finals, self.catalog, gaps, customers, segments),
        }
        # Columns whose values the catalog and the sources fix (the engine may encode them).
        tps = self.catalog.touchpoints
        self.categories = {"events": {
            "source": list(names), "touchpoint": list(tps),
            "stage": [v.stage for v in tps.values()], "channel": [v.channel for v in tps.values()]}}
        self.journeys_fast = None
        if isinstance(eng, DuckDBEngine) and events is not None:
            stage = {k: v.stage for k, v in tps.items()}
            seq, seg, head = journeys_parts(finals, events, customers, segments)
            master = ident.maps[spec.identity.canonical]
            self.journeys_fast = lambda: eng.journeys_arrow(seq, master, seg, head, stage)
        bar.set_postfix_str("accounted")
        bar.update()
        return self

    def step(self, label: str, last: bool = False) -> None:
        """Advance the progress bar past one output table (close it after the last)."""
        self.bar.set_postfix_str(label)
        self.bar.update()
        if last:
            self.bar.close()

    def _report(self, finals, ident, accounts) -> IngestReport:
        eng = self.engine
        sources = {}
        for n, (s, f) in finals.items():
            kept, q = accounts[n]
            by = {str(r): int(c) for r, c in q["_qreason"].value_counts().items()}
            if len(s.raw.malformed):
                by["malformed_row"] = by.get("malformed_row", 0) + len(s.raw.malformed)
            by = dict(sorted(by.items()))
            q = sum(by.values())
            sources[n] = SourceReport(rows_in=kept + q, kept=kept, quarantined=q, by_reason=by,
                                      files=s.raw.files, role=s.spec.role)
        conflicts = []
        if ident.conflicts is not None:
            c = eng.to_pandas(ident.conflicts)
            names = list(finals)
            for row in c.sort_values(["kind", "value", "_src", "_fidx", "_row"]).itertuples():
                src = finals[names[int(row._1)]][0]
                conflicts.append({"kind": row.kind, "value": row.value, "owner": row.owner,
                                  "claimed_by": row.claimant, "source": src.name,
                                  "file": src.raw.files[int(row._2)], "source_row": int(row._3)})
        return IngestReport(sources=sources, identity_conflicts=conflicts, engine=eng.name,
                            as_of=self.as_of.isoformat(), window_days=self.spec.window_days,
                            max_quarantine_share=self.spec.max_quarantine_share,
                            sources_file=self.spec.file, warnings=empty_sources(sources))


def _finish(report: IngestReport, sizes: dict[str, int], t0: float) -> None:
    report.outputs = sizes
    report.seconds = round(time.perf_counter() - t0, 3)


def ingest(sources: Path | str | SourcesSpec, *, engine: str | Engine = "duckdb",
           progress: bool = False) -> IngestResult:
    """Ingest the sources declared in a YAML file into in-memory tables.

    Parameters
    ----------
    sources : path or SourcesSpec
        The sources YAML (``params/sources/sample.yaml``) or an already loaded spec.
    engine : {"duckdb", "pyspark"} or Engine
        Where the transformations run; both give identical tables.
    progress : bool
        Show a progress bar over the pipeline steps.

    Returns
    -------
    IngestResult
        ``.events, .customers, .journeys, .gaps, .responses, .quarantine`` and ``.report``.

    Examples
    --------
    >>> res = ingest("params/sources/sample.yaml")          # doctest: +SKIP
    >>> res.report.sources["orders"].by_reason               # doctest: +SKIP
    {'bad_timestamp': 3, 'duplicate_event': 4}
    """
    spec = _as_spec(sources)
    eng = make_engine(engine)
    own = not isinstance(engine, Engine)
    try:
        run = _Run(spec, eng, progress).build()
        out = {}
        for name, expr in run.exprs.items():
            if name == "journeys" and run.journeys_fast is not None:
                out[name] = _tidy(DuckDBEngine.plain_lists(run.journeys_fast()).to_pandas())
            else:
                out[name] = _empty(name) if expr is None else _tidy(eng.to_pandas(expr))
            run.step(name)
        out["quarantine"] = run.quarantine
        run.step("quarantine", last=True)
        _finish(run.report, {k: len(v) for k, v in out.items()}, run.t0)
        return IngestResult(**out, report=run.report)
    finally:
        if own:
            eng.close()


def _tidy(df: pd.DataFrame) -> pd.DataFrame:
    # List columns come back as numpy arrays from Parquet and some engines: plain lists
    # everywhere, so tables compare equal whichever way they were produced.
    for c in df.columns:
        if df[c].dtype == object:
            first = next((v for v in df[c] if v is not None and not isinstance(v, float)), None)
            if hasattr(first, "tolist") and not isinstance(first, str):
                df[c] = [None if v is None else list(v) for v in df[c]]
    return df


def _empty(name: str) -> pd.DataFrame:
    from cxkit.ingest.tables import EVENT_COLUMNS, GAP_COLUMNS
    cols = {"events": EVENT_COLUMNS, "gaps": GAP_COLUMNS}.get(name, ["customer_id"])
    return pd.DataFrame(columns=cols)


def run_ingest(sources: Path, out: Path, *, engine: str = "duckdb", progress: bool = True) -> IngestReport:
    """Ingest and write ``events, customers, journeys, gaps, responses, quarantine`` as
    Parquet plus ``ingest_report.json`` into ``out``.

    Tables are written by the engine straight to Parquet (no pandas round trip on DuckDB),
    so this is the path for large inputs.

    Examples
    --------
    >>> report = run_ingest(Path("params/sources/sample.yaml"), Path("out"))  # doctest: +SKIP
    >>> print(report.summary())                                              # doctest: +SKIP
    """
    spec = _as_spec(sources)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    eng = make_engine(engine)
    try:
        run = _Run(spec, eng, progress).build()
        sizes = {}
        for name, expr in run.exprs.items():
            path = out / f"{name}.parquet"
            if expr is None:
                _empty(name).to_parquet(path, index=False)
            elif name == "journeys" and run.journeys_fast is not None:
                # Without the Arrow schema the dictionary-encoded lists read back as
                # plain list<string> in every reader.
                pq.write_table(run.journeys_fast(), path, store_schema=False)
            else:
                eng.to_parquet(expr, path, categories=run.categories.get(name))
            sizes[name] = int(duckdb.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0])
            run.step(f"wrote {name}")
        run.quarantine.to_parquet(out / "quarantine.parquet", index=False)
        sizes["quarantine"] = len(run.quarantine)
        run.step("wrote quarantine", last=True)
        _finish(run.report, sizes, run.t0)
        run.report.to_json(out / "ingest_report.json")
        return run.report
    finally:
        eng.close()


def load_ingest(directory: Path | str) -> IngestResult:
    """Read the output of :func:`run_ingest` back into an :class:`IngestResult`.

    Examples
    --------
    >>> res = load_ingest("reports/latest/ingest")  # doctest: +SKIP
    """
    d = Path(directory)
    missing = [t for t in TABLES if not (d / f"{t}.parquet").is_file()]
    if missing or not (d / "ingest_report.json").is_file():
        raise FileNotFoundError(f"{d}: not an ingest output folder (missing "
                                f"{[m + '.parquet' for m in missing] or ['ingest_report.json']}); "
                                "write one with `cxkit ingest SOURCES.yaml --out DIR`")
    tables = {t: _tidy(pd.read_parquet(d / f"{t}.parquet")) for t in TABLES}
    return IngestResult(**tables, report=IngestReport.from_json(d / "ingest_report.json"))
