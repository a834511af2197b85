"""Initiatives as data: what changes, for whom, at what cost, in which currency and horizon.

An initiatives YAML (``params/initiatives/*.yaml``, listed under ``value.initiatives`` of the
run YAML)::

    currency: EUR            # default for every initiative below
    horizon_days: 365        # default horizon of the revenue change
    initiatives:
      - name: faster delivery in the South
        changes:
          - {driver: gap_delivery, close_gap: 0.5}     # close 50% of each late delivery's gap
        segments: {region: [South]}                   # who is targeted (default: everybody)
        cost: {one_off: 20000, per_customer: 3}
      - name: app release
        changes: [{driver: rating_app, by: 1}]       # move a driver by d (its own units)
        cost: {one_off: 40000, per_period: 2000, period_days: 30}
      - name: call the detractors
        changes: [{score_band: {from: [0, 6], to: 7}}]   # score moved from band A to B
        cost: {per_customer: 25}
      - name: delivery and app together
        combine: [faster delivery in the South, app release]

Change kinds: ``by`` adds ``d`` to the driver; ``close_gap: p`` removes the share ``p`` of the
driver's positive part (a gap, a breach count, a flag: ``x - p * max(x, 0)``); ``score_band``
sets the score of customers whose score lies in ``from = [lo, hi]`` to ``to``. A changed
driver value beyond the range observed in the responses is clipped to it and the initiative
is flagged (so a breach count never goes below 0). A combination applies its members' changes
together, to the union of their targets, and adds their costs.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cxkit._checks import read_yaml_mapping


class InitiativeError(ValueError):
    """An initiatives file or definition that cannot be used; says where and what to do."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ScoreBand(_Strict):
    band_from: tuple[float, float] = Field(alias="from")  # [lo, hi] inclusive
    to: float

    @model_validator(mode="after")
    def _ordered(self):
        if self.band_from[0] > self.band_from[1]:
            raise ValueError(f"score_band from {list(self.band_from)} has low > high")
        return self


class Change(_Strict):
    driver: str | None = None
    by: float | None = None
    close_gap: float | None = Field(None, ge=0, le=1)
    score_band: ScoreBand | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in ("by", "close_gap", "score_band") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a change needs exactly one of 'by', 'close_gap', 'score_band' "
                             f"(got {kinds or 'none'})")
        if kinds[0] != "score_band" and not self.driver:
            raise ValueError(f"'{kinds[0]}' needs 'driver' (the responses column it moves)")
        return self

    @property
    def kind(self) -> str:
        return "by" if self.by is not None else (
            "close_gap" if self.close_gap is not None else "score_band")


class Cost(_Strict):
    one_off: float = Field(0.0, ge=0)
    per_customer: float = Field(0.0, ge=0)      # per targeted customer
    per_period: float = Field(0.0, ge=0)
    period_days: int = Field(30, gt=0)

    def periods(self, horizon_days: int) -> int:
        """Whole periods paid within the horizon (0 when there is no running cost)."""
        return math.ceil(horizon_days / self.period_days) if self.per_period else 0

    def total(self, n_targeted: int, horizon_days: int) -> float:
        return (self.one_off + self.per_customer * n_targeted
                + self.per_period * self.periods(horizon_days))


class Initiative(_Strict):
    name: str
    changes: list[Change] = Field(default_factory=list)
    segments: dict[str, list[str]] = Field(default_factory=dict)
    cost: Cost = Field(default_factory=Cost)
    currency: str | None = None
    horizon_days: int | None = Field(None, gt=0)
    combine: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _what(self):
        if bool(self.changes) == bool(self.combine):
            raise ValueError("give either 'changes' (a single initiative) or 'combine' "
                             "(names of initiatives to run together), not both or neither")
        return self


class InitiativesFile(_Strict):
    currency: str = "EUR"
    horizon_days: int = Field(365, gt=0)
    initiatives: list[Initiative]


