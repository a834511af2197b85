"""Journey analytics benchmark: transitions, top paths and Sankey links on N synthetic
events, read from the ingested ``journeys`` table next to the baseline of building the
journeys from ``events`` first (what the analytics did before journeys were built once, in
ingestion, and still do when handed events).

    python benchmarks/journeys.py                  # 1 million events, 100,000 customers
    python benchmarks/journeys.py --rows 100000    # a quick run

Both variants run in this process on the same data, side by side, best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def make_events(rows: int, seed: int = 0) -> pd.DataFrame:
    """Events of ``rows / 10`` customers over a year, stages of the catalog order."""
    from cxkit.journeys import STAGE_ORDER

    rng = np.random.default_rng(seed)
    stages = np.array(STAGE_ORDER, dtype=object)
    ev = pd.DataFrame({
        "event_id": np.arange(rows), "customer_id": rng.integers(0, max(rows // 10, 1), rows),
        "source": "web", "source_row": np.arange(rows),
        "event_ts": pd.Timestamp("2024-01-01", tz="UTC")
        + pd.to_timedelta(rng.integers(0, 365 * 86_400, rows), unit="s"),
        "stage": stages[rng.integers(0, len(stages), rows)]})
    ev["touchpoint"] = ev["stage"]
    return ev


def _best(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    from cxkit.ingest.journeys import journeys_from_events
    from cxkit.journeys import sankey_links, top_paths, transition_matrix

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    events = make_events(args.rows)
    journeys = journeys_from_events(events).to_pandas()  # as pandas reads journeys.parquet
    print(f"{args.rows:,} events, {len(journeys):,} journeys; best of {args.repeat}")
    for name, f in (("transition_matrix", lambda d: transition_matrix(d, collapse_repeats=False)),
                    ("top_paths", lambda d: top_paths(d, max_len=3, n=None)),
                    ("sankey_links", lambda d: sankey_links(d, max_steps=4))):
        base = _best(lambda: f(events), args.repeat)
        new = _best(lambda: f(journeys), args.repeat)
        print(f"  {name:<18} from events (baseline) {base:6.2f} s   from journeys {new:6.2f} s"
              f"   journeys / events = {new / base:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
