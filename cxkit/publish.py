"""What a notebook adds to its run besides tables and models: ``warnings.json`` (things the
runner must put in the manifest and at the top of the HTML reports, e.g. a convergence gate
overridden on purpose) and the package versions of the watermark and the manifest.

The run folder itself (tables, models, ingest outputs, manifest) is :class:`cxkit.rundir.Run`;
``save_table`` / ``read_table`` / ``model_dir`` here are one-line shorthands for it.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

from cxkit.rundir import Run, read_parquet  # noqa: F401 - read_parquet re-exported

#: Packages whose versions go into the manifest and the notebooks' watermark cell.
VERSIONED_PACKAGES = ("cxkit", "pandas", "numpy", "pyarrow", "duckdb", "ibis-framework",
                      "pymc", "pytensor", "arviz", "nutpie", "matplotlib", "seaborn",
                      "papermill", "nbconvert", "pydantic")

WARNINGS_FILE = "warnings.json"


def save_table(data: pd.DataFrame, run_dir: str | Path, name: str) -> Path:
    """``Run(run_dir).save_table(name, data)``: ``tables/<name>.parquet``, the privacy floor
    applied to tables of group estimates (:meth:`cxkit.rundir.Run.save_table`)."""
    return Run(run_dir).save_table(name, data)


def read_table(run_dir: str | Path, name: str) -> pd.DataFrame:
    """``Run(run_dir).table(name)`` (:meth:`cxkit.rundir.Run.table`)."""
    return Run(run_dir).table(name)


def model_dir(run_dir: str | Path, name: str) -> Path:
    """``Run(run_dir).model_dir(name)``: ``models/<name>/``, created."""
    return Run(run_dir).model_dir(name)


def record_warning(run_dir: str | Path, message: str, *, kind: str = "warning") -> dict:
    """Append a warning the runner copies into the manifest and the reports' first lines.

    Use it when a run is published although something failed on purpose, e.g. the driver
    notebook with ``allow_failed_gate=True`` and a failed convergence gate
    (``kind="gate_failed"``).
    """
    path = Path(run_dir) / WARNINGS_FILE
    items = read_warnings(run_dir)
    item = {"kind": kind, "message": message,
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    items.append(item)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(items, indent=2), encoding="utf-8")
    return item


def read_warnings(run_dir: str | Path) -> list[dict]:
    """Warnings recorded so far in ``run_dir`` (empty list if none)."""
    path = Path(run_dir) / WARNINGS_FILE
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))


def flag_failed_gate(run_dir: str | Path, diagnostics: dict, *, model: str) -> str | None:
    """Record and return a banner if a fit was kept although its convergence gate failed.

    Notebooks call it right after a fit with ``gate="warn"`` (``allow_failed_gate=True``);
    the runner then marks the manifest ``gate_failed`` and puts the message at the top of
    every HTML report. Returns None when the gate passed.

    Examples
    --------
    >>> flag_failed_gate(run_dir, result.diagnostics, model="drivers")  # doctest: +SKIP
    'drivers model: convergence gate FAILED (allowed by allow_failed_gate) - r_hat: ...'
    """
    if diagnostics.get("passed", True):
        return None
    failures = "; ".join(diagnostics.get("failures", [])) or "see the diagnostics table"
    message = (f"{model} model: convergence gate FAILED (allowed by allow_failed_gate); "
               f"results are not reliable - {failures}")
    record_warning(run_dir, message, kind="gate_failed")
    print(f"{'!' * 70}\n{message}\n{'!' * 70}")
    return message


def package_versions(packages: tuple[str, ...] = VERSIONED_PACKAGES) -> dict[str, str | None]:
    """Installed versions (None where absent) plus Python's, for manifests and watermarks."""
    import platform

    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def watermark() -> pd.DataFrame:
    """The watermark shown in the last cell of each notebook: package, version."""
    return pd.DataFrame(list(package_versions().items()), columns=["package", "version"])
