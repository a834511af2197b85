"""Ingestion benchmark: N synthetic events (CSV and Parquet) ingested, validated and built
into journeys by cxkit, next to a bare DuckDB scan of the same files and a plain pandas
implementation of the same steps.

    python benchmarks/ingest.py                 # 10 million events (the acceptance size)
    python benchmarks/ingest.py --rows 200000   # a quick run

Data goes to benchmarks/_data/ (git-ignored) and is reused when present.  Every measured
variant runs in its own subprocess, which reports its wall time and its peak memory
(``ru_maxrss`` of itself plus its children).
"""

from __future__ import annotations

import argparse
import json
import statistics
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOUCHPOINTS = ["page_view", "search", "login", "add_to_cart", "checkout", "order", "support_ticket"]

CATALOG = """stages: [awareness, usage, purchase, support]
touchpoints:
  page_view: {stage: awareness, channel: web}
  search: {stage: awareness, channel: web}
  login: {stage: usage, channel: web}
  add_to_cart: {stage: purchase, channel: web}
  checkout: {stage: purchase, channel: web}
  order: {stage: purchase, channel: shop}
  support_ticket: {stage: support, channel: support}
"""

SOURCES = """catalog: catalog.yaml
as_of: 2025-01-01T00:00:00Z
sources:
  customers:
    role: customers
    path: customers.{ext}
    ids: {{customer_id: customer_id}}
    key: customer_id
    segments: {{region: region}}
  events:
    role: events
    path: events.{ext}
    ids: {{customer_id: customer_id}}
    key: customer_id
    touchpoint: {{column: event}}
    timestamp: ts
    value: value
"""


def peak_mb() -> float:
    kb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
          + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return kb / 1024


def generate(data: Path, rows: int, customers: int) -> None:
    """Events with about 0.1% bad rows (unknown touchpoint, blank id, bad timestamp,
    orphan) and exact duplicates, written as CSV and Parquet by DuckDB."""
    import duckdb

    data.mkdir(parents=True, exist_ok=True)
    stamp = data / f"rows_{rows}_customers_{customers}.done"
    if stamp.exists():
        return
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    tps = "[" + ", ".join(f"'{t}'" for t in TOUCHPOINTS) + "]"
    con.execute(f"""
        CREATE TABLE c AS SELECT 'C' || lpad(i::VARCHAR, 8, '0') AS customer_id,
            (['North','South','East','West'])[(1 + i % 4)::BIGINT] AS region
        FROM range({customers}) t(i)""")
    con.execute(f"""
        CREATE TABLE e AS SELECT
            CASE WHEN i % 5003 = 0 THEN '' WHEN i % 7001 = 0 THEN 'C99999999'
                 ELSE 'C' || lpad((hash(i) % {customers})::VARCHAR, 8, '0') END AS customer_id,
            CASE WHEN i % 6007 = 0 THEN 'not a time'
                 ELSE strftime(TIMESTAMP '2023-01-01' + to_seconds((hash(i * 7) % 63072000)::BIGINT),
                               '%Y-%m-%dT%H:%M:%SZ') END AS ts,
            CASE WHEN i % 4001 = 0 THEN 'hover' ELSE {tps}[(1 + hash(i * 3) % {len(TOUCHPOINTS)})::BIGINT] END AS event,
            CASE WHEN hash(i * 3) % {len(TOUCHPOINTS)} = 5 THEN round((hash(i) % 20000) / 100, 2) END AS value
        FROM range({rows - rows // 10000}) t(i)""")
    # Exact duplicate rows (0.01%).
    con.execute(f"INSERT INTO e SELECT * FROM e USING SAMPLE {rows // 10000} ROWS (reservoir, 1)")
    for ext, opts in (("csv", "(HEADER)"), ("parquet", "(FORMAT PARQUET)")):
        con.execute(f"COPY c TO '{data / f'customers.{ext}'}' {opts}")
        con.execute(f"COPY e TO '{data / f'events.{ext}'}' {opts}")
    (data / "catalog.yaml").write_text(CATALOG)
    for ext in ("csv", "parquet"):
        (data / f"sources_{ext}.yaml").write_text(SOURCES.format(ext=ext))
    for old in data.glob("rows_*.done"):
        old.unlink()
    stamp.touch()


def run_duckdb_scan(data: Path, ext: str) -> dict:
    import duckdb

    con = duckdb.connect()
    src = (f"read_csv('{data / 'events.csv'}', all_varchar=true)" if ext == "csv"
           else f"read_parquet('{data / 'events.parquet'}')")
    n = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
    return {"rows": int(n)}


def run_cxkit(data: Path, ext: str) -> dict:
    from cxkit.ingest import run_ingest

    report = run_ingest(data / f"sources_{ext}.yaml", data / f"out_cxkit_{ext}", progress=False)
    ev = report.sources["events"]
    return {"rows": ev.rows_in, "kept": ev.kept, "quarantined": ev.quarantined,
            "by_reason": ev.by_reason, "journeys": report.outputs["journeys"],
            "quarantine_digest": _digest_quarantine(data / f"out_cxkit_{ext}")}


def _digest(rows, reasons) -> str:
    """A fingerprint of which rows were quarantined for which reason."""
    import hashlib

    pairs = sorted(zip((int(r) for r in rows), (str(x) for x in reasons)))
    return hashlib.sha256(repr(pairs).encode()).hexdigest()[:16]


def _digest_quarantine(out: Path) -> str:
    import pandas as pd

    q = pd.read_parquet(out / "quarantine.parquet")
    q = q[q.source == "events"]
    return _digest(q.source_row, q.reason)


