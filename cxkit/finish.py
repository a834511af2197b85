"""After a run's notebooks: trend and alerts, HTML reports, the manifest, then publish
(``reports/<run_id>/`` + the ``latest`` swap) or keep as ``reports/<run_id>.failed/``.

Split from :mod:`cxkit.runner` (which executes the notebooks and calls :func:`finish_run`).
Every write here can meet a full or read-only disk: it then says so in one line, keeps the
notebook's own error, and never moves ``latest``.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from cxkit.config import RunConfig
from cxkit.rundir import Manifest, Run
from cxkit.runs import (EXIT_ALERTS, EXIT_FAILED, EXIT_OK, RunStopped, describe_os_error,
                        now_iso, run_paths)

__all__ = ["finish_run", "error_info", "swap_latest", "loud"]


def error_info(notebook: str, exc: BaseException) -> dict[str, Any]:
    """The manifest's ``error``: notebook, exception type and message (Papermill's carry
    the notebook exception's ``ename`` / ``evalue``), else the traceback."""
    info = {"notebook": notebook, "type": type(exc).__name__,
            "message": str(exc).strip()[-4000:]}
    # Papermill's error carries the notebook exception's own name and value.
    for attr in ("ename", "evalue", "exec_count"):
        if hasattr(exc, attr):
            info[attr] = getattr(exc, attr)
    if not hasattr(exc, "ename"):
        info["traceback"] = traceback.format_exc()[-4000:]
    return info


def swap_latest(out_dir: Path, run_id: str) -> Path:
    """Point ``<out_dir>/latest`` at ``run_id`` with one ``os.replace`` of a new symlink:
    readers see the old run or the new one, never a missing or half-written link."""
    latest = out_dir / "latest"
    if latest.exists() and not latest.is_symlink():
        raise FileExistsError(errno.EEXIST, "exists and is not a symlink (the runner points "
                              "it at the newest good run)", str(latest))
    tmp_link = out_dir / f".latest.{run_id}.tmp"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    # Relative target: the reports folder can be moved or mounted elsewhere.
    os.symlink(run_id, tmp_link)
    os.replace(tmp_link, latest)
    return latest


def loud(msg: str) -> None:
    """A message framed by bars on stderr: a failed or flagged run must not go unseen."""
    bar = "!" * 78
    print(f"\n{bar}\n{msg}\n{bar}", file=sys.stderr, flush=True)


def _reason(manifest: Manifest, error: BaseException) -> str:
    err = manifest.error
    if isinstance(error, RunStopped):
        return f"{error} during notebook {err['notebook']}"
    return (f"notebook {err['notebook']}: {err.get('ename', err['type'])}: "
            f"{err.get('evalue', err['message'][:500])}")


def _close_loop(cfg: RunConfig, tmp: Path, manifest: Manifest) -> list[str]:
    """Trend against the previous successful run, then alert rules; returns report lines."""
    from cxkit.runs import previous_success
    from cxkit.trend import describe_changes, followed_scores, update_trend, write_changes

    out_dir = Path(cfg.run.out_dir)
    previous = previous_success(out_dir, cfg.run.name, before=manifest.started_at)
    trend = update_trend(tmp, previous, run_id=manifest.run_id, run_name=cfg.run.name,
                         finished_at=now_iso(), segments=cfg.drivers.segments,
                         scores=followed_scores(cfg))
    changes = describe_changes(trend)
    write_changes(trend, changes, tmp / "trend.html")
    manifest.trend = {"previous_run_id": previous.name if previous else None,
                      "changes": changes}
    if cfg.alerts is not None:
        from cxkit.alerts import run_alerts

        from cxkit.publish import record_warning

        section = run_alerts(cfg.alerts.rules, tmp, trend=trend, run_id=manifest.run_id,
                             send=cfg.alerts.deliver, previous_dir=previous)
        manifest.alerts = section
        for d in section["deliveries"]:
            if not d["ok"]:  # the alerts stay in alerts.csv / alerts.json
                record_warning(tmp, f"alert delivery by {d['channel']} to {d['target']} "
                                    f"failed ({d['error']}); the {d['alerts']} alert(s) are in "
                                    f"alerts.csv", kind="alert_delivery")
    return changes