def _format(exc: ValidationError, where: str) -> str:
    lines = [f"{where}: invalid initiatives"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = ("unknown key" if err["type"] == "extra_forbidden" else err["msg"])
        lines.append(f"  {loc}: {msg}")
    lines.append("Fix the file (format in cxkit/value/initiatives.py) and run again.")
    return "\n".join(lines)


def resolve(spec: InitiativesFile | dict, where: str = "initiatives") -> list[dict]:
    """Validate and expand definitions: defaults filled, combinations resolved.

    Returns
    -------
    list of dict
        ``name, kind ("single"|"combination"), changes`` (list of :class:`Change`), ``parts``
        (list of (changes, target) pairs: each member's changes apply to its own targets),
        ``segments`` (list of target dicts; a combination targets the union), ``costs`` (list
        of (:class:`Cost`, segments) pairs), ``currency, horizon_days, members``.

    Examples
    --------
    >>> out = resolve({"initiatives": [{"name": "a", "changes": [{"driver": "x", "by": 1}]}]})
    >>> out[0]["kind"], out[0]["currency"], out[0]["horizon_days"]
    ('single', 'EUR', 365)
    """
    try:
        spec = spec if isinstance(spec, InitiativesFile) else InitiativesFile.model_validate(spec)
    except ValidationError as exc:
        raise InitiativeError(_format(exc, where)) from None
    names = [i.name for i in spec.initiatives]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InitiativeError(f"{where}: initiative names must be unique; repeated: {dup}.")
    by_name = {i.name: i for i in spec.initiatives}
    out = []
    for ini in spec.initiatives:
        currency = ini.currency or spec.currency
        horizon = ini.horizon_days or spec.horizon_days
        if not ini.combine:
            out.append({"name": ini.name, "kind": "single", "changes": list(ini.changes),
                        "parts": [(list(ini.changes), ini.segments)],
                        "segments": [ini.segments], "costs": [(ini.cost, ini.segments)],
                        "currency": currency, "horizon_days": horizon, "members": [ini.name]})
            continue
        members = []
        for m in ini.combine:
            if m not in by_name or by_name[m].combine:
                raise InitiativeError(
                    f"{where}: combination '{ini.name}' names '{m}', which is not a single "
                    f"initiative of this file (singles: "
                    f"{[i.name for i in spec.initiatives if not i.combine]}).")
            members.append(by_name[m])
        currencies = {x.currency or spec.currency for x in members} | {currency}
        if len(currencies) > 1:
            raise InitiativeError(f"{where}: combination '{ini.name}' mixes currencies "
                                  f"{sorted(currencies)}; give its members one currency.")
        out.append({"name": ini.name, "kind": "combination",
                    "changes": [c for x in members for c in x.changes],
                    "parts": [(list(x.changes), x.segments) for x in members],
                    "segments": [x.segments for x in members],
                    "costs": [(x.cost, x.segments) for x in members] + [(ini.cost, {})],
                    "currency": currency, "horizon_days": horizon,
                    "members": [x.name for x in members]})
    return out


def load_initiatives(paths) -> list[dict]:
    """Read one or more initiatives YAML files into resolved definitions (see :func:`resolve`).

    Names must be unique across files; combinations refer to initiatives of their own file.

    Examples
    --------
    >>> load_initiatives(["params/initiatives/sample.yaml"])[0]["name"]  # doctest: +SKIP
    'faster delivery in the South'
    """
    out: list[dict] = []
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        path = Path(path)
        raw = read_yaml_mapping(
            path, error=InitiativeError,
            missing=("initiatives file not found; list files that exist under "
                     "value.initiatives (e.g. params/initiatives/sample.yaml)."),
            expected="a mapping with 'initiatives:' (a list), got {got}.")
        out += resolve(raw, where=str(path))
    names = [d["name"] for d in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InitiativeError(f"initiative names repeat across files: {dup}; rename them.")
    return out
