"""Execute a run's notebooks with Papermill and publish ``reports/<run_id>/`` atomically.

The run flow (docs/ARCHITECTURE.md, "A run"):

1. validate ``params/<run>.yaml`` (:func:`cxkit.config.load_config`);
2. map its sections onto each notebook's parameters and check every injected name exists in
   that notebook's ``parameters`` cell (papermill would only warn and use the default);
3. execute the notebooks in order into ``reports/.<run_id>.tmp/`` (one kernel each, all
   writing their tables and models into that folder);
4. write HTML reports (code hidden) and ``manifest.json``;
5. success: rename to ``reports/<run_id>/`` and swap the ``reports/latest`` symlink with
   ``os.replace`` (readers never see a missing or half-written ``latest``);
   failure: rename to ``reports/<run_id>.failed/``, leave ``latest`` alone, exit non-zero.

Unattended runs (:mod:`cxkit.runs`): one run at a time per reports folder (a lock; the
second waits or, with ``wait=False``, exits 2); SIGTERM / SIGINT stop the kernel and keep
``<run_id>.failed/`` with the reason; a full or read-only disk gives one clear line and
never moves ``latest``; a ``.tmp`` folder left by a killed run is reported and kept as
``.failed`` by the next run. After the notebooks, :mod:`cxkit.trend` compares the run with
the previous successful one of the same name and :mod:`cxkit.alerts` applies the alert
rules (exit code 3 when alerts fired).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Sequence

from cxkit import config
from cxkit.config import ConfigError, RunConfig, load_config
from cxkit.provenance import git_state, input_files, sha256  # noqa: F401 - re-exported
from cxkit.runs import (EXIT_ALERTS, EXIT_FAILED, EXIT_OK, EXIT_USAGE, KERNEL_LOG,
                        RunBusyError, RunStopped, clean_stale, describe_os_error,
                        free_run_id, hold_lock, logged_kernel_manager, now_iso, run_paths,
                        stop_on_signals, write_json)

#: The notebooks of a run, in execution order (stems in ``notebooks/``).
NOTEBOOKS = ("10_ingest_journeys", "20_driver_model", "30_revenue_impact")

#: The kernel every notebook runs in. Papermill resolves "python3" to the interpreter that
#: runs cxkit itself (ipykernel's native kernel), so runs never depend on which kernels a
#: user has registered; analysts use the "cxkit" kernel in JupyterLab, the same venv.
KERNEL_NAME = "python3"

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class RunnerError(RuntimeError):
    """A run that cannot start: bad notebook parameters, run id in use, ..."""


# --------------------------------------------------------------------------- parameters
def notebook_parameters(cfg: RunConfig, notebook: str, run_dir: str | Path) -> dict[str, Any]:
    """The Papermill parameters one notebook of the run receives.

    Parameters
    ----------
    cfg : RunConfig
        Validated run parameters.
    notebook : str
        Notebook stem (``"20_driver_model"``); notebooks outside :data:`NOTEBOOKS` get only
        ``run_dir``.
    run_dir : str or Path
        Folder the notebook writes its tables and models into.

    Examples
    --------
    >>> notebook_parameters(cfg, "30_revenue_impact", "/tmp/run")["horizon_days"]  # doctest: +SKIP
    180
    """
    params: dict[str, Any] = {"run_dir": str(run_dir)}
    d, v, o = cfg.drivers, cfg.value, cfg.olist
    if notebook == "10_ingest_journeys":
        params |= {"sources": str(cfg.ingest.sources), "window_days": cfg.ingest.window_days,
                   "engine": cfg.ingest.engine, "segment": v.segment, "seed": d.seed}
    elif notebook == "20_driver_model":
        params |= {"outcome": d.outcome, "family": d.family, "drivers": list(d.drivers),
                   "segments": list(d.segments), "draws": d.draws, "tune": d.tune,
                   "chains": d.chains, "seed": d.seed,
                   "parametrization": d.parametrization, "target_accept": d.target_accept,
                   "allow_failed_gate": d.allow_failed_gate,
                   "olist_sources": str(o.sources) if o else "",
                   "olist_outcome": o.outcome if o else "review_score",
                   "olist_family": o.family if o else "gaussian",
                   "olist_drivers": list(o.drivers) if o else [],
                   "olist_segments": list(o.segments) if o else []}
    elif notebook == "30_revenue_impact":
        params |= {"score": v.score, "segment": v.segment, "cutoff": v.cutoff or "",
                   "horizon_days": v.horizon_days, "seed": d.seed,
                   "draws": d.draws, "tune": d.tune, "chains": d.chains,
                   "allow_failed_gate": d.allow_failed_gate,
                   "scenarios": [s.model_dump(mode="json") for s in v.scenarios]}
    return params


def check_parameters(notebook: str | Path, params: dict[str, Any]) -> None:
    """Raise :class:`RunnerError` unless every name in ``params`` is in the notebook's
    ``parameters`` cell (Papermill itself only warns and runs with the default)."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    if not declared:
        raise RunnerError(f"{notebook}: no cell tagged 'parameters'. Tag the cell holding "
                          f"the notebook's parameters (JupyterLab: property inspector > tags).")
    missing = sorted(set(params) - set(declared))
    if missing:
        raise RunnerError(f"{notebook}: the run injects {missing} but the parameters cell "
                          f"declares only {sorted(declared)}. Add them to the parameters "
                          f"cell or fix the mapping in cxkit.runner.notebook_parameters.")


