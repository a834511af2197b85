"""A run folder ``reports/<run_id>/`` and its manifest: the one way to find what a run saved.

Layout (docs/ARCHITECTURE.md, "The run folder")::

    manifest.json           Manifest: written by the runner, read by everyone
    warnings.json           cxkit.publish.record_warning (copied into the manifest)
    tables/<name>.parquet   Run.table / Run.save_table (the privacy floor applied on save)
    models/<name>/          Run.model_dir / Run.model (DriverResult, ValueResult folders)
    ingest/<name>.parquet   Run.ingest (notebook 10's run_ingest output, Run.ingest_dir)
    olist/ingest/...        Run.sub("olist"): a second data source, the same layout

Notebooks, the runner, the dashboards, trend and alerts go through :class:`Run`; nothing
else builds these paths (``tests/test_rundir.py`` checks the notebooks and dashboards).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["Run", "Manifest", "ManifestError", "read_parquet", "list_runs", "OK_STATUSES",
           "RUN_DIR_ENV"]

#: Environment variable through which ``cxkit dashboard`` tells the pages which run to show.
RUN_DIR_ENV = "CXKIT_RUN_DIR"
#: Statuses of a finished, published run.
OK_STATUSES = frozenset({"ok", "success", "succeeded"})
MANIFEST_FILE = "manifest.json"
HOW_TO_CREATE = "`make run` (or `cxkit run params/sample.yaml`) creates it"


class ManifestError(ValueError):
    """A ``manifest.json`` that is missing, not JSON, or not written by ``cxkit run``."""


class Manifest(BaseModel):
    """What ``manifest.json`` holds: written by :mod:`cxkit.runner` / :mod:`cxkit.finish`,
    read by the dashboards, the reports, trend and ``cxkit runs``.

    Keys a later cxkit adds are kept (``extra="allow"``); a file lacking one of the
    required keys (``run_id``, ``status``, ``started_at``, ``finished_at``) was not written
    by ``cxkit run`` and is refused by :meth:`read`.
    """

    model_config = ConfigDict(extra="allow")

    # (in the order the file lists them)
    run_id: str
    name: str = ""  # run.name of the YAML
    status: str  # running, succeeded, failed
    params_file: str | None = None
    parameters: dict[str, Any] = {}  # the validated run YAML (RunConfig.to_jsonable)
    notebook_parameters: dict[str, dict[str, Any]] = {}
    inputs: list[dict[str, Any]] = []  # {path, sha256, bytes}
    git: dict[str, Any] = {}  # {commit, dirty}
    versions: dict[str, str | None] = {}  # package -> version (publish.package_versions)
    started_at: str | None
    finished_at: str | None
    notebooks: list[dict[str, Any]] = []  # {notebook, output, status, seconds, html, ...}
    warnings: list[dict[str, Any]] = []  # {kind, message, at}
    gate_failed: bool = False
    error: dict[str, Any] | None = None
    reason: str | None = None
    trend: dict[str, Any] | None = None  # {previous_run_id, changes}
    alerts: dict[str, Any] | None = None  # cxkit.alerts.run_alerts's section

    @property
    def ok(self) -> bool:
        """Whether the run finished and was published."""
        return self.status.lower() in OK_STATUSES

    @property
    def run_name(self) -> str:
        """``name``, else ``parameters.run.name``, else ``""``."""
        return self.name or str((self.parameters.get("run") or {}).get("name") or "")

    @property
    def min_n(self) -> int:
        """The run's privacy floor (``parameters.dashboard.min_n``, default 30)."""
        from cxkit.privacy import min_n_of

        return min_n_of(self)

    def dump(self) -> dict[str, Any]:
        """Plain JSON values, the keys that were set (so reading and writing back keeps a
        file as it was)."""
        return self.model_dump(mode="json", exclude_unset=True)

    def write(self, path: str | Path) -> None:
        """Write atomically (:func:`cxkit.runs.write_json`): a full disk leaves the old
        file in place and raises ``OSError``."""
        from cxkit.runs import write_json

        write_json(Path(path), self.dump())

    @classmethod
    def read(cls, path: str | Path) -> "Manifest":
        """Read and check ``path``; :class:`ManifestError` says what is wrong and what to do."""
        path = Path(path)
        if not path.is_file():
            raise ManifestError(f"{path} is missing; {HOW_TO_CREATE}.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{path} is not valid JSON (line {exc.lineno}, column "
                                f"{exc.colno}: {exc.msg}); re-run `make run`.") from None
        except OSError as exc:
            raise ManifestError(f"{path} cannot be read ({exc.strerror}).") from None
        if not isinstance(data, dict):
            raise ManifestError(f"{path} should hold a JSON object, found "
                                f"{type(data).__name__}; re-run `make run`.")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            lacking = [".".join(map(str, e["loc"])) for e in exc.errors()
                       if e["type"] == "missing"]
            if lacking:
                raise ManifestError(f"{path} lacks keys {lacking}; it was not written by "
                                    f"`cxkit run`, re-run `make run`.") from None
            first = exc.errors()[0]
            raise ManifestError(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']};"
                                f" re-run `make run`.") from None


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


