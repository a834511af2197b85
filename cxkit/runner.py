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

import re
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Sequence

from cxkit import config
from cxkit.config import ConfigError, RunConfig, load_config
from cxkit.finish import error_info, finish_run, loud
from cxkit.provenance import git_state, input_files, sha256  # noqa: F401 - re-exported
from cxkit.rundir import Manifest, Run
from cxkit.runs import (EXIT_FAILED, EXIT_USAGE, KERNEL_LOG, RunBusyError, RunStopped,
                        clean_stale, describe_os_error, free_run_id, hold_lock,
                        logged_kernel_manager, note_holder, now_iso, run_paths,
                        stop_on_signals)

#: The notebooks of a run, in execution order (stems in ``notebooks/``).
NOTEBOOKS = ("10_ingest_journeys", "15_voice", "20_driver_model", "30_revenue_impact")

#: The kernel every notebook runs in. Papermill resolves "python3" to the interpreter that
#: runs cxkit itself (ipykernel's native kernel), so runs never depend on which kernels a
#: user has registered; analysts use the "cxkit" kernel in JupyterLab, the same venv.
KERNEL_NAME = "python3"

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class RunnerError(RuntimeError):
    """A run that cannot start: bad notebook parameters, run id in use, ..."""


# --------------------------------------------------------------------------- parameters
#: The one mapping from run YAML fields onto notebook parameters (plus ``run_dir``, always).
#: ``tests/test_parameters.py`` checks every notebook's parameters cell defaults against the
#: field defaults of :mod:`cxkit.config` through this table.
NOTEBOOK_PARAMETERS: dict[str, dict[str, str]] = {
    "10_ingest_journeys": {
        "sources": "ingest.sources", "window_days": "ingest.window_days",
        "engine": "ingest.engine", "segment": "journeys.segment",
        "gap_segments": "journeys.gap_segments", "seed": "drivers.seed",
    },
    "15_voice": {
        "text": "voice.text", "language": "voice.language", "n_topics": "voice.n_topics",
        "min_share": "voice.min_share", "min_n": "voice.min_n", "seed": "drivers.seed",
        "segments": "voice.segments", "topic_drivers": "voice.topic_drivers",
        "outcome": "drivers.outcome", "family": "drivers.family", "drivers": "drivers.drivers",
        "driver_segments": "drivers.segments", "draws": "drivers.draws",
        "tune": "drivers.tune", "chains": "drivers.chains",
        "parametrization": "drivers.parametrization", "target_accept": "drivers.target_accept",
        "allow_failed_gate": "drivers.allow_failed_gate", "olist_sources": "olist.sources",
    },
    "20_driver_model": {
        "outcome": "drivers.outcome", "family": "drivers.family", "drivers": "drivers.drivers",
        "segments": "drivers.segments", "categorical": "drivers.categorical",
        "missing": "drivers.missing", "never_flags": "drivers.never_flags",
        "summary": "drivers.summary", "draws": "drivers.draws", "tune": "drivers.tune",
        "chains": "drivers.chains", "seed": "drivers.seed",
        "parametrization": "drivers.parametrization", "target_accept": "drivers.target_accept",
        "allow_failed_gate": "drivers.allow_failed_gate",
        "olist_sources": "olist.sources", "olist_outcome": "olist.outcome",
        "olist_family": "olist.family", "olist_drivers": "olist.drivers",
        "olist_segments": "olist.segments", "olist_missing": "olist.missing",
        "olist_never_flags": "olist.never_flags",
    },
    "30_revenue_impact": {
        "score": "value.score", "outcome": "drivers.outcome", "segment": "value.segment",
        "segments": "value.segments", "cutoff": "value.cutoff",
        "horizon_days": "value.horizon_days", "scenarios": "value.scenarios",
        "snapshot": "value.snapshot", "covariates": "value.covariates",
        "initiatives": "value.initiatives", "currency": "value.currency",
        "score_threshold": "value.score_threshold",
        "revenue_threshold": "value.revenue_threshold", "sensitivity": "value.sensitivity",
        "draws": "drivers.draws", "tune": "drivers.tune",
        "chains": "drivers.chains", "seed": "drivers.seed",
        "allow_failed_gate": "drivers.allow_failed_gate",
    },
}


def _field(dotted: str):
    section, name = dotted.split(".")
    model = config._models_in(RunConfig.model_fields[section].annotation)[0]
    return model, model.model_fields[name]


def parameter_default(dotted: str) -> Any:
    """The notebook default of a run YAML field: its model default as JSON, or the empty
    value of its type when the YAML must set it (``""``, ``[]``, ``{}``).

    Examples
    --------
    >>> parameter_default("drivers.chains"), parameter_default("drivers.outcome")
    (4, '')
    """
    from pydantic_core import PydanticUndefined

    from pydantic import TypeAdapter

    _, field = _field(dotted)
    if field.default is not PydanticUndefined or field.default_factory is not None:
        value = field.get_default(call_default_factory=True)
        return TypeAdapter(field.annotation).dump_python(value, mode="json")
    origin = getattr(field.annotation, "__origin__", field.annotation)
    return {list: [], dict: {}}.get(origin, "")