def run_pandas(data: Path, ext: str) -> dict:
    """The same steps written the plain pandas way."""
    import pandas as pd

    read = (lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)) if ext == "csv" else pd.read_parquet
    cust = read(data / f"customers.{ext}")
    ev = read(data / f"events.{ext}")
    ev["event_ts"] = pd.to_datetime(ev["ts"], errors="coerce", utc=True, format="ISO8601")
    ev["value"] = pd.to_numeric(ev["value"], errors="coerce")
    reason = pd.Series(pd.NA, index=ev.index, dtype="object")
    reason[ev["customer_id"].str.strip().eq("")] = "missing_id"
    reason[reason.isna() & ev["event_ts"].isna()] = "bad_timestamp"
    reason[reason.isna() & (ev["event_ts"] > pd.Timestamp("2025-01-01", tz="UTC"))] = "future_timestamp"
    reason[reason.isna() & ~ev["event"].isin(TOUCHPOINTS)] = "unknown_touchpoint"
    ok = reason.isna()
    dup = ok & ev[["customer_id", "event_ts", "event"]].where(ok).duplicated()
    reason[dup] = "duplicate_event"
    reason[reason.isna() & ~ev["customer_id"].isin(cust["customer_id"])] = "orphan"
    kept = ev[reason.isna()].copy()
    stage = {"page_view": "awareness", "search": "awareness", "login": "usage", "add_to_cart": "purchase",
             "checkout": "purchase", "order": "purchase", "support_ticket": "support"}
    kept["stage"] = kept["event"].map(stage)
    kept = kept.sort_values(["customer_id", "event_ts"], kind="stable")
    journeys = kept.groupby("customer_id").agg(n_events=("event", "size"), first_ts=("event_ts", "min"),
                                               last_ts=("event_ts", "max"),
                                               touchpoint_sequence=("event", list))
    out = data / f"out_pandas_{ext}"
    out.mkdir(exist_ok=True)
    kept.to_parquet(out / "events.parquet", index=False)
    journeys.to_parquet(out / "journeys.parquet")
    bad = reason[reason.notna()]
    return {"rows": len(ev), "kept": len(kept), "quarantined": int(reason.notna().sum()),
            "journeys": len(journeys), "quarantine_digest": _digest(bad.index + 1, bad)}


VARIANTS = {"duckdb_scan": run_duckdb_scan, "cxkit": run_cxkit, "pandas": run_pandas}


def child(variant: str, data: Path, ext: str) -> None:
    t0 = time.perf_counter()
    info = VARIANTS[variant](data, ext)
    info.update(seconds=round(time.perf_counter() - t0, 2), peak_mb=round(peak_mb()))
    print("RESULT " + json.dumps(info))


def measure(variant: str, data: Path, ext: str) -> dict:
    cmd = [sys.executable, __file__, "--child", variant, "--ext", ext, "--data", str(data)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"{variant}/{ext} failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(line[7:])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--customers", type=int, default=None, help="default: rows / 50")
    p.add_argument("--data", default=str(HERE / "_data"))
    p.add_argument("--formats", nargs="+", default=["csv", "parquet"])
    p.add_argument("--skip-pandas", action="store_true")
    p.add_argument("--repeat", type=int, default=1,
                   help="run cxkit this many times per format; the median is compared (default 1)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--ext", default="csv", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    data = Path(args.data)
    if args.child:
        child(args.child, data, args.ext)
        return 0
    customers = args.customers or max(args.rows // 50, 10)
    t0 = time.perf_counter()
    generate(data, args.rows, customers)
    print(f"data: {args.rows:,} events, {customers:,} customers in {data} "
          f"(ready in {time.perf_counter() - t0:.1f} s)")
    ok = True
    for ext in args.formats:
        res = {v: measure(v, data, ext) for v in VARIANTS if v not in ("cxkit", "pandas")}
        runs = [measure("cxkit", data, ext) for _ in range(max(args.repeat, 1))]
        if not args.skip_pandas:
            res["pandas"] = measure("pandas", data, ext)
        secs = sorted(r["seconds"] for r in runs)
        c = dict(runs[0], seconds=statistics.median(secs), peak_mb=max(r["peak_mb"] for r in runs))
        spread = f" (runs: {', '.join(f'{x:.1f}' for x in secs)})" if len(runs) > 1 else ""
        print(f"\n[{ext}] cxkit: {c['seconds']:.1f} s{' median' if spread else ''}{spread}, peak "
              f"{c['peak_mb']:,} MB; rows {c['rows']:,}, kept {c['kept']:,}, quarantined "
              f"{c['quarantined']:,} {c['by_reason']}, journeys {c['journeys']:,}")
        for v, r in res.items():
            print(f"  {v:<12} {r['seconds']:>7.1f} s  peak {r['peak_mb']:>6,} MB  "
                  f"cxkit / {v} = {c['seconds'] / max(r['seconds'], 1e-9):.2f}x")
        if "pandas" in res:
            pd_ = res["pandas"]
            same = all(c[k] == pd_[k] for k in ("rows", "kept", "quarantined", "journeys",
                                                 "quarantine_digest"))
            print("  rows, kept, quarantined, journeys and which row has which reason "
                  + ("agree with pandas" if same else f"DIFFER from pandas: {pd_}"))
            ok &= same
        if args.rows >= 10_000_000:
            ok &= c["seconds"] <= 15 and c["peak_mb"] < 3072
    if args.rows >= 10_000_000:
        print("\ntarget (<= 15 s, < 3 GB peak for 10M events):", "MET" if ok else "NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