def _notebook_paths(notebooks: Sequence[str | Path] | None) -> list[Path]:
    if notebooks is None:
        paths = [config.NOTEBOOKS_DIR / f"{stem}.ipynb" for stem in NOTEBOOKS]
    else:
        paths = [Path(p).resolve() for p in notebooks]
    for p in paths:
        if not p.is_file():
            raise RunnerError(f"notebook {p} not found; expected the run's notebooks in "
                              f"{p.parent}.")
    return paths


def prepare(params_path: str | Path, out_dir: str | Path, *,
            notebooks: Sequence[str | Path] | None = None) -> list[Path]:
    """Write the run's notebooks with parameters injected but not executed.

    Used by ``make test``: ``pytest --nbval-lax`` then executes them as a smoke test (with
    ``params/smoke.yaml``), writing their results into ``<out_dir>/run/``.

    Examples
    --------
    >>> prepare("params/smoke.yaml", "build/nbval")  # doctest: +SKIP
    [PosixPath('build/nbval/10_ingest_journeys.ipynb'), ...]
    """
    import papermill

    cfg = load_config(params_path)
    out_dir = Path(out_dir).resolve()
    run_dir = out_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for nb in _notebook_paths(notebooks):
        params = notebook_parameters(cfg, nb.stem, run_dir)
        check_parameters(nb, params)
        out = out_dir / nb.name
        papermill.execute_notebook(str(nb), str(out), parameters=params, prepare_only=True,
                                   kernel_name=KERNEL_NAME, progress_bar=False)
        written.append(out)
    return written


def _error_info(notebook: str, exc: BaseException) -> dict[str, Any]:
    info = {"notebook": notebook, "type": type(exc).__name__,
            "message": str(exc).strip()[-4000:]}
    # Papermill's error carries the notebook exception's own name and value.
    for attr in ("ename", "evalue", "exec_count"):
        if hasattr(exc, attr):
            info[attr] = getattr(exc, attr)
    if not hasattr(exc, "ename"):
        info["traceback"] = traceback.format_exc()[-4000:]
    return info