def notebook_parameters(cfg: RunConfig, notebook: str, run_dir: str | Path) -> dict[str, Any]:
    """The Papermill parameters one notebook of the run receives.

    Parameters
    ----------
    cfg : RunConfig
        Validated run parameters.
    notebook : str
        Notebook stem (``"20_driver_model"``); notebooks outside
        :data:`NOTEBOOK_PARAMETERS` get only ``run_dir``.
    run_dir : str or Path
        Folder the notebook writes its tables and models into.

    Examples
    --------
    >>> cfg = load_config(config.PARAMS_DIR / "smoke.yaml")
    >>> notebook_parameters(cfg, "30_revenue_impact", "/tmp/run")["horizon_days"]
    365
    """
    params: dict[str, Any] = {"run_dir": str(run_dir)}
    dumped = cfg.to_jsonable()
    for name, dotted in NOTEBOOK_PARAMETERS.get(notebook, {}).items():
        section, field = dotted.split(".")
        if dumped.get(section) is None:  # optional section absent: the notebook's default
            params[name] = parameter_default(dotted)
        else:
            params[name] = dumped[section][field]
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
    if notebooks is None:
        from cxkit.preflight import validate_run

        validate_run(cfg)
    out_dir = Path(out_dir).resolve()
    run_dir = out_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for nb in _notebook_paths(notebooks):
        if nb.stem in cfg.skipped_steps():
            continue
        params = notebook_parameters(cfg, nb.stem, run_dir)
        check_parameters(nb, params)
        out = out_dir / nb.name
        papermill.execute_notebook(str(nb), str(out), parameters=params, prepare_only=True,
                                   kernel_name=KERNEL_NAME, progress_bar=False)
        written.append(out)
    return written


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(params_path: str | Path, run_id: str | None = None, *,
        notebooks: Sequence[str | Path] | None = None,
        kernel_name: str = KERNEL_NAME, wait: bool = True, debug: bool = False) -> int:
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
    debug : bool
        Also print tracebacks (``cxkit --debug run``): of the runner's own errors, and the
        failing notebook's.

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
        skipped = {stem: why for stem, why in cfg.skipped_steps().items()
                   if any(nb.stem == stem for nb in paths)}
        paths = [nb for nb in paths if nb.stem not in skipped]
        for nb in paths:
            check_parameters(nb, notebook_parameters(cfg, nb.stem, out_dir / ".check"))
        if notebooks is None:  # the project's notebooks: check YAMLs, files and columns
            from cxkit.preflight import validate_run

            validate_run(cfg)
        if cfg.alerts is not None:
            from cxkit.alerts import load_rules

            load_rules(cfg.alerts.rules)  # a bad rules file stops the run before it starts
    except (ConfigError, RunnerError, ValueError) as exc:
        _debug(debug)
        _say(f"cxkit run: {exc}")
        return EXIT_USAGE

    try:
        with stop_on_signals(), hold_lock(out_dir, run_id=run_id, wait=wait, say=_say):
            clean_stale(out_dir, found_by=run_id or "(new run)", say=_say)
            if run_id is None:
                run_id = free_run_id(out_dir)
                note_holder(out_dir, run_id)
            else:
                for taken in run_paths(out_dir, run_id):
                    if taken.exists():
                        raise RunnerError(f"{taken} already exists (an earlier run with this "
                                          f"id); pick another --run-id or delete it.")
            return _execute(cfg, run_id, paths, kernel_name, debug, skipped)
    except (RunBusyError, RunnerError) as exc:  # folder busy (--no-wait) or run id taken
        _say(f"cxkit run: {exc}")
        return EXIT_USAGE
    except RunStopped as exc:
        # stopped while waiting for the lock or between steps outside the notebook loop
        if run_id is not None and run_paths(out_dir, run_id)[2].is_dir():
            clean_stale(out_dir, found_by=f"{run_id} itself ({exc})", say=_say)
        loud(f"RUN STOPPED: {exc}; {out_dir / 'latest'} still points at the last good run.")
        return EXIT_FAILED
    except OSError as exc:
        _debug(debug)
        _say(f"cxkit run: {describe_os_error(exc, out_dir)}. Nothing was published.")
        return EXIT_USAGE


def _debug(debug: bool, text: str | None = None) -> None:
    if debug:
        print(text if text is not None else traceback.format_exc(), file=sys.stderr,
              flush=True)


def _execute(cfg: RunConfig, run_id: str, paths: list[Path], kernel_name: str,
             debug: bool = False, skipped: dict[str, str] | None = None) -> int:
    """Run the notebooks into ``.<run_id>.tmp`` and publish; the lock is held."""
    import papermill

    from cxkit.publish import package_versions, record_warning

    out_dir = Path(cfg.run.out_dir)
    final, failed, tmp = run_paths(out_dir, run_id)
    plan = {nb.stem: notebook_parameters(cfg, nb.stem, tmp) for nb in paths}
    skipped = skipped or {}
    inputs = input_files(cfg, paths)
    manifest = Manifest(
        run_id=run_id, name=cfg.run.name, status="running",
        params_file=str(cfg.source), parameters=cfg.to_jsonable(),
        notebook_parameters=plan,
        inputs=[{"path": str(p), "sha256": sha256(p), "bytes": p.stat().st_size}
                for p in inputs],
        git=git_state(), versions=package_versions(),
        started_at=now_iso(), finished_at=None,
        notebooks=[{"notebook": stem, "status": "skipped", "reason": why}
                   for stem, why in skipped.items()], warnings=[],
        gate_failed=False, error=None, reason=None,
    )
    try:
        tmp.mkdir(parents=True, exist_ok=False)
        Run(tmp).write_manifest(manifest)
        for stem, why in skipped.items():
            record_warning(tmp, f"Step skipped: {stem}: {why}.", kind="skipped")
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
        manifest.notebooks.append(entry)
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
            manifest.error = error_info(nb.stem, exc)
        entry["seconds"] = round(time.perf_counter() - t0, 2)
        print(f"      {entry['status']} in {entry['seconds']} s", flush=True)
        if error is not None:
            break
    if error is not None and debug:
        _debug(True, manifest.error.get("traceback") or manifest.error["message"])
    return finish_run(cfg, run_id, manifest, error)
