"""Touchpoint catalog YAML: pydantic models and their loader.

The touchpoint catalog (``params/catalog/*.yaml``) maps every touchpoint to a journey stage
and channel and declares the expectation rules (promised vs actual, SLA vs actual, target
vs actual).  Unknown keys are errors that name the file and the key, as in the sources
YAML (:mod:`cxkit.ingest.config`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Union

from pydantic import Field, ValidationError, model_validator

from cxkit.ingest.config import Base, _format_validation, _read_yaml
from cxkit.ingest.errors import ConfigError

__all__ = ["UNITS", "Rule", "TouchpointDef", "Catalog", "load_catalog"]

UNITS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0}


class Rule(Base):
    """An expectation rule; ``gap`` is actual minus expected in ``unit`` and ``met`` is
    ``gap <= tolerance``.

    - ``promised_vs_actual``: ``expected`` and ``actual`` are timestamp fields;
    - ``sla_vs_actual``: the deadline is ``start`` + ``target`` (a numeric field or a constant,
      in ``unit``), ``actual`` a timestamp field;
    - ``target_vs_actual``: ``target`` and ``actual`` are numbers in ``unit``.
    """

    kind: Literal["promised_vs_actual", "sla_vs_actual", "target_vs_actual"]
    expected: str | None = None
    actual: str
    start: str | None = None
    target: Union[float, str, None] = None
    unit: Literal["seconds", "minutes", "hours", "days"] = "days"
    rounding: Literal["none", "floor"] = "none"
    tolerance: float = 0.0

    @model_validator(mode="after")
    def _check(self):
        need = {"promised_vs_actual": ["expected"], "sla_vs_actual": ["start", "target"],
                "target_vs_actual": ["target"]}[self.kind]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"rule kind '{self.kind}' needs {missing}")
        return self

    def fields(self) -> list[str]:
        """Names of the source fields the rule reads."""
        out = [f for f in (self.expected, self.actual, self.start) if f]
        if isinstance(self.target, str):
            out.append(self.target)
        return out


class TouchpointDef(Base):
    stage: str
    channel: str
    rule: Rule | None = None


class Catalog(Base):
    """Touchpoint catalog: stage order and, per touchpoint, stage, channel and rule."""

    stages: list[str] = Field(min_length=1)
    touchpoints: dict[str, TouchpointDef] = Field(min_length=1)
    file: str = "<memory>"

    @model_validator(mode="after")
    def _check(self):
        for name, tp in self.touchpoints.items():
            if tp.stage not in self.stages:
                raise ValueError(f"touchpoints.{name}.stage: '{tp.stage}' is not one of stages {self.stages}")
        return self

    @property
    def rule_touchpoints(self) -> list[str]:
        """Touchpoints with an expectation rule, in catalog order (window features use these)."""
        return [n for n, tp in self.touchpoints.items() if tp.rule is not None]


def load_catalog(path: Path | str) -> Catalog:
    """Read and validate a touchpoint catalog YAML.

    Examples
    --------
    >>> cat = load_catalog("params/catalog/sample.yaml")  # doctest: +SKIP
    >>> cat.touchpoints["delivery"].stage                  # doctest: +SKIP
    'delivery'
    """
    path = Path(path)
    data = _read_yaml(path)
    try:
        return Catalog(**data, file=str(path))
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, path)) from None
