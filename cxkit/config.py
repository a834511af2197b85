"""Project paths and the run parameters read from one YAML file in ``params/``.

Paths are anchored on this file, never on the working directory, so ``cxkit run`` and the
notebooks find the same folders wherever they are started from.

A run YAML has the sections ``run``, ``ingest``, ``drivers``, ``value`` and an optional
``olist``. Unknown keys are an error (papermill would only warn and then run with the
default), reported with the file, the key's location and a "did you mean" suggestion.
Relative paths in the YAML are relative to the YAML file itself.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"
REPORTS_DIR = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
DASHBOARDS_DIR = PROJECT_ROOT / "dashboards"
PARAMS_DIR = PROJECT_ROOT / "params"
# The real Olist sample sits beside the project, never inside it (non-commercial licence).
OLIST_DIR = PROJECT_ROOT.parent / "shared" / "data" / "olist_sample"


class ConfigError(ValueError):
    """A run YAML that cannot be used; the message names the file, the key and the fix."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunSection(_Section):
    name: str = "cx"  # shown in the manifest and the report titles
    out_dir: Path = REPORTS_DIR  # reports/<run_id>/ is created below it


class IngestSection(_Section):
    sources: Path  # sources YAML for cxkit.ingest.run_ingest
    window_days: int = Field(90, gt=0)  # touchpoint window before each survey response
    engine: Literal["duckdb", "pyspark"] = "duckdb"


class DriversSection(_Section):
    outcome: str = "nps"
    family: Literal["gaussian", "bernoulli", "ordinal"] = "gaussian"
    drivers: list[str]
    segments: list[str] = Field(default_factory=list)
    draws: int = Field(1000, gt=0)
    tune: int = Field(1000, gt=0)
    chains: int = Field(4, gt=0)
    seed: int = 42
    parametrization: Literal["auto", "centered", "non_centered"] = "auto"  # hierarchy form
    target_accept: float = Field(0.8, gt=0, lt=1)  # NUTS step-size target; raise on divergences
    allow_failed_gate: bool = False  # True: publish despite a failed convergence gate, flagged


class Scenario(_Section):
    driver: str
    delta: float
    name: str | None = None
    clip: tuple[float, float] | None = None


class ValueSection(_Section):
    score: str = "nps"
    segment: str = "region"
    cutoff: str | None = None  # ISO date; None = the notebook picks the data's midpoint
    horizon_days: int = Field(180, gt=0)
    scenarios: list[Scenario] = Field(default_factory=list)
    covariates: list[str] | None = None  # segment columns adjusted for; None = all others
    initiatives: list[Path] = Field(default_factory=list)  # params/initiatives/*.yaml
    currency: str = "EUR"  # label of revenue at risk (initiatives carry their own)
    score_threshold: float | None = None  # quadrants: high score; None = 7 for NPS, else median
    revenue_threshold: float | None = None  # quadrants: high revenue; None = median


class OlistSection(_Section):
    sources: Path  # sources YAML for the Olist sample
    outcome: str = "review_score"
    family: Literal["gaussian", "bernoulli", "ordinal"] = "gaussian"
    drivers: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)


class RunConfig(_Section):
    """One whole run, as validated from ``params/<run>.yaml``."""

    run: RunSection = Field(default_factory=RunSection)
    ingest: IngestSection
    drivers: DriversSection
    value: ValueSection = Field(default_factory=ValueSection)
    olist: OlistSection | None = None
    source: Path | None = Field(None, exclude=True)  # the YAML it came from

    def to_jsonable(self) -> dict[str, Any]:
        """The parameters as plain JSON types (paths as strings), for the manifest."""
        return self.model_dump(mode="json", exclude={"source"})


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names valid at ``loc`` (the location pydantic reports, minus the bad key)."""
    for part in loc:
        if isinstance(part, int):
            continue  # list index: same model as the list's items
        field = model.model_fields.get(part)
        if field is None:
            break
        ann = field.annotation
        for candidate in (ann, *getattr(ann, "__args__", ())):
            for inner in (candidate, *getattr(candidate, "__args__", ())):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    model = inner
                    break
    return list(model.model_fields)


def _format_errors(exc: ValidationError, path: Path) -> str:
    lines = [f"{path}: invalid run parameters"]
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            allowed = [k for k in _allowed_keys(RunConfig, loc[:-1]) if k != "source"]
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            lines.append(f"  unknown key '{where}'.{hint} Allowed here: {', '.join(allowed)}.")
        else:
            lines.append(f"  {where}: {err['msg']} (got {err.get('input')!r})")
    lines.append("Fix the YAML (see README 'Run parameters') and run again.")
    return "\n".join(lines)


def _resolve(p: Path, base: Path) -> Path:
    return p if p.is_absolute() else (base / p).resolve()


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a run YAML.

    Parameters
    ----------
    path : str or Path
        The YAML file, e.g. ``params/sample.yaml``.

    Returns
    -------
    RunConfig
        Validated parameters; relative paths resolved against the YAML's folder.

    Raises
    ------
    ConfigError
        File missing, not YAML, not a mapping, or keys unknown / values invalid.

    Examples
    --------
    >>> cfg = load_config(PARAMS_DIR / "sample.yaml")  # doctest: +SKIP
    >>> cfg.drivers.outcome  # doctest: +SKIP
    'nps'
    """
    import yaml

    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"{path}: run parameters file not found. "
                          f"Pass a YAML from {PARAMS_DIR}, e.g. params/sample.yaml.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with sections run, ingest, drivers, "
                          f"value (and optional olist), got {type(raw).__name__}.")
    if "source" in raw:
        raise ConfigError(f"{path}: unknown key 'source'. Allowed: run, ingest, drivers, "
                          f"value, olist.")
    try:
        cfg = RunConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, path)) from None

    base = path.parent
    run = cfg.run
    if "out_dir" in (raw.get("run") or {}):
        run = run.model_copy(update={"out_dir": _resolve(run.out_dir, base)})
    ingest = cfg.ingest.model_copy(update={"sources": _resolve(cfg.ingest.sources, base)})
    value = cfg.value.model_copy(update={
        "initiatives": [_resolve(p, base) for p in cfg.value.initiatives]})
    olist = cfg.olist
    if olist is not None:
        olist = olist.model_copy(update={"sources": _resolve(olist.sources, base)})
    return cfg.model_copy(update={"run": run, "ingest": ingest, "value": value, "olist": olist,
                                  "source": path})
