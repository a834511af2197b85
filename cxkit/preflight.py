"""Start-up checks of a run: the sources YAML, the catalog, the files they name and every
column the run YAML uses, before any notebook executes, with every problem listed at once.

A column the run YAML names (outcome, drivers, segments, scores, scenario drivers, snapshot
columns) must be one that ingestion will write. What ingestion writes follows from the
sources YAML and the catalog alone (docs/YOUR_DATA.md, "What ingest writes"):

- ``responses``: ``response_id, customer_id, responded_at``, the customers' segments and
  the responses' own segments, the score names, ``verbatim``, and per catalog touchpoint
  with an expectation rule ``had_/n_/gap_/breach_/never_<touchpoint>``;
- ``customers``: ``customer_id``, the customers source's segments, ``cohort`` when declared.

Topic flags (``topic_<k>``) are written later by the voice step and are accepted by name.
"""

from __future__ import annotations

import csv
import glob
import re
from pathlib import Path

from cxkit.config import ConfigError, RunConfig
from cxkit.ingest.errors import SchemaMismatchError

__all__ = ["run_problems", "validate_run", "output_columns"]

#: Columns other steps add to the responses table after ingestion (voice: topic flags).
LATER_COLUMNS = re.compile(r"topic_\d+$")


def output_columns(spec, catalog) -> dict[str, list[str]]:
    """Columns ingestion will write to ``responses`` and ``customers`` for these YAMLs.

    Examples
    --------
    >>> from cxkit.ingest import load_sources
    >>> from cxkit.ingest.config import load_catalog
    >>> from cxkit.config import PARAMS_DIR
    >>> spec = load_sources(PARAMS_DIR / "sources" / "sample.yaml")
    >>> cols = output_columns(spec, load_catalog(spec.resolve(spec.catalog)))
    >>> "never_delivery" in cols["responses"], "plan" in cols["customers"]
    (True, True)
    """
    cust = spec.sources[spec.customers_source]
    customers = ["customer_id", *cust.segments]
    if cust.cohort is not None:
        customers.append("cohort")
    responses = ["response_id", "customer_id", "responded_at", *cust.segments]
    for s in spec.sources.values():
        if s.role == "responses":
            responses += [*s.segments, *s.scores, "verbatim"]
            if s.link:
                responses.append("link")
    for tp in catalog.rule_touchpoints:
        responses += [f"{kind}_{tp}" for kind in ("had", "n", "gap", "breach", "never")]
    return {"responses": list(dict.fromkeys(responses)),
            "customers": list(dict.fromkeys(customers))}


def _file_problems(spec) -> list[str]:
    from cxkit.ingest.readers import check_header, required_columns

    out = []
    enriched = {c for s in spec.sources.values() for c in s.enrich}
    for name, src in spec.sources.items():
        if src.path is None:
            continue  # database tables are checked when read
        pattern = spec.resolve(src.path)
        files = sorted(glob.glob(str(pattern)))
        if not files:
            out.append(f"{spec.file}: sources.{name}.path: no file matches {pattern} (paths are "
                       f"relative to the sources YAML; ${{VAR:-default}} may override them)")
            continue
        path = Path(files[0])
        if (src.format or "csv") != "csv" or path.suffix.lower() in (".parquet", ".pq"):
            continue
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                header = next(csv.reader(fh, delimiter=src.delimiter), [])
        except (OSError, UnicodeDecodeError) as exc:
            out.append(f"{path}: cannot read the header ({exc})")
            continue
        try:
            check_header(path, header)
        except SchemaMismatchError as exc:
            out.append(str(exc))
        need = required_columns(src, enriched)
        missing = [c for c in need if c not in header]
        if missing:
            out.append(f"{path}: missing column(s) {missing} mapped in {spec.file} "
                       f"sources.{name}; the file has {header}.")
    return out


def _sources(path: Path, label: str) -> tuple[object, object, list[str]]:
    """(spec, catalog, problems) of one sources YAML; spec/catalog None when unreadable."""
    from cxkit.ingest.api import config_problems
    from cxkit.ingest.config import load_catalog, load_sources
    from cxkit.ingest.errors import ConfigError as IngestConfigError

    try:
        spec = load_sources(path)
    except IngestConfigError as exc:
        return None, None, [f"{label}: {line}" for line in str(exc).splitlines()]
    try:
        catalog = load_catalog(spec.resolve(spec.catalog))
    except IngestConfigError as exc:
        return spec, None, str(exc).splitlines() + _file_problems(spec)
    return spec, catalog, config_problems(spec, catalog) + _file_problems(spec)


