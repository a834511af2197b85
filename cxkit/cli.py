"""The ``cxkit`` console script: one subcommand per pipeline step.

Each subcommand only parses arguments and hands over to the package function that does
the work, imported lazily so ``cxkit --help`` stays fast.

Exit codes (README "Exit codes"): 0 ok; 1 the run failed or was stopped, or output could not
be written; 2 bad input or usage (invalid YAML, missing file, bad data, folder busy);
3 the run was published and alerts fired. Expected failures print one message naming what,
where and what to do; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ALERTS = 0, 1, 2, 3  # = cxkit.runs.EXIT_*


def _simulate(args: argparse.Namespace) -> int:
    from cxkit.simulate import write_sample

    out = write_sample(Path(args.out), seed=args.seed, n_customers=args.n_customers)
    print(f"wrote sample data to {out}")
    return EXIT_OK


def _ingest(args: argparse.Namespace) -> int:
    from cxkit.ingest import run_ingest

    report = run_ingest(Path(args.sources), Path(args.out), engine=args.engine,
                        progress=not args.quiet)
    print(report.summary())
    return EXIT_OK if report.ok else EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    from cxkit.runner import run

    return run(Path(args.params), run_id=args.run_id, wait=not args.no_wait,
               debug=getattr(args, "debug", False))


def _runs(args: argparse.Namespace) -> int:
    from cxkit.config import REPORTS_DIR, load_config
    from cxkit.runs import format_history, history

    if args.reports:
        out_dir = Path(args.reports)
    elif args.params:
        out_dir = Path(load_config(args.params).run.out_dir)
    else:
        out_dir = REPORTS_DIR
    if not out_dir.is_dir():
        raise FileNotFoundError(f"{out_dir}: no reports folder here; pass the run YAML "
                                f"(cxkit runs params/sample.yaml) or --reports DIR.")
    table = history(out_dir)
    if args.name:
        table = table[table["name"] == args.name]
    if args.json:
        print(table.drop(columns=["folder"]).to_json(orient="records", indent=2))
    else:
        print(f"runs in {out_dir}:\n{format_history(table)}")
    return EXIT_OK


def _dashboard(args: argparse.Namespace) -> int:
    from cxkit.dashboards.serve import serve

    return serve(run_dir=Path(args.run_dir), port=args.port, token=args.token,
                 notebook=Path(args.notebook) if args.notebook else None)


def build_parser() -> argparse.ArgumentParser:
    from cxkit import __version__

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")
    parser = argparse.ArgumentParser(
        prog="cxkit", description=__doc__.splitlines()[0], parents=[common],
        epilog="exit codes: 0 ok, 1 run failed or stopped, 2 bad input or usage, "
               "3 run published and alerts fired")
    parser.add_argument("--version", action="version", version=f"cxkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", parents=[common],
                       help="write a synthetic multi-source CX dataset with known truth")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", default="data/sample")
    p.add_argument("--n-customers", type=int, default=None,
                   help="number of customers (default: the committed sample's size)")
    p.set_defaults(func=_simulate)

    p = sub.add_parser("ingest", parents=[common],
                       help="ingest sources declared in YAML into journey tables")
    p.add_argument("sources", help="sources YAML, e.g. params/sources/sample.yaml")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--engine", default="duckdb", choices=["duckdb", "pyspark"])
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_ingest)

    p = sub.add_parser("run", parents=[common],
                       help="execute the notebooks of a run with Papermill into reports/")
    p.add_argument("params", help="run parameters YAML, e.g. params/sample.yaml")
    p.add_argument("--run-id", default=None, help="default: UTC timestamp")
    p.add_argument("--no-wait", action="store_true",
                   help="exit 2 at once if another run holds the reports folder")
    p.set_defaults(func=_run)

    p = sub.add_parser("runs", parents=[common],
                       help="list past runs: id, status, start, duration, data hash, gate, alerts")
    p.add_argument("params", nargs="?", default=None,
                   help="run YAML whose run.out_dir to list (default: reports/)")
    p.add_argument("--reports", default=None, help="reports folder to list")
    p.add_argument("--name", default=None, help="only runs with this run.name")
    p.add_argument("--json", action="store_true", help="JSON records instead of a table")
    p.set_defaults(func=_runs)

    p = sub.add_parser("dashboard", parents=[common],
                       help="serve the Voila dashboards on localhost with a token")
    p.add_argument("--run-dir", default="reports/latest")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--token", default=None, help="default: a random token, printed in the URL")
    p.add_argument("--notebook", default=None, help="a dashboards folder or notebook; default: dashboards/")
    p.set_defaults(func=_dashboard)
    return parser


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean bad input or usage (exit 2): their message is the whole story."""
    from cxkit.config import ConfigError
    from cxkit.ingest.errors import IngestError
    from cxkit.runner import RunnerError

    return (ConfigError, IngestError, RunnerError, FileNotFoundError, NotADirectoryError,
            ValueError, KeyError)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cxkit`` script; returns the exit code."""
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    where = f"cxkit {args.command}"
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"{where}: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except _expected_errors() as exc:
        if debug:
            traceback.print_exc()
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"{where}: {text}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # disk full, read-only or missing output folder
        if debug:
            traceback.print_exc()
        from cxkit.runs import describe_os_error

        print(f"{where}: {describe_os_error(exc, Path(exc.filename or '.'))}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - unexpected: still one line, traceback on demand
        if debug:
            traceback.print_exc()
        print(f"{where}: unexpected {type(exc).__name__}: {exc}. This is probably a bug in "
              f"cxkit: run again with --debug for the traceback and report it.",
              file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
