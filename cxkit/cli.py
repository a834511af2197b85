"""The ``cxkit`` console script: one subcommand per pipeline step.

Each subcommand only parses arguments and hands over to the package function that does
the work, imported lazily so ``cxkit --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _simulate(args: argparse.Namespace) -> int:
    from cxkit.simulate import write_sample

    out = write_sample(Path(args.out), seed=args.seed, n_customers=args.n_customers)
    print(f"wrote sample data to {out}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from cxkit.ingest import run_ingest

    report = run_ingest(Path(args.sources), Path(args.out), engine=args.engine,
                        progress=not args.quiet)
    print(report.summary())
    return 0 if report.ok else 1


def _run(args: argparse.Namespace) -> int:
    from cxkit.runner import run

    return run(Path(args.params), run_id=args.run_id)


def _dashboard(args: argparse.Namespace) -> int:
    from cxkit.dashboards.serve import serve

    return serve(run_dir=Path(args.run_dir), port=args.port, token=args.token,
                 notebook=Path(args.notebook) if args.notebook else None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cxkit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", help="write a synthetic multi-source CX dataset with known truth")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", default="data/sample")
    p.add_argument("--n-customers", type=int, default=None,
                   help="number of customers (default: the committed sample's size)")
    p.set_defaults(func=_simulate)

    p = sub.add_parser("ingest", help="ingest sources declared in YAML into journey tables")
    p.add_argument("sources", help="sources YAML, e.g. params/sources/sample.yaml")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--engine", default="duckdb", choices=["duckdb", "pyspark"])
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_ingest)

    p = sub.add_parser("run", help="execute the notebooks of a run with Papermill into reports/")
    p.add_argument("params", help="run parameters YAML, e.g. params/sample.yaml")
    p.add_argument("--run-id", default=None, help="default: UTC timestamp")
    p.set_defaults(func=_run)

    p = sub.add_parser("dashboard", help="serve the Voila dashboards on localhost with a token")
    p.add_argument("--run-dir", default="reports/latest")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--token", default=None, help="default: a random token, printed in the URL")
    p.add_argument("--notebook", default=None, help="a dashboards folder or notebook; default: dashboards/")
    p.set_defaults(func=_dashboard)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
