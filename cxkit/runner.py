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
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from cxkit import config
from cxkit.config import ConfigError, RunConfig, load_config

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
                   "scenarios": [s.model_dump(mode="json") for s in v.scenarios],
                   "covariates": v.covariates,
                   "initiatives": [str(p) for p in v.initiatives], "currency": v.currency,
                   "score_threshold": v.score_threshold, "revenue_threshold": v.revenue_threshold}
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


# --------------------------------------------------------------------------- provenance
def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in chunks (inputs can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _expand(paths: list[Path]) -> list[Path]:
    import glob

    found: list[Path] = []
    for p in paths:
        if p.is_file():
            found.append(p.resolve())
        elif p.is_dir():
            found.extend(sorted(q.resolve() for q in p.iterdir() if q.is_file()))
        else:  # a glob pattern (several part files) or a file that is missing
            found.extend(sorted(Path(q).resolve() for q in glob.glob(str(p)) if Path(q).is_file()))
    return found


def _referenced_files(yaml_path: Path) -> list[Path]:
    """Data files and catalog a sources YAML reads.

    Asks the ingest layer (which expands ``${VAR:-default}`` and knows the schema) and falls
    back to every string in the YAML that names an existing path relative to it.
    """
    try:
        from cxkit.ingest.config import load_sources

        spec = load_sources(yaml_path)
        paths = [spec.resolve(spec.catalog)]
        paths += [spec.resolve(s.path) for s in spec.sources.values() if s.path]
        return _expand(paths)
    except Exception:  # noqa: BLE001 - not an ingest sources YAML: fall back to the walk
        pass
    import yaml

    try:
        doc = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return []
    found: list[Path] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and len(node) < 400 and "\n" not in node:
            candidate = Path(node) if Path(node).is_absolute() else yaml_path.parent / node
            try:
                if candidate.is_file():
                    found.append(candidate.resolve())
                elif candidate.is_dir() and node.strip() not in ("", ".", ".."):
                    found.extend(sorted(p.resolve() for p in candidate.iterdir() if p.is_file()))
            except OSError:
                pass

    walk(doc)
    return found


def input_files(cfg: RunConfig, notebooks: Sequence[Path]) -> list[Path]:
    """Everything a run reads: its YAML, the sources YAMLs and their data files, notebooks."""
    files: list[Path] = []
    if cfg.source is not None:
        files.append(cfg.source)
    for src in [cfg.ingest.sources] + ([cfg.olist.sources] if cfg.olist else []):
        if src.is_file():
            files.append(src)
            files.extend(_referenced_files(src))
    files.extend(notebooks)
    seen: dict[Path, None] = {}
    for f in files:
        seen.setdefault(Path(f).resolve(), None)
    return list(seen)


def _git_state() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=config.PROJECT_ROOT, capture_output=True,
                                 text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


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


def default_run_id() -> str:
    """UTC timestamp, sortable: ``20261123T203015Z``."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _loud(msg: str) -> None:
    bar = "!" * 78
    print(f"\n{bar}\n{msg}\n{bar}", file=sys.stderr, flush=True)


def run(params_path: str | Path, run_id: str | None = None, *,
        notebooks: Sequence[str | Path] | None = None,
        kernel_name: str = KERNEL_NAME) -> int:
    """Execute a whole run and publish it; the ``cxkit run`` command.

    Parameters
    ----------
    params_path : str or Path
        Run YAML, e.g. ``params/sample.yaml``.
    run_id : str, optional
        Folder name under ``run.out_dir``; default a UTC timestamp.
    notebooks : sequence of paths, optional
        Notebooks to execute in order; default :data:`NOTEBOOKS` in ``notebooks/``.
    kernel_name : str
        Jupyter kernel; default the interpreter running cxkit.

    Returns
    -------
    int
        0 on success, 1 if a notebook failed (kept as ``<run_id>.failed``), 2 if the run
        could not start (invalid YAML, parameters, run id).

    Examples
    --------
    >>> run("params/sample.yaml", run_id="demo")  # doctest: +SKIP
    0
    """
    try:
        # validated before papermill/nbconvert load, so a bad YAML fails in a blink
        cfg = load_config(params_path)
        run_id = run_id or default_run_id()
        if not _RUN_ID.match(run_id) or run_id == "latest" or run_id.endswith(".failed"):
            raise RunnerError(f"run id {run_id!r} is not usable as a folder name: use "
                              f"letters, digits, '_', '-', '.', not 'latest' or '*.failed'.")
        out_dir = Path(cfg.run.out_dir)
        final, failed = out_dir / run_id, out_dir / f"{run_id}.failed"
        tmp = out_dir / f".{run_id}.tmp"
        for taken in (final, failed, tmp):
            if taken.exists():
                raise RunnerError(f"{taken} already exists (an earlier run with this id); "
                                  f"pick another --run-id or delete it.")
        paths = _notebook_paths(notebooks)
        plan = {nb.stem: notebook_parameters(cfg, nb.stem, tmp) for nb in paths}
        for nb in paths:
            check_parameters(nb, plan[nb.stem])
    except (ConfigError, RunnerError) as exc:
        print(f"cxkit run: {exc}", file=sys.stderr)
        return 2

    import papermill

    from cxkit.publish import package_versions, read_warnings
    from cxkit.report import notebook_to_html

    tmp.mkdir(parents=True, exist_ok=False)
    inputs = input_files(cfg, paths)
    manifest: dict[str, Any] = {
        "run_id": run_id, "name": cfg.run.name, "status": "running",
        "params_file": str(cfg.source), "parameters": cfg.to_jsonable(),
        "notebook_parameters": plan,
        "inputs": [{"path": str(p), "sha256": sha256(p), "bytes": p.stat().st_size}
                   for p in inputs],
        "git": _git_state(), "versions": package_versions(),
        "started_at": _now(), "finished_at": None, "notebooks": [], "warnings": [],
        "gate_failed": False, "error": None,
    }
    _write_json(tmp / "manifest.json", manifest)
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
                                       progress_bar=False)
            entry["status"] = "succeeded"
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - recorded, then re-raised or reported
            entry["status"] = "failed"
            error = exc
            manifest["error"] = _error_info(nb.stem, exc)
        entry["seconds"] = round(time.perf_counter() - t0, 2)
        print(f"      {entry['status']} in {entry['seconds']} s", flush=True)
        if error is not None:
            break

    warnings = read_warnings(tmp)
    manifest["warnings"] = warnings
    manifest["gate_failed"] = any(w.get("kind") == "gate_failed" for w in warnings)
    banner = [w["message"] for w in warnings]
    if error is not None:
        banner = [f"RUN FAILED in {manifest['error']['notebook']}: "
                  f"{manifest['error'].get('ename', manifest['error']['type'])}: "
                  f"{manifest['error'].get('evalue', '')}"] + banner
    for entry in manifest["notebooks"]:
        out_nb = tmp / entry["output"]
        if out_nb.is_file():
            try:
                html = notebook_to_html(out_nb, out_nb.with_suffix(".html"), banner=banner)
                entry["html"] = html.name
            except Exception as exc:  # noqa: BLE001 - a report failure must not hide the run's
                entry["html_error"] = f"{type(exc).__name__}: {exc}"
                error = error or exc
                manifest["error"] = manifest["error"] or _error_info(entry["notebook"], exc)

    manifest["finished_at"] = _now()
    manifest["status"] = "failed" if error is not None else "succeeded"
    _write_json(tmp / "manifest.json", manifest)

    if error is not None:
        os.replace(tmp, failed)
        err = manifest["error"]
        _loud(f"RUN FAILED: {run_id} in notebook {err['notebook']}: "
              f"{err.get('ename', err['type'])}: {err.get('evalue', err['message'][:500])}\n"
              f"Kept for inspection: {failed}  (executed notebooks + manifest.json)\n"
              f"{out_dir / 'latest'} still points at the last good run.")
        if isinstance(error, KeyboardInterrupt):
            raise error
        return 1

    os.replace(tmp, final)
    latest = _swap_latest(out_dir, run_id)
    if manifest["gate_failed"]:
        _loud("PUBLISHED WITH A FAILED CONVERGENCE GATE (allow_failed_gate=true):\n"
              + "\n".join(banner))
    print(f"\nReport: {final}\n"
          f"  HTML: " + ", ".join(str(final / e["html"]) for e in manifest["notebooks"]
                                  if "html" in e) + "\n"
          f"  {latest} -> {run_id}\n"
          f"Dashboard: make dashboard   (or: cxkit dashboard --run-dir {latest})", flush=True)
    return 0