# --------------------------------------------------------------------------- publishing
def _swap_latest(out_dir: Path, run_id: str) -> Path:
    latest = out_dir / "latest"
    if latest.exists() and not latest.is_symlink():
        raise RunnerError(f"{latest} exists and is not a symlink; move it away so the runner "
                          f"can point it at the newest good run.")
    tmp_link = out_dir / f".latest.{run_id}.tmp"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    # Relative target: the reports folder can be moved or mounted elsewhere.
    os.symlink(run_id, tmp_link)
    os.replace(tmp_link, latest)
    return latest



def _loud(msg: str) -> None:
    bar = "!" * 78
    print(f"\n{bar}\n{msg}\n{bar}", file=sys.stderr, flush=True)


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(params_path: str | Path, run_id: str | None = None, *,
        notebooks: Sequence[str | Path] | None = None,
        kernel_name: str = KERNEL_NAME, wait: bool = True) -> int:
    """Execute a whole run and publish it; the ``cxkit run`` command.

    Parameters
    ----------
    params_path : str or Path
        Run YAML, e.g. ``params/sample.yaml``.
    run_id : str, optional
        Folder name under ``run.out_dir``; default the UTC second the run starts (with
        ``-2``, ``-3``... when that id is taken).
    notebooks : sequence of paths, optional
        Notebooks to execute in order; default :data:`NOTEBOOKS` in ``notebooks/``.
    kernel_name : str
        Jupyter kernel; default the interpreter running cxkit.
    wait : bool
        When another run holds the reports folder: True waits for it (with a message),
        False returns 2 at once (``--no-wait``).

    Returns
    -------
    int
        0 published; 1 the run failed or was stopped (kept as ``<run_id>.failed``), or its
        output could not be written; 2 it could not start (invalid YAML, parameters, run id,
        folder busy or not writable); 3 published and alerts fired.

    Examples
    --------
    >>> run("params/sample.yaml", run_id="demo")  # doctest: +SKIP
    0
    """
    try:
        # validated before papermill/nbconvert load, so a bad YAML fails in a blink
        cfg = load_config(params_path)
        if run_id is not None and (not _RUN_ID.match(run_id) or run_id == "latest"
                                   or run_id.endswith((".failed", ".tmp"))):
            raise RunnerError(f"run id {run_id!r} is not usable as a folder name: use "
                              f"letters, digits, '_', '-', '.', not 'latest', '*.failed' "
                              f"or '*.tmp'.")
        out_dir = Path(cfg.run.out_dir)
        paths = _notebook_paths(notebooks)
        for nb in paths:
            check_parameters(nb, notebook_parameters(cfg, nb.stem, out_dir / ".check"))
        if cfg.alerts is not None:
            from cxkit.alerts import load_rules

            load_rules(cfg.alerts.rules)  # a bad rules file stops the run before it starts
    except (ConfigError, RunnerError, ValueError) as exc:
        _say(f"cxkit run: {exc}")
        return EXIT_USAGE

    try:
        with stop_on_signals(), hold_lock(out_dir, run_id=run_id, wait=wait, say=_say):
            clean_stale(out_dir, found_by=run_id or "(new run)", say=_say)
            if run_id is None:
                run_id = free_run_id(out_dir)
            else:
                for taken in run_paths(out_dir, run_id):
                    if taken.exists():
                        raise RunnerError(f"{taken} already exists (an earlier run with this "
                                          f"id); pick another --run-id or delete it.")
            return _execute(cfg, run_id, paths, kernel_name)
    except RunBusyError as exc:
        _say(f"cxkit run: {exc}")
        return EXIT_USAGE
    except RunnerError as exc:
        _say(f"cxkit run: {exc}")
        return EXIT_USAGE
    except RunStopped as exc:
        # stopped while waiting for the lock or between steps outside the notebook loop
        if run_id is not None and run_paths(out_dir, run_id)[2].is_dir():
            clean_stale(out_dir, found_by=f"{run_id} itself ({exc})", say=_say)
        _loud(f"RUN STOPPED: {exc}; {out_dir / 'latest'} still points at the last good run.")
        return EXIT_FAILED
    except OSError as exc:
        _say(f"cxkit run: {describe_os_error(exc, out_dir)}. Nothing was published.")
        return EXIT_USAGE


