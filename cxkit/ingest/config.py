"""Sources YAML: pydantic models and their loader (the catalog: :mod:`cxkit.ingest.catalog`).

A sources file (``params/sources/*.yaml``) declares every input of one ingestion run: where
each source lives (a file glob or a database table), how its columns map onto the canonical
event schema, how its timestamps are written, which identifier keys it, and which
touchpoint each row is.

Unknown keys are errors that name the file and the key: a typo in a YAML file must never be
silently ignored.  Paths are relative to the YAML file that names them and may use
``${VAR:-default}`` so users can point a committed YAML at their own copy of the data.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cxkit._checks import read_yaml_mapping
from cxkit.ingest.errors import ConfigError

__all__ = [
    "Base", "TimestampSpec", "TouchpointSpec", "LookupStep", "EnrichSpec", "ScoreSpec",
    "CohortSpec", "SourceSpec", "IdentitySpec", "SourcesSpec", "load_sources", "expand_env",
]

#: The catalog's names, still importable from here (they live in cxkit.ingest.catalog).
_CATALOG_NAMES = ("UNITS", "Rule", "TouchpointDef", "Catalog", "load_catalog")

_ENV = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def expand_env(text: str) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}`` in ``text`` from the environment.

    Examples
    --------
    >>> expand_env("${CXKIT_NOT_SET_ANYWHERE:-data/x}")
    'data/x'
    """

    def repl(m: re.Match) -> str:
        value = os.environ.get(m.group("name"))
        if value:
            return value
        if m.group("default") is not None:
            return m.group("default")
        raise ConfigError(f"environment variable {m.group('name')} is not set and {m.group(0)!r} "
                          "has no default; set it or write ${NAME:-default}")

    return _ENV.sub(repl, text)


class Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimestampSpec(Base):
    """A timestamp column: ``format`` is ``iso8601`` (offsets honoured), ``epoch_ms``,
    ``epoch_s`` or a strptime pattern; ``timezone`` is the zone of naive values."""

    column: str
    format: str | None = None
    timezone: str | None = None
    fallback: str | None = None  # column used where ``column`` is blank (same format)


class TouchpointSpec(Base):
    """Touchpoint of each row: a constant ``value``, or a ``column`` optionally recoded by ``map``."""

    value: str | None = None
    column: str | None = None
    map: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if (self.value is None) == (self.column is None):
            raise ValueError("give exactly one of 'value' (a constant touchpoint) or 'column'")
        return self


class LookupStep(Base):
    """One hop of a lookup chain: find ``key`` in source ``source`` and return ``value``."""

    source: str
    key: str
    value: str


class EnrichSpec(Base):
    """Add a column by following lookups from ``column`` (first match by file order).
    (Not called ``on``: YAML 1.1 reads a bare ``on`` key as the boolean true.)"""

    column: str
    chain: list[LookupStep] = Field(min_length=1)


class ScoreSpec(Base):
    """A score column and its valid range. ``map`` recodes text answers to numbers
    (``{satisfied: 1, "neutral or dissatisfied": 0}``; matched after trimming, case
    ignored); ``na`` lists not-applicable codes (e.g. ``[0]`` = "did not use") that become
    blank instead of out of range."""

    column: str
    min: float
    max: float
    map: dict[str, float] | None = None
    na: list[float] = Field(default_factory=list)


class CohortSpec(Base):
    """Cohort = calendar quarter (``2023Q1``) of a timestamp column of the customers source,
    or of each customer's first event of a touchpoint."""

    quarter_of: TimestampSpec | None = None
    first_touchpoint: str | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if (self.quarter_of is None) == (self.first_touchpoint is None):
            raise ValueError("give exactly one of 'quarter_of' or 'first_touchpoint'")
        return self


