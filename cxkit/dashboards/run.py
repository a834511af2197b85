"""Loading a saved run for a dashboard: the folder, its manifest and tables, and the runs
next to it (for the run picker and the change since the previous run).

The dashboards only *read* what a run saved in ``reports/<run_id>/``. They never import
PyMC and never sample: a page load must be fast and must not depend on a model that may
not converge today.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cxkit.publish import read_parquet

#: Environment variable through which ``serve`` tells the notebooks which run to show.
RUN_DIR_ENV = "CXKIT_RUN_DIR"
MANIFEST_KEYS = ("run_id", "status", "started_at", "finished_at")
OK_STATUSES = frozenset({"ok", "success", "succeeded"})
HOW_TO_CREATE = "`make run` (or `cxkit run params/sample.yaml`) creates it"


@dataclass
class RunData:
    """What a run folder holds, as far as one dashboard is concerned.

    ``problems`` lists human-readable reasons why parts are missing (file named, fix given);
    the page shows them and builds only what it can.
    """

    run_dir: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems


def resolve_run_dir(run_dir: str | Path | None = None) -> Path:
    """The run folder to show: ``run_dir`` if given, else ``$CXKIT_RUN_DIR``, else
    ``reports/latest`` of the project (anchored on the package, not the working directory).

    Examples
    --------
    >>> resolve_run_dir("/tmp/reports/2024-01-01T000000Z")
    PosixPath('/tmp/reports/2024-01-01T000000Z')
    """
    if run_dir:
        return Path(run_dir)
    env = os.environ.get(RUN_DIR_ENV)
    if env:
        return Path(env)
    from cxkit.config import REPORTS_DIR

    return REPORTS_DIR / "latest"


def _read_manifest(run_dir: Path, problems: list[str]) -> dict[str, Any]:
    path = run_dir / "manifest.json"
    if not path.is_file():
        problems.append(f"{path} is missing; {HOW_TO_CREATE}.")
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        problems.append(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                        f"{exc.msg}); re-run `make run`.")
        return {}
    if not isinstance(manifest, dict):
        problems.append(f"{path} should hold a JSON object, found {type(manifest).__name__};"
                        f" re-run `make run`.")
        return {}
    lacking = [k for k in MANIFEST_KEYS if k not in manifest]
    if lacking:
        problems.append(f"{path} lacks keys {lacking}; it was not written by `cxkit run`, "
                        f"re-run `make run`.")
    return manifest


def load_run(run_dir: str | Path, required: dict[str, tuple[str, ...]],
             optional: dict[str, tuple[str, ...]] | None = None) -> RunData:
    """Read ``manifest.json`` and the named tables of a run folder.

    Table names are paths under the run folder without ``.parquet``: ``"driver_importance"``
    means ``tables/driver_importance.parquet``, ``"ingest/events"`` the ingested events.
    Never raises for a missing or broken file: each problem of a *required* table is
    recorded in ``RunData.problems`` with the file and what to do.
    """
    run_dir = Path(run_dir)
    data = RunData(run_dir=run_dir)
    if not run_dir.is_dir():
        data.problems.append(f"Run folder {run_dir} does not exist; {HOW_TO_CREATE}.")
        return data
    data.manifest = _read_manifest(run_dir, data.problems)
    for name, columns in {**(optional or {}), **required}.items():
        rel = name if "/" in name else f"tables/{name}"
        path = run_dir / f"{rel}.parquet"
        key = name.rsplit("/", 1)[-1]
        if not path.is_file():
            if name in required:
                data.problems.append(f"{path} is missing; {HOW_TO_CREATE}.")
            continue
        try:
            table = read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: say which, keep going
            data.problems.append(f"{path} cannot be read ({type(exc).__name__}: {exc}); "
                                 f"re-run `make run`.")
            continue
        lacking = [c for c in columns if c not in table.columns]
        if lacking:
            data.problems.append(f"{path} lacks columns {lacking} (has {list(table.columns)});"
                                 f" it was written by an older cxkit, re-run `make run`.")
            continue
        data.tables[key] = table
    return data


def run_warnings(run: RunData) -> list[str]:
    """Messages for the red banner: a status other than ok, an overridden convergence gate,
    and any warning the run recorded (``manifest["warnings"]`` or ``warnings.json``)."""
    manifest = run.manifest
    out: list[str] = []
    status = manifest.get("status")
    if status is not None and str(status).lower() not in OK_STATUSES:
        out.append(f"Run status is {status!r}, not ok: treat these results with care.")
    items = list(manifest.get("warnings") or [])
    if not items and (run.run_dir / "warnings.json").is_file():
        try:
            items = json.loads((run.run_dir / "warnings.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            items = [{"kind": "warning",
                      "message": f"{run.run_dir / 'warnings.json'} is not valid JSON."}]
    gate_flagged = bool(manifest.get("gate_overridden") or manifest.get("gate_failed"))
    for item in items:
        if isinstance(item, dict):
            gate_flagged |= item.get("kind") == "gate_failed"
            out.append(str(item.get("message", item)))
        else:
            out.append(str(item))
    if gate_flagged:
        out.insert(0, "The convergence gate FAILED and was overridden "
                      "(allow_failed_gate): the estimates may be unreliable.")
    return out


def list_runs(reports_dir: str | Path) -> list[dict[str, Any]]:
    """The finished runs in ``reports_dir``, newest first: ``path, run_id, name, status,
    started_at, finished_at``. Temporary (``.<id>.tmp``) and failed (``<id>.failed``)
    folders and the ``latest`` link are left out."""
    reports_dir = Path(reports_dir)
    runs = []
    if not reports_dir.is_dir():
        return runs
    for path in reports_dir.iterdir():
        if (path.name.startswith(".") or path.name.endswith(".failed")
                or path.is_symlink() or not path.is_dir()):
            continue
        manifest = _read_manifest(path, [])
        if not manifest or str(manifest.get("status", "")).lower() not in OK_STATUSES:
            continue
        runs.append({"path": path.resolve(), "run_id": manifest.get("run_id", path.name),
                     "name": manifest.get("name") or manifest.get("parameters", {})
                     .get("run", {}).get("name", ""),
                     "status": manifest.get("status"),
                     "started_at": str(manifest.get("started_at") or ""),
                     "finished_at": str(manifest.get("finished_at") or "")})
    return sorted(runs, key=lambda r: (r["started_at"], r["run_id"]), reverse=True)


def previous_run(run_dir: str | Path) -> Path | None:
    """The finished run started just before ``run_dir`` in the same reports folder."""
    here = Path(run_dir).resolve()
    runs = list_runs(here.parent)
    paths = [r["path"] for r in runs]
    if here not in paths:
        return None
    i = paths.index(here)
    return paths[i + 1] if i + 1 < len(paths) else None