def _execute(cfg: RunConfig, run_id: str, paths: list[Path], kernel_name: str) -> int:
    """Run the notebooks into ``.<run_id>.tmp`` and publish; the lock is held."""
    import papermill

    from cxkit.publish import package_versions

    out_dir = Path(cfg.run.out_dir)
    final, failed, tmp = run_paths(out_dir, run_id)
    plan = {nb.stem: notebook_parameters(cfg, nb.stem, tmp) for nb in paths}
    inputs = input_files(cfg, paths)
    manifest: dict[str, Any] = {
        "run_id": run_id, "name": cfg.run.name, "status": "running",
        "params_file": str(cfg.source), "parameters": cfg.to_jsonable(),
        "notebook_parameters": plan,
        "inputs": [{"path": str(p), "sha256": sha256(p), "bytes": p.stat().st_size}
                   for p in inputs],
        "git": git_state(), "versions": package_versions(),
        "started_at": now_iso(), "finished_at": None, "notebooks": [], "warnings": [],
        "gate_failed": False, "error": None, "reason": None,
    }
    try:
        tmp.mkdir(parents=True, exist_ok=False)
        write_json(tmp / "manifest.json", manifest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _say(f"cxkit run: {describe_os_error(exc, out_dir)}. Nothing was run or published.")
        return EXIT_USAGE
    print(f"cxkit run {run_id}: {len(paths)} notebooks -> {final}", flush=True)

    error: BaseException | None = None
    for i, nb in enumerate(paths, 1):
        out_nb = tmp / nb.name
        t0 = time.perf_counter()
        print(f"[{i}/{len(paths)}] {nb.stem} ...", flush=True)
        entry = {"notebook": nb.stem, "output": out_nb.name, "status": "running"}
        manifest["notebooks"].append(entry)
        try:
            papermill.execute_notebook(str(nb), str(out_nb), parameters=plan[nb.stem],
                                       kernel_name=kernel_name, cwd=str(tmp),
                                       progress_bar=False,
                                       kernel_manager_class=logged_kernel_manager(
                                           tmp / KERNEL_LOG))
            entry["status"] = "succeeded"
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - recorded and reported
            entry["status"] = "stopped" if isinstance(exc, KeyboardInterrupt) else "failed"
            error = exc
            manifest["error"] = _error_info(nb.stem, exc)
        entry["seconds"] = round(time.perf_counter() - t0, 2)
        print(f"      {entry['status']} in {entry['seconds']} s", flush=True)
        if error is not None:
            break
    return _finish(cfg, run_id, manifest, error)


def _reason(manifest: dict, error: BaseException) -> str:
    err = manifest["error"]
    if isinstance(error, RunStopped):
        return f"{error} during notebook {err['notebook']}"
    return (f"notebook {err['notebook']}: {err.get('ename', err['type'])}: "
            f"{err.get('evalue', err['message'][:500])}")


def _close_loop(cfg: RunConfig, tmp: Path, manifest: dict) -> list[str]:
    """Trend against the previous successful run, then alert rules; returns report lines."""
    from cxkit.runs import previous_success
    from cxkit.trend import describe_changes, update_trend, write_changes

    out_dir = Path(cfg.run.out_dir)
    previous = previous_success(out_dir, cfg.run.name, before=manifest["started_at"])
    trend = update_trend(tmp, previous, run_id=manifest["run_id"], run_name=cfg.run.name,
                         finished_at=now_iso(), segments=cfg.drivers.segments)
    changes = describe_changes(trend)
    write_changes(trend, changes, tmp / "trend.html")
    manifest["trend"] = {"previous_run_id": previous.name if previous else None,
                         "changes": changes}
    if cfg.alerts is not None:
        from cxkit.alerts import run_alerts

        from cxkit.publish import record_warning

        section = run_alerts(cfg.alerts.rules, tmp, trend=trend, run_id=manifest["run_id"],
                             send=cfg.alerts.deliver, previous_dir=previous)
        manifest["alerts"] = section
        for d in section["deliveries"]:
            if not d["ok"]:  # the alerts stay in alerts.csv / alerts.json
                record_warning(tmp, f"alert delivery by {d['channel']} to {d['target']} "
                                    f"failed ({d['error']}); the {d['alerts']} alert(s) are in "
                                    f"alerts.csv", kind="alert_delivery")
    return changes


def _finish(cfg: RunConfig, run_id: str, manifest: dict, error: BaseException | None) -> int:
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
    manifest["warnings"] = warnings
    manifest["gate_failed"] = any(w.get("kind") == "gate_failed" for w in warnings)
    banner = [w["message"] for w in warnings]
    if error is not None:
        manifest["reason"] = _reason(manifest, error)
        err = manifest["error"]
        banner = [f"RUN FAILED in {err['notebook']}: {err.get('ename', err['type'])}: "
                  f"{err.get('evalue', err['message'][:500])}"] + banner
    if write_error is None:
        for entry in manifest["notebooks"]:
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
                manifest["error"] = manifest["error"] or _error_info(entry["notebook"], exc)
                manifest["reason"] = manifest["reason"] or f"HTML report: {exc}"
    if write_error is not None:
        error = error or write_error
        manifest["reason"] = manifest["reason"] or describe_os_error(write_error, out_dir)
    manifest["finished_at"] = now_iso()
    manifest["status"] = "failed" if error is not None else "succeeded"
    try:
        write_json(tmp / "manifest.json", manifest)
    except OSError as exc:
        write_error = write_error or exc
        if error is None:
            error = exc
            manifest["reason"] = describe_os_error(exc, out_dir)
    if error is None:
        try:
            os.replace(tmp, final)
            latest = _swap_latest(out_dir, run_id)
        except OSError as exc:  # the run folder goes back to .failed; latest never moved
            error = write_error = exc
            manifest.update(status="failed", reason=describe_os_error(exc, out_dir))
            source = final if final.is_dir() else tmp
            try:
                os.replace(source, failed)
                write_json(failed / "manifest.json", manifest)
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
        _loud(f"RUN FAILED: {run_id}: {manifest['reason']}\n{kept}\n"
              f"{out_dir / 'latest'} still points at the last good run.")
        return EXIT_FAILED
    if manifest["gate_failed"]:
        _loud("PUBLISHED WITH A FAILED CONVERGENCE GATE (allow_failed_gate=true):\n"
              + "\n".join(banner))
    elif banner:
        _loud("PUBLISHED WITH WARNINGS:\n" + "\n".join(banner))
    print(f"\nReport: {final}\n"
          f"  HTML: " + ", ".join(str(final / e["html"]) for e in manifest["notebooks"]
                                  if "html" in e) + "\n"
          f"  {latest} -> {run_id}\n"
          f"Dashboard: make dashboard   (or: cxkit dashboard --run-dir {latest})", flush=True)
    if changes:
        print("Changes since the previous run:\n  " + "\n  ".join(changes), flush=True)
    fired = (manifest.get("alerts") or {}).get("fired", [])
    if fired:
        print(f"ALERTS: {len(fired)} fired -> {final / 'alerts.csv'} (exit code 3)",
              flush=True)
        return EXIT_ALERTS
    return EXIT_OK


def _ingest_warnings(run_dir: Path) -> list[dict]:
    """Warnings of the run's ingest report (e.g. a source with no data rows)."""
    import json

    path = run_dir / "ingest" / "ingest_report.json"
    if not path.is_file():
        return []
    report = json.loads(path.read_text(encoding="utf-8"))
    return [{"kind": "ingest", "message": m} for m in report.get("warnings", [])]
