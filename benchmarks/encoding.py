"""Cost of checking a CSV source's encoding (issue 12), against DuckDB reading the same file.

A UTF-8 source (the default) costs nothing extra: DuckDB validates every byte while it reads
(``cxkit.ingest.readers._stop_on_invalid_encoding`` only queries its rejects table). This
prints, side by side in one process on the same file:

- baseline: DuckDB ``read_csv`` of every column as text (what ingestion does anyway), count;
- a full Python UTF-8 decode (``_decode`` with no sink), which cxkit runs only after DuckDB
  found a bad byte, to name it; it is what a pre-check of every file would have cost;
- the latin-1 path (decode + write a UTF-8 copy), for a source declared ``encoding: latin-1``.

    python benchmarks/encoding.py                 # 10M rows (about 600 MB), like ingest.py
    python benchmarks/encoding.py --rows 1000000  # quick run

Data goes to benchmarks/_data/encoding_<rows>.csv (git-ignored) and is reused.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def generate(path: Path, rows: int) -> None:
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.execute(f"""
        COPY (SELECT 'E' || i AS event_id, 'C' || (i % 200000) AS customer_id,
                     TIMESTAMP '2024-01-01' + INTERVAL (i % 31536000) SECOND AS ts,
                     ['page_view', 'order', 'delivery', 'login'][1 + i % 4] AS event,
                     (i % 997) / 10.0 AS value,
                     CASE WHEN i % 50 = 0 THEN 'entrega rápida, ótimo' ELSE 'ok' END AS note
              FROM range({rows}) t(i)) TO '{path}' (HEADER, DELIMITER ',')""")


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    import duckdb

    from cxkit.ingest import readers

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--data", default=str(HERE / "_data"))
    args = p.parse_args(argv)
    path = Path(args.data) / f"encoding_{args.rows}.csv"
    if not path.is_file():
        generate(path, args.rows)
    mb = path.stat().st_size / 1e6

    class Spec:  # what _decode needs for its error message
        file = "benchmark"

    def scan():
        duckdb.execute(f"SELECT count(*) FROM read_csv('{path}', header=true, all_varchar=true)"
                       ).fetchone()

    def check():
        readers._decode(path, "utf-8", Spec, "bench", sink=None)

    def transcode():
        with open(os.devnull, "wb") as sink:
            readers._decode(path, "latin-1", Spec, "bench", sink=sink)

    load = os.getloadavg()
    base = best_of(scan, args.repeat)
    utf8 = best_of(check, args.repeat)
    latin = best_of(transcode, args.repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"file: {path.name}, {mb:,.0f} MB, {args.rows:,} rows; load average {load[0]:.1f}; "
          f"{os.cpu_count()} cores; best of {args.repeat}")
    print(f"{'step':<40}{'seconds':>9}{'MB/s':>9}{'x DuckDB scan':>15}")
    for name, sec in (("DuckDB read_csv count (baseline)", base),
                      ("full UTF-8 decode (failure path only)", utf8),
                      ("latin-1 decode + UTF-8 copy", latin)):
        print(f"{name:<40}{sec:>9.2f}{mb / sec:>9,.0f}{sec / base:>15.2f}")
    print(f"peak memory of this process: {peak:,.0f} MB (chunks of {readers.CHUNK >> 20} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
