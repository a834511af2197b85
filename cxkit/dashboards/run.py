"""Loading a saved run for a dashboard: the folder, its manifest and tables, and the runs
next to it (for the run picker and the change since the previous run).

The dashboards only *read* what a run saved in ``reports/<run_id>/``. They never import
PyMC and never sample: a page load must be fast and must not depend on a model that may
not converge today.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cxkit.rundir import (HOW_TO_CREATE, OK_STATUSES, RUN_DIR_ENV, Manifest,  # noqa: F401
                          ManifestError, Run, list_runs, read_parquet)


def _no_manifest(run_dir: Path) -> Manifest:
    """A stand-in for a run folder whose manifest is missing or broken (the problem is
    listed; the header says ``unknown``)."""
    return Manifest.model_construct(run_id=run_dir.name, status="unknown", started_at=None,
                                    finished_at=None)


@dataclass
class RunData:
    """What a run folder holds, as far as one dashboard is concerned.

    ``problems`` lists human-readable reasons why parts are missing (file named, fix given);
    the page shows them and builds only what it can.
    """

    run_dir: Path
    manifest: Manifest = None  # type: ignore[assignment] - set in __post_init__
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir)
        if self.manifest is None:
            self.manifest = _no_manifest(self.run_dir)

    @property
    def run(self) -> Run:
        return Run(self.run_dir)

    @property
    def complete(self) -> bool:
        return not self.problems


def resolve_run_dir(run_dir: str | Path | None = None) -> Path:
    """The run folder to show: ``run_dir`` if given, else ``$CXKIT_RUN_DIR``, else
    ``reports/latest`` of the project (:meth:`cxkit.rundir.Run.resolve`).

    Examples
    --------
    >>> resolve_run_dir("/tmp/reports/2024-01-01T000000Z")
    PosixPath('/tmp/reports/2024-01-01T000000Z')
    """
    return Run.resolve(run_dir).path


def load_run(run_dir: str | Path, required: dict[str, tuple[str, ...]],
             optional: dict[str, tuple[str, ...]] | None = None) -> RunData:
    """Read the manifest and the named tables of a run folder (through :class:`Run`).

    Table names are ``"driver_importance"`` (``Run.table``) or ``"ingest/events"``
    (``Run.ingest``). Never raises for a missing or broken file: each problem of a
    *required* table is recorded in ``RunData.problems`` with the file and what to do.
    """
    run = Run(run_dir)
    data = RunData(run_dir=run.path)
    if not run.path.is_dir():
        data.problems.append(f"Run folder {run.path} does not exist; {HOW_TO_CREATE}.")
        return data
    try:
        data.manifest = run.manifest
    except ManifestError as exc:
        data.problems.append(str(exc))
    for name, columns in {**(optional or {}), **required}.items():
        kind, _, key = name.rpartition("/")
        path = run.ingest_path(key) if kind == "ingest" else run.table_path(key)
        if not path.is_file():
            if name in required:
                data.problems.append(f"{path} is missing; {HOW_TO_CREATE}.")
            continue
        try:
            table = run.ingest(key) if kind == "ingest" else run.table(key)
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
    and any warning the run recorded (``manifest.warnings`` or ``warnings.json``)."""
    from cxkit.publish import read_warnings

    manifest = run.manifest
    out: list[str] = []
    status = manifest.status
    if status not in (None, "unknown") and str(status).lower() not in OK_STATUSES:
        out.append(f"Run status is {status!r}, not ok: treat these results with care.")
    items = list(manifest.warnings or [])
    if not items:
        try:
            items = read_warnings(run.run_dir)
        except json.JSONDecodeError:
            items = [{"kind": "warning",
                      "message": f"{run.run_dir / 'warnings.json'} is not valid JSON."}]
    gate_flagged = bool(manifest.gate_failed)
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


def previous_run(run_dir: str | Path) -> Path | None:
    """The finished run started just before ``run_dir`` in the same reports folder."""
    prev = Run(run_dir).previous()
    return prev.path if prev is not None else None
