"""Saving a notebook's results into the run directory, in the layout the dashboard reads.

``<run_dir>/tables/<name>.parquet`` for tidy tables, ``<run_dir>/models/<name>/`` for saved
model results, and ``<run_dir>/warnings.json`` for things the runner must put in the
manifest and at the top of the HTML reports (a convergence gate overridden on purpose).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

#: Packages whose versions go into the manifest and the notebooks' watermark cell.
VERSIONED_PACKAGES = ("cxkit", "pandas", "numpy", "pyarrow", "duckdb", "ibis-framework",
                      "pymc", "pytensor", "arviz", "nutpie", "matplotlib", "seaborn",
                      "papermill", "nbconvert", "pydantic")

WARNINGS_FILE = "warnings.json"


def save_table(data: pd.DataFrame, run_dir: str | Path, name: str) -> Path:
    """Write a tidy table to ``<run_dir>/tables/<name>.parquet``.

    Examples
    --------
    >>> save_table(pd.DataFrame({"a": [1]}), tmp_path, "demo")  # doctest: +SKIP
    PosixPath('.../tables/demo.parquet')
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"save_table({name!r}): expected a pandas DataFrame, got "
                        f"{type(data).__name__}; convert it (e.g. .to_frame()) first.")
    out = Path(run_dir) / "tables" / f"{name}.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    data.to_parquet(out, index=False)
    return out


def read_parquet(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read one parquet file of a run with today's column names.

    Runs published before the interval rename named intervals ``<stat>_hdi_low`` /
    ``<stat>_hdi_high``; they are read as ``<stat>_low`` / ``<stat>_high``, so trend and the
    dashboards' run picker keep working with older runs.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.parquet"
    >>> pd.DataFrame({"nps_hdi_low": [1.0], "nps_mean": [2.0]}).to_parquet(p)
    >>> list(read_parquet(p).columns)
    ['nps_low', 'nps_mean']
    """
    table = pd.read_parquet(path, **kwargs)
    legacy = {c: c.replace("_hdi_low", "_low").replace("_hdi_high", "_high")
              for c in table.columns if str(c).endswith(("_hdi_low", "_hdi_high"))}
    return table.rename(columns=legacy) if legacy else table


def read_table(run_dir: str | Path, name: str) -> pd.DataFrame:
    """Read ``<run_dir>/tables/<name>.parquet``, naming what exists if it is missing."""
    path = Path(run_dir) / "tables" / f"{name}.parquet"
    if not path.is_file():
        have = sorted(p.stem for p in path.parent.glob("*.parquet"))
        raise FileNotFoundError(f"{path} not found; tables in this run: {have or 'none'}. "
                                f"Did the notebook that writes {name!r} run?")
    return read_parquet(path)


def model_dir(run_dir: str | Path, name: str) -> Path:
    """``<run_dir>/models/<name>/``, created, for ``result.save(...)``."""
    out = Path(run_dir) / "models" / name
    out.mkdir(parents=True, exist_ok=True)
    return out


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