def _need(names, have: list[str], where: str, table: str) -> list[str]:
    """One problem per name not in ``have``, with the closest column as a suggestion."""
    import difflib

    what = table if table.startswith("snapshot") else f"{table} table ingestion writes"
    out = []
    for name in [names] if isinstance(names, str) or names is None else names:
        if name and name not in have and not LATER_COLUMNS.match(name):
            close = [h for h in have if h.lower() == name.lower()] or \
                difflib.get_close_matches(name, have, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            out.append(f"{where}: '{name}' is not a column of the {what} "
                       f"({', '.join(have)}).{hint}")
    return out


def run_problems(cfg: RunConfig) -> list[str]:
    """Every problem of a run's YAMLs and inputs, one line each (empty: ready to run)."""
    y = str(cfg.source or "run YAML")
    spec, catalog, problems = _sources(cfg.ingest.sources, f"{y}: ingest.sources")
    if spec is not None and catalog is not None:
        cols = output_columns(spec, catalog)
        resp, cust = cols["responses"], cols["customers"]
        d = cfg.drivers
        problems += _need(d.outcome, resp, f"{y}: drivers.outcome", "responses")
        problems += _need(d.drivers, resp, f"{y}: drivers.drivers", "responses")
        problems += _need(d.segments, resp, f"{y}: drivers.segments", "responses")
        problems += _need(d.summary.score, resp, f"{y}: drivers.summary.score", "responses")
        for key in [*d.categorical, *d.missing]:
            if key not in [*d.drivers, *d.segments]:
                problems.append(f"{y}: drivers.categorical/missing: '{key}' is not one of "
                                f"drivers.drivers or drivers.segments.")
        j = cfg.journeys
        problems += _need(j.segment, cust, f"{y}: journeys.segment", "customers")
        problems += _need(j.gap_segments, cust, f"{y}: journeys.gap_segments", "customers")
        v = cfg.value
        if v is not None:
            problems += _need(v.score, resp, f"{y}: value.score", "responses")
            modelled = set(d.drivers) | {f"never_{c[4:]}" for c in d.drivers
                                         if c.startswith("gap_")}
            modelled |= {f"{c}_missing" for c, p in d.missing.items() if p.action == "indicator"}
            for i, sc in enumerate(v.scenarios):
                one_hot = any(sc.driver.startswith(f"{c}_") for c in d.categorical)
                if sc.driver not in modelled and not one_hot:
                    problems.append(f"{y}: value.scenarios.{i}.driver: '{sc.driver}' is not a "
                                    f"driver of the model ({sorted(modelled)}).")
            if v.snapshot is not None:
                problems += _snapshot_problems(v, y)
            else:
                problems += _need([v.segment, *v.segments], cust,
                                  f"{y}: value.segment/segments", "customers")
                if not any(s.value for s in spec.sources.values() if s.role == "events"):
                    problems.append(f"{y}: value: no events source of {spec.file} declares "
                                    f"'value' (revenue), and value.snapshot is not set; add "
                                    f"one, or remove the value section to skip that step.")
    if cfg.olist is not None:
        o = cfg.olist
        ospec, ocat, oprob = _sources(o.sources, f"{y}: olist.sources")
        problems += oprob
        if ospec is not None and ocat is not None:
            resp = output_columns(ospec, ocat)["responses"]
            problems += _need([o.outcome, *o.drivers, *o.segments], resp,
                              f"{y}: olist", "Olist responses")
    return problems


def _snapshot_problems(v, y: str) -> list[str]:
    from cxkit.ingest.readers import check_header

    s = v.snapshot
    if not s.path.is_file():
        return [f"{y}: value.snapshot.path: {s.path} not found (relative to the run YAML)."]
    if s.path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        header = pq.read_schema(s.path).names
    else:
        with open(s.path, newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh, delimiter=s.delimiter), [])
        try:
            check_header(s.path, header)
        except SchemaMismatchError as exc:
            return [str(exc)]
    named = [s.customer_id, s.score, s.churned, s.retained, s.revenue, s.revenue_pre,
             *s.segments]
    out = _need([c for c in named if c], header, f"{y}: value.snapshot", f"snapshot {s.path}")
    out += [f"{y}: value.segment: '{c}' is not one of value.snapshot.segments {s.segments}."
            for c in [v.segment] if c not in s.segments]
    return out


def validate_run(cfg: RunConfig) -> None:
    """Raise :class:`cxkit.config.ConfigError` listing every problem of :func:`run_problems`.

    Examples
    --------
    >>> from cxkit.config import load_config, PARAMS_DIR
    >>> validate_run(load_config(PARAMS_DIR / "smoke.yaml"))
    """
    problems = run_problems(cfg)
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) found before running; nothing was "
                          f"executed:\n" + "\n".join(f"  - {p}" for p in problems))