class Run:
    """One run folder: its tables, models, ingest outputs and manifest.

    Parameters
    ----------
    path : str or Path
        The run folder (``reports/<run_id>``, ``reports/latest``, or the runner's
        ``reports/.<run_id>.tmp`` while the notebooks write into it).

    Examples
    --------
    >>> run = Run.latest()                                    # doctest: +SKIP
    >>> run.table("driver_importance").head()                 # doctest: +SKIP
    >>> run.save_table("funnel", funnel)                      # doctest: +SKIP
    >>> DriverResult.load(run.model_dir("drivers"))           # doctest: +SKIP
    >>> run.manifest.status, run.previous()                   # doctest: +SKIP
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._manifest: Manifest | None = None

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and self.path.resolve() == other.path.resolve()

    def __hash__(self) -> int:
        return hash(self.path.resolve())

    # -- finding runs ---------------------------------------------------------------------
    @classmethod
    def latest(cls, reports_dir: str | Path | None = None) -> "Run":
        """``<reports_dir>/latest`` (default the project's ``reports/``)."""
        from cxkit.config import REPORTS_DIR

        return cls(Path(reports_dir or REPORTS_DIR) / "latest")

    @classmethod
    def resolve(cls, run_dir: str | Path | None = None, *, default: str = "latest") -> "Run":
        """``run_dir`` if given, else ``$CXKIT_RUN_DIR``, else ``reports/<default>`` of the
        project (anchored on the package, not the working directory). Notebooks use
        ``default="dev"`` when run by hand; the dashboards show ``latest``.

        Examples
        --------
        >>> Run.resolve("/tmp/reports/2024-01-01T000000Z").path
        PosixPath('/tmp/reports/2024-01-01T000000Z')
        """
        if run_dir:
            return cls(run_dir)
        env = os.environ.get(RUN_DIR_ENV)
        if env and default == "latest":
            return cls(env)
        from cxkit.config import REPORTS_DIR

        return cls(REPORTS_DIR / default)

    def sub(self, name: str) -> "Run":
        """A second data source's folder inside this run, same layout
        (``run.sub("olist").ingest_dir`` is ``<run>/olist/ingest``)."""
        return Run(self.path / name)

    @property
    def run_id(self) -> str:
        return self.manifest.run_id if self.has_manifest else self.path.name

    # -- manifest -------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST_FILE

    @property
    def has_manifest(self) -> bool:
        try:
            self.manifest
        except ManifestError:
            return False
        return True

    @property
    def manifest(self) -> Manifest:
        """The checked manifest (read once); :class:`ManifestError` when missing or bad."""
        if self._manifest is None:
            self._manifest = Manifest.read(self.manifest_path)
        return self._manifest

    def write_manifest(self, manifest: Manifest) -> None:
        """Write ``manifest.json`` atomically and keep it as this run's manifest."""
        manifest.write(self.manifest_path)
        self._manifest = manifest

    @property
    def min_n(self) -> int:
        """The privacy floor of this run (its manifest's ``dashboard.min_n``, default 30)."""
        from cxkit.privacy import MIN_N

        return self.manifest.min_n if self.has_manifest else MIN_N

    # -- tables ---------------------------------------------------------------------------
    @property
    def tables_dir(self) -> Path:
        return self.path / "tables"

    def table_path(self, name: str) -> Path:
        """``tables/<name>.parquet``."""
        return self.tables_dir / f"{name}.parquet"

    def has_table(self, name: str) -> bool:
        return self.table_path(name).is_file()

    def table_names(self) -> list[str]:
        return sorted(p.stem for p in self.tables_dir.glob("*.parquet"))

    def table(self, name: str, columns: list[str] | None = None, *,
              drop_floored: bool = False) -> pd.DataFrame:
        """Read ``tables/<name>.parquet`` with today's column names; a missing table raises
        ``FileNotFoundError`` naming the tables that exist. ``drop_floored=True`` leaves out
        the rows under the privacy floor (no estimates, ``note`` "too few responses"), for
        readers that compute with the estimates (trend)."""
        from cxkit.privacy import TOO_FEW

        path = self.table_path(name)
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found; tables in this run: "
                                    f"{self.table_names() or 'none'}. Did the notebook that "
                                    f"writes {name!r} run?")
        table = read_parquet(path, columns=columns)
        if drop_floored and "note" in table.columns:
            table = table[table["note"].astype(str) != TOO_FEW].reset_index(drop=True)
        return table

    def table_or_none(self, name: str, **kwargs) -> pd.DataFrame | None:
        """:meth:`table`, or None when this run has no such table."""
        return self.table(name, **kwargs) if self.has_table(name) else None

    def save_table(self, name: str, data: pd.DataFrame, *, csv: bool = False) -> Path:
        """Write ``tables/<name>.parquet``; a table of estimates per segment
        (:data:`cxkit.privacy.FLOORED_TABLES`) gets the run's privacy floor first: rows of
        fewer than ``min_n`` responses keep their labels and count, their estimates become
        missing and ``note`` says "too few responses". ``csv=True`` also writes
        ``tables/<name>.csv`` (the same rows, for a spreadsheet). Returns the parquet path.

        Examples
        --------
        >>> Run(tmp_path).save_table("demo", pd.DataFrame({"a": [1]}))  # doctest: +SKIP
        PosixPath('.../tables/demo.parquet')
        """
        from cxkit.privacy import floor_for_table

        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"save_table({name!r}): expected a pandas DataFrame, got "
                            f"{type(data).__name__}; convert it (e.g. .to_frame()) first.")
        data = floor_for_table(name, data, self.min_n)
        out = self.table_path(name)
        out.parent.mkdir(parents=True, exist_ok=True)
        data.to_parquet(out, index=False)
        if csv:
            out.with_suffix(".csv").write_text(data.to_csv(index=False), encoding="utf-8")
        return out

    # -- models and ingest outputs --------------------------------------------------------
    def model_dir(self, name: str, *, create: bool = True) -> Path:
        """``models/<name>/`` (created unless ``create=False``), for ``result.save(...)``."""
        out = self.path / "models" / name
        if create:
            out.mkdir(parents=True, exist_ok=True)
        return out

    def model(self, name: str, result_class: type):
        """Load ``models/<name>/`` with ``result_class.load`` (DriverResult, ValueResult)."""
        return result_class.load(self.model_dir(name, create=False))

    def save_model_table(self, model: str, name: str, data: pd.DataFrame) -> Path:
        """Write ``models/<model>/<name>.parquet``: data kept with a model, e.g. the rows the
        driver model was fitted on (``fitted_rows``), which notebook 30 reads back."""
        out = self.model_dir(model) / f"{name}.parquet"
        data.to_parquet(out)
        return out

    def model_table(self, model: str, name: str) -> pd.DataFrame:
        """Read ``models/<model>/<name>.parquet`` (:meth:`save_model_table`)."""
        path = self.model_dir(model, create=False) / f"{name}.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found; the notebook that fits the {model!r} "
                                    f"model writes it (run notebook 20 first).")
        return pd.read_parquet(path)

    @property
    def ingest_dir(self) -> Path:
        """``ingest/``: where notebook 10's ``run_ingest`` writes."""
        return self.path / "ingest"

    def ingest_path(self, name: str) -> Path:
        return self.ingest_dir / f"{name}.parquet"

    def ingest(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """Read ``ingest/<name>.parquet`` (events, customers, responses, gaps, ...)."""
        path = self.ingest_path(name)
        if not path.is_file():
            have = sorted(p.stem for p in self.ingest_dir.glob("*.parquet"))
            raise FileNotFoundError(f"{path} not found; ingest outputs in this run: "
                                    f"{have or 'none'}. Run notebook 10 (ingestion) first.")
        return pd.read_parquet(path, columns=columns)

    def ingest_or_none(self, name: str) -> pd.DataFrame | None:
        return self.ingest(name) if self.ingest_path(name).is_file() else None

    # -- history --------------------------------------------------------------------------
    def previous(self) -> "Run | None":
        """The finished run started just before this one in the same reports folder (the
        newest finished run when this folder has no manifest yet)."""
        here = self.path.resolve()
        mine = self.manifest if self.has_manifest else None
        key = (str(mine.started_at or ""), mine.run_id) if mine is not None else None
        for run in list_runs(here.parent):  # newest first
            if run.path != here and (key is None or _order(run) < key):
                return run
        return None


def _order(run: Run) -> tuple[str, str]:
    return str(run.manifest.started_at or ""), run.manifest.run_id


def list_runs(reports_dir: str | Path) -> list[Run]:
    """The finished runs in ``reports_dir``, newest first (by ``started_at``, then id).

    Temporary (``.<id>.tmp``) and failed (``<id>.failed``) folders, the ``latest`` link and
    folders without a valid manifest are left out. Each run's ``path`` is resolved.
    """
    reports_dir = Path(reports_dir)
    runs = []
    if not reports_dir.is_dir():
        return runs
    for path in reports_dir.iterdir():
        if (path.name.startswith(".") or path.name.endswith(".failed")
                or path.is_symlink() or not path.is_dir()):
            continue
        run = Run(path.resolve())
        if run.has_manifest and run.manifest.ok:
            runs.append(run)
    return sorted(runs, key=_order, reverse=True)