class SourceSpec(Base):
    """One input source. ``role`` decides what its rows become:

    - ``customers``: the customer master (segments, identifier links);
    - ``events``: touchpoint events;
    - ``responses``: survey responses (scores, verbatim);
    - ``lookup``: a reference table only used by ``enrich`` chains.
    """

    role: Literal["customers", "events", "responses", "lookup"]
    path: str | None = None
    table: str | None = None
    database: str | None = None
    format: Literal["csv", "parquet"] | None = None
    delimiter: str = ","
    encoding: str = "utf-8"  # text encoding of CSV files (latin-1, cp1252, utf-16, ...)
    timestamp_format: str = "iso8601"
    timezone: str = "UTC"
    ids: dict[str, str] = Field(default_factory=dict)
    key: str | None = None
    # Rows whose key resolves to no customer: "orphan" quarantines them; "anonymous" keeps
    # them with a null customer_id (web traffic of devices that never logged in).
    unresolved: Literal["orphan", "anonymous"] = "orphan"
    event_id: list[str] | None = None
    dedupe_on: list[str] | None = None
    # customers read from an order- or response-level file repeat each customer on many rows:
    # "collapse" keeps them and folds them into one customer (first row's segments win)
    # instead of quarantining the repeats as duplicates.
    repeated_rows: Literal["quarantine", "collapse"] = "quarantine"
    touchpoint: TouchpointSpec | None = None
    timestamp: TimestampSpec | None = None
    fields: dict[str, Union[TimestampSpec, str]] = Field(default_factory=dict)
    value: str | None = None
    segments: dict[str, str] = Field(default_factory=dict)
    cohort: CohortSpec | None = None
    scores: dict[str, ScoreSpec] = Field(default_factory=dict)
    verbatim: str | None = None
    # The verbatims' language (ISO 639-1: pt, en, es, de, fr); carried into the responses
    # table's ``language`` column. Unset: detected from the text.
    language: str | None = None
    enrich: dict[str, EnrichSpec] = Field(default_factory=dict)
    # The transaction a row belongs to (an order id): a response and the events that share
    # its link are joined by it instead of by the time window (see responses_table).
    link: str | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown encoding {v!r}; use a Python codec name such as "
                             f"utf-8, latin-1, cp1252 or utf-16") from None
        return v

    @field_validator("language")
    @classmethod
    def _known_language(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from cxkit.voice.language import LANGUAGES

        if v.strip().lower() not in LANGUAGES:
            raise ValueError(f"unknown language {v!r}; use one of {sorted(LANGUAGES)}, or "
                             f"leave 'language' out to detect it from the text")
        return v.strip().lower()

    @field_validator("touchpoint", mode="before")
    @classmethod
    def _tp_shorthand(cls, v):
        return {"value": v} if isinstance(v, str) else v

    @field_validator("timestamp", mode="before")
    @classmethod
    def _ts_shorthand(cls, v):
        return {"column": v} if isinstance(v, str) else v

    @field_validator("event_id", "dedupe_on", mode="before")
    @classmethod
    def _listify(cls, v):
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _check(self):
        if (self.path is None) == (self.table is None):
            raise ValueError("give exactly one of 'path' (file glob) or 'table' (database table)")
        if self.role != "lookup" and self.key is None:
            raise ValueError(f"a '{self.role}' source needs 'key' (the id kind naming the customer)")
        if self.key is not None and self.key not in self.ids:
            raise ValueError(f"key '{self.key}' is not one of the declared ids {sorted(self.ids)}")
        # Responses may lack a timestamp (a flat survey export, a customer snapshot): they
        # then get no journey-window features, only their own scores and segments.
        if self.role == "events" and self.timestamp is None:
            raise ValueError(f"a '{self.role}' source needs 'timestamp'")
        if self.role == "events" and self.touchpoint is None:
            raise ValueError("an 'events' source needs 'touchpoint'")
        if self.role == "responses" and not self.scores:
            raise ValueError("a 'responses' source needs 'scores' with their valid ranges")
        if self.language is not None and (self.role != "responses" or self.verbatim is None):
            raise ValueError("'language' names the language of a responses source's "
                             "verbatim; give it only with 'verbatim' on a responses source")
        if self.link is not None and self.role not in ("events", "responses"):
            raise ValueError(f"'link' joins responses to events; a '{self.role}' source cannot have one")
        if self.repeated_rows == "collapse" and (self.role != "customers" or self.dedupe_on):
            raise ValueError("repeated_rows: collapse is for a customers source without dedupe_on")
        if self.role == "customers" and self.touchpoint is not None and self.timestamp is None:
            raise ValueError("a customers source that emits a touchpoint needs 'timestamp'")
        return self

    def ts_spec(self, spec: TimestampSpec) -> TimestampSpec:
        """``spec`` with the source's default format and timezone filled in."""
        return TimestampSpec(column=spec.column, format=spec.format or self.timestamp_format,
                             timezone=spec.timezone or self.timezone, fallback=spec.fallback)


class IdentitySpec(Base):
    """``canonical`` is the id kind that *is* the customer id in every output table."""

    canonical: str = "customer_id"


class SourcesSpec(Base):
    """A whole sources YAML (see :func:`load_sources`)."""

    catalog: str
    identity: IdentitySpec = IdentitySpec()
    window_days: float = Field(30.0, gt=0)
    as_of: datetime | None = None
    max_quarantine_share: float = Field(0.5, ge=0, le=1)
    sources: dict[str, SourceSpec] = Field(min_length=1)
    # Not from YAML: the folder relative paths are resolved against, and the YAML's own path.
    base_dir: Path = Path(".")
    file: str = "<memory>"

    @model_validator(mode="after")
    def _check(self):
        roles = [s.role for s in self.sources.values()]
        if roles.count("customers") != 1:
            raise ValueError(f"exactly one source needs role 'customers' (found {roles.count('customers')})")
        names = set(self.sources)
        for name, s in self.sources.items():
            for col, e in s.enrich.items():
                for step in e.chain:
                    if step.source not in names:
                        raise ValueError(f"sources.{name}.enrich.{col}: unknown source '{step.source}'")
        cust = next(s for s in self.sources.values() if s.role == "customers")
        if cust.key != self.identity.canonical:
            raise ValueError(f"the customers source must be keyed by the canonical id "
                             f"'{self.identity.canonical}' (it has key '{cust.key}')")
        return self

    def resolve(self, path: str) -> Path:
        p = Path(expand_env(path))
        return Path(os.path.normpath(p if p.is_absolute() else (self.base_dir / p)))

    @property
    def customers_source(self) -> str:
        return next(n for n, s in self.sources.items() if s.role == "customers")


def _format_validation(err: ValidationError, file: Path | str) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "<top>"
        if e["type"] == "extra_forbidden":
            lines.append(f"{file}: unknown key '{loc}' (remove it or fix its spelling)")
        else:
            lines.append(f"{file}: {loc}: {e['msg']}")
    return "\n".join(lines)


def _read_yaml(path: Path) -> dict:
    return read_yaml_mapping(path, error=ConfigError, missing="file not found",
                             expected="a mapping at the top level")


def load_sources(path: Path | str) -> SourcesSpec:
    """Read and validate a sources YAML; relative paths resolve against its folder.

    Examples
    --------
    >>> spec = load_sources("params/sources/sample.yaml")  # doctest: +SKIP
    >>> spec.customers_source                              # doctest: +SKIP
    'customers'
    """
    path = Path(path)
    data = _read_yaml(path)
    try:
        return SourcesSpec(**data, base_dir=path.resolve().parent, file=str(path))
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, path)) from None


def __getattr__(name: str):
    # The catalog imports this module's Base and YAML helpers: re-exported lazily, no cycle.
    if name in _CATALOG_NAMES:
        from cxkit.ingest import catalog

        return getattr(catalog, name)
    raise AttributeError(f"module 'cxkit.ingest.config' has no attribute {name!r}")