def finish_run(cfg: RunConfig, run_id: str, manifest: Manifest,
               error: BaseException | None) -> int:
    """HTML reports, trend, alerts and manifest; then publish or keep as ``.failed``."""
    from cxkit.publish import read_warnings, record_warning
    from cxkit.report import notebook_to_html

    out_dir = Path(cfg.run.out_dir)
    final, failed, tmp = run_paths(out_dir, run_id)
    changes: list[str] = []
    write_error: OSError | None = None
    if error is None:
        try:
            changes = _close_loop(cfg, tmp, manifest)
        except OSError as exc:
            write_error = exc
        except Exception as exc:  # noqa: BLE001 - the report is still worth publishing
            try:
                record_warning(tmp, f"trend or alerts could not be computed: "
                                    f"{type(exc).__name__}: {exc}")
            except OSError as wexc:
                write_error = wexc
    try:
        warnings = read_warnings(tmp) + _ingest_warnings(tmp)
    except (OSError, ValueError):
        warnings = []
    manifest.warnings = warnings
    manifest.gate_failed = any(w.get("kind") == "gate_failed" for w in warnings)
    banner = [w["message"] for w in warnings]
    if error is not None:
        manifest.reason = _reason(manifest, error)
        err = manifest.error
        banner = [f"RUN FAILED in {err['notebook']}: {err.get('ename', err['type'])}: "
                  f"{err.get('evalue', err['message'][:500])}"] + banner
    if write_error is None:
        for entry in manifest.notebooks:
            if entry["status"] == "skipped":
                continue
            out_nb = tmp / entry["output"]
            if not out_nb.is_file():
                continue
            try:
                html = notebook_to_html(out_nb, out_nb.with_suffix(".html"), banner=banner,
                                        changes=changes)
                entry["html"] = html.name
            except OSError as exc:
                write_error = exc
                break
            except Exception as exc:  # noqa: BLE001 - a report failure must not hide the run's
                entry["html_error"] = f"{type(exc).__name__}: {exc}"
                error = error or exc
                manifest.error = manifest.error or error_info(entry["notebook"], exc)
                manifest.reason = manifest.reason or f"HTML report: {exc}"
    if write_error is not None:
        error = error or write_error
        manifest.reason = manifest.reason or describe_os_error(write_error, out_dir)
    manifest.finished_at = now_iso()
    manifest.status = "failed" if error is not None else "succeeded"
    try:
        Run(tmp).write_manifest(manifest)
    except OSError as exc:
        write_error = write_error or exc
        if error is None:
            error = exc
            manifest.reason = describe_os_error(exc, out_dir)
    if error is None:
        try:
            os.replace(tmp, final)
            latest = swap_latest(out_dir, run_id)
        except OSError as exc:  # the run folder goes back to .failed; latest never moved
            error = write_error = exc
            manifest.status, manifest.reason = "failed", describe_os_error(exc, out_dir)
            source = final if final.is_dir() else tmp
            try:
                os.replace(source, failed)
                Run(failed).write_manifest(manifest)
            except OSError:
                pass
    else:
        try:
            os.replace(tmp, failed)
        except OSError:
            failed = tmp
    if error is not None:
        kept = f"Kept for inspection: {failed}  (executed notebooks + manifest.json)"
        if write_error is not None:
            kept += f"\nThe output could not be written: {describe_os_error(write_error, out_dir)}"
        loud(f"RUN FAILED: {run_id}: {manifest.reason}\n{kept}\n"
              f"{out_dir / 'latest'} still points at the last good run.")
        return EXIT_FAILED
    if manifest.gate_failed:
        loud("PUBLISHED WITH A FAILED CONVERGENCE GATE (allow_failed_gate=true):\n"
              + "\n".join(banner))
    elif banner:
        loud("PUBLISHED WITH WARNINGS:\n" + "\n".join(banner))
    print(f"\nReport: {final}\n"
          f"  HTML: " + ", ".join(str(final / e["html"]) for e in manifest.notebooks
                                  if "html" in e) + "\n"
          f"  {latest} -> {run_id}\n"
          f"Dashboard: make dashboard   (or: cxkit dashboard --run-dir {latest})", flush=True)
    if changes:
        print("Changes since the previous run:\n  " + "\n  ".join(changes), flush=True)
    fired = (manifest.alerts or {}).get("fired", [])
    if fired:
        print(f"ALERTS: {len(fired)} fired -> {final / 'alerts.csv'} (exit code 3)",
              flush=True)
        return EXIT_ALERTS
    return EXIT_OK


def _ingest_warnings(run_dir: Path) -> list[dict]:
    """Warnings of the run's ingest report (e.g. a source with no data rows)."""
    import json

    path = Run(run_dir).ingest_dir / "ingest_report.json"
    if not path.is_file():
        return []
    report = json.loads(path.read_text(encoding="utf-8"))
    return [{"kind": "ingest", "message": m} for m in report.get("warnings", [])]
