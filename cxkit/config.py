"""Project paths and the run parameters read from one YAML file in ``params/``.

Paths are anchored on this file, never on the working directory, so ``cxkit run`` and the
notebooks find the same folders wherever they are started from.

One typed section per step of a run (the single source of every parameter; the notebooks'
parameters cells, the README table and the function defaults are checked against these
models by ``tests/test_parameters.py``):

========== ======================== ===========================================
section    model                    read by
========== ======================== ===========================================
``run``      :class:`RunSection`        the runner (name, output folder)
``ingest``   :class:`IngestSection`     notebook 10 (``cxkit.ingest``)
``journeys`` :class:`JourneysSection`   notebook 10 (funnel, cohorts, gaps)
``drivers``  :class:`DriversSection`    notebook 20 (features + driver model)
``value``    :class:`ValueSection`      notebook 30 (value model, scenarios, quadrants)
``olist``    :class:`OlistSection`      notebook 20's optional real-data section
``trend``    :class:`TrendSection`      after the notebooks (``cxkit.trend``)
========== ======================== ===========================================

Adding a section is a local change: write a ``_Section`` subclass and add one optional field
to :class:`RunConfig` (``alerts: AlertsSection | None = None``). Fields typed ``Path``
anywhere in the tree are resolved against the YAML file that sets them, with no extra code.

Reading the files (:mod:`cxkit.config_load`): a run YAML may start with
``extends: <other.yaml>`` (relative to itself): the base is read
first and the file's own sections are merged over it key by key (mappings merge, lists and
scalars replace, ``null`` removes an optional section). Unknown keys are an error (papermill
would only warn and then run with the default), reported with the file, the key's location
and a "did you mean" suggestion.

No default names a column of any data set: columns (outcome, drivers, segments, scores,
revenue) always come from the YAML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cxkit import config_load
from cxkit.config_load import ConfigError, _models_in, merge  # noqa: F401  (public here too)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"
REPORTS_DIR = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
DASHBOARDS_DIR = PROJECT_ROOT / "dashboards"
PARAMS_DIR = PROJECT_ROOT / "params"
# The real Olist sample sits beside the project, never inside it (non-commercial licence).
OLIST_DIR = PROJECT_ROOT.parent / "shared" / "data" / "olist_sample"

Family = Literal["gaussian", "bernoulli", "ordinal"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- sections
class RunSection(_Section):
    name: str = "cx"  # shown in the manifest and the report titles
    out_dir: Path = REPORTS_DIR  # reports/<run_id>/ is created below it


class IngestSection(_Section):
    sources: Path  # sources YAML for cxkit.ingest.run_ingest
    window_days: int = Field(30, gt=0)  # touchpoint window before each survey response
    engine: Literal["duckdb", "pyspark"] = "duckdb"


class JourneysSection(_Section):
    segment: str | None = None  # customers column for the gap chart; None: overall only
    gap_segments: list[str] = Field(default_factory=list)  # journey_gaps table breakdowns


class MissingPolicy(_Section):
    """What to do with missing values of one model column.

    YAML forms: ``drop``, ``indicator``, ``{impute: median}``, ``{impute: 0}``.
    ``indicator`` fills with the median and adds a 0/1 ``<column>_missing`` driver.
    """

    action: Literal["drop", "impute", "indicator"]
    value: float | Literal["median"] | None = None  # impute: a number or "median"

    @model_validator(mode="before")
    @classmethod
    def _short(cls, v):
        if isinstance(v, str):
            return {"action": v}
        if isinstance(v, dict) and set(v) == {"impute"}:
            return {"action": "impute", "value": v["impute"]}
        return v

    @model_validator(mode="after")
    def _check(self):
        if (self.action == "impute") != (self.value is not None):
            raise ValueError("write 'drop', 'indicator' or {impute: <number or median>}")
        return self


class SummarySection(_Section):
    """Headline score by segment in notebook 20: ``nps`` (0-10, promoters minus
    detractors), ``top_box`` (share in the top ``top`` points of 1..``scale_max``),
    ``share`` (share of 1s of a 0/1 outcome) or ``none``."""

    kind: Literal["nps", "top_box", "share", "none"] = "none"
    score: str | None = None  # responses column; None: the driver model's outcome
    scale_max: int = Field(5, ge=2)  # top_box only
    top: int = Field(2, ge=1)  # top_box only


class DriversSection(_Section):
    outcome: str  # responses column the model explains
    family: Family = "gaussian"
    drivers: list[str] = Field(min_length=1)  # responses columns (numeric or categorical)
    segments: list[str] = Field(default_factory=list)  # >2 are crossed into one level
    categorical: dict[str, str] = Field(default_factory=dict)  # column: reference level
    missing: dict[str, MissingPolicy] = Field(default_factory=dict)  # column: policy
    never_flags: bool = True  # gap_<tp> of a never-happened actual -> never_<tp> flag
    summary: SummarySection = Field(default_factory=SummarySection)
    draws: int = Field(1000, gt=0)
    tune: int = Field(1000, gt=0)
    chains: int = Field(4, gt=0)
    seed: int = 0
    parametrization: Literal["auto", "centered", "non_centered"] = "auto"  # hierarchy form
    target_accept: float = Field(0.9, gt=0, lt=1)  # NUTS step-size target; raise on divergences
    allow_failed_gate: bool = False  # True: publish despite a failed convergence gate, flagged


class Scenario(_Section):
    driver: str
    delta: float
    name: str | None = None
    clip: tuple[float, float] | None = None


class SnapshotSection(_Section):
    """A customer snapshot file (one row per customer, no timestamps) as the value table."""

    path: Path  # CSV or Parquet
    delimiter: str = ","  # CSV field separator
    customer_id: str  # id column (same ids as the responses' customer_id)
    score: str  # score column (the driver model's outcome scale)
    churned: str | None = None  # churn flag column (give this or ``retained``)
    retained: str | None = None  # retention flag column
    true_values: list[str] = Field(default_factory=lambda: ["1", "true", "yes", "y"])
    false_values: list[str] = Field(default_factory=lambda: ["0", "false", "no", "n"])
    revenue: str  # revenue of the period after the score (spend if retained)
    revenue_pre: str | None = None  # revenue before; None: ``revenue`` (stated in attrs)
    segments: list[str] = Field(default_factory=list)  # segment columns carried

    @model_validator(mode="after")
    def _one_flag(self):
        if (self.churned is None) == (self.retained is None):
            raise ValueError("give exactly one of 'churned' or 'retained'")
        return self


class ValueSection(_Section):
    score: str | None = None  # responses score; None: the driver model's outcome
    segment: str  # customers column the value model pools over
    segments: list[str] = Field(default_factory=list)  # more columns carried to the tables
    cutoff: str | None = None  # ISO date; None = latest date leaving the horizon
    horizon_days: int = Field(365, gt=0)
    scenarios: list[Scenario] = Field(default_factory=list)
    snapshot: SnapshotSection | None = None  # customer snapshot instead of events
    covariates: list[str] | None = None  # segment columns adjusted for; None = all others
    initiatives: list[Path] = Field(default_factory=list)  # params/initiatives/*.yaml
    currency: str = "EUR"  # label of revenue at risk (initiatives carry their own)
    score_threshold: float | None = None  # quadrants: high score; None = 7 for NPS, else median
    revenue_threshold: float | None = None  # quadrants: high revenue; None = median
    sensitivity: bool = True  # refit the value model per specification (sensitivity table)


class OlistSection(_Section):
    sources: Path  # sources YAML for the Olist sample
    outcome: str  # responses column of the Olist ingest
    family: Family = "gaussian"
    drivers: list[str] = Field(min_length=1)
    segments: list[str] = Field(default_factory=list)
    missing: dict[str, MissingPolicy] = Field(default_factory=dict)
    never_flags: bool = True


class AlertsSection(_Section):
    rules: Path  # alert rules YAML (params/alerts.yaml): rules, owners, channels
    deliver: bool = True  # False: write alerts.csv / alerts.json but send nothing


class VoiceSection(_Section):
    """Verbatims to topics, sentiment and topic drivers (notebook 15_voice, cxkit.voice)."""

    text: str  # responses column holding the comments
    language: Literal["auto", "pt", "en", "es", "de", "fr"] = "auto"  # auto: detect from text
    n_topics: int = Field(6, ge=2, le=40)  # topics to find (NMF components)
    min_share: float = Field(0.25, gt=0, le=1)  # share of a comment's topic weight = "mentions"
    min_n: int = Field(30, ge=1)  # privacy floor: fewer responses show "too few responses"
    segments: list[str] = Field(default_factory=list)  # prevalence by these; [] = drivers.segments
    topic_drivers: bool = True  # fit the driver model with topic flags beside drivers.drivers


class TrendScore(_Section):
    """A responses score followed from run to run as a share satisfied (or NPS)."""

    score: str  # responses column
    kind: Literal["nps", "top_box", "share"] = "top_box"
    scale_max: int = Field(5, ge=2)  # top_box only
    top: int = Field(2, ge=1)  # top_box only


class TrendSection(_Section):
    """Scores compared with the previous run besides the headline (``drivers.summary``),
    driver importance and promises kept (:mod:`cxkit.trend`)."""

    scores: list[TrendScore] = Field(default_factory=list)


class DashboardSection(_Section):
    min_n: int = Field(30, ge=1)  # privacy floor: fewer responses in a group = no estimate shown


class RunConfig(_Section):
    """One whole run, as validated from ``params/<run>.yaml``.

    ``value: null`` (or no value section) skips notebook 30 with a stated reason.
    """

    run: RunSection = Field(default_factory=RunSection)
    ingest: IngestSection
    journeys: JourneysSection = Field(default_factory=JourneysSection)
    drivers: DriversSection
    value: ValueSection | None = None
    olist: OlistSection | None = None
    alerts: AlertsSection | None = None  # cxkit.alerts: rules applied after each run
    voice: VoiceSection | None = None  # notebook 15_voice; absent skips it
    trend: TrendSection = Field(default_factory=TrendSection)  # cxkit.trend: extra scores
    dashboard: DashboardSection = Field(default_factory=DashboardSection)
    source: Path | None = Field(None, exclude=True)  # the YAML it came from

    def to_jsonable(self) -> dict[str, Any]:
        """The parameters as plain JSON types (paths as strings), for the manifest."""
        return self.model_dump(mode="json", exclude={"source"})

    def skipped_steps(self) -> dict[str, str]:
        """Notebook stem -> reason, for the steps this run's data cannot support."""
        out = {}
        if self.voice is None:
            out["15_voice"] = ("no voice section in the run YAML: no verbatim column is "
                               "declared, so topics and sentiment do not apply")
        if self.value is None:
            out["30_revenue_impact"] = ("no value section in the run YAML: the data declares "
                                        "no revenue or retention, so the value model, "
                                        "scenarios and quadrants do not apply")
        return out


# --------------------------------------------------------------------------- loading
def path_fields(model: type[BaseModel] = None, prefix: tuple = ()) -> list[tuple[str, ...]]:
    """Dotted locations of every ``Path`` field below ``model`` (default :class:`RunConfig`).

    Examples
    --------
    >>> ("ingest", "sources") in path_fields()
    True
    """
    return config_load.path_fields(model or RunConfig, prefix)


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a run YAML (following ``extends:``).

    Parameters
    ----------
    path : str or Path
        The YAML file, e.g. ``params/sample.yaml``.

    Returns
    -------
    RunConfig
        Validated parameters; relative paths resolved against the YAML that set them.

    Raises
    ------
    ConfigError
        File missing, not YAML, not a mapping, an ``extends`` loop, or keys unknown /
        values invalid (all listed at once).

    Examples
    --------
    >>> cfg = load_config(PARAMS_DIR / "smoke.yaml")
    >>> cfg.drivers.outcome, cfg.drivers.draws
    ('nps', 100)
    """
    path = Path(path).resolve()
    raw = config_load.read_raw(path, RunConfig, PARAMS_DIR)
    try:
        cfg = RunConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(config_load.format_errors(exc, path, RunConfig)) from None
    return cfg.model_copy(update={"source": path})
