"""Model-ready driver data from the responses table, as the run YAML declares it.

:func:`prepare_drivers` is what notebook 20 calls before ``fit_drivers``; it turns the
ingested responses into the exact rows and columns the driver model sees, and says what it
did to them:

1. **Outcome**: rows without an outcome are dropped (an outcome is never imputed).
2. **Never-happened actuals** (``never_flags``): a response whose expectation-rule event
   never got its actual (an order never delivered, a ticket never answered) has
   ``never_<touchpoint> = 1`` and a blank ``gap_<touchpoint>``. Instead of dropping those
   rows (the worst experiences) the gap is filled with the median observed gap and
   ``never_<touchpoint>`` becomes a driver of its own: its effect is the difference between
   "never happened" and a typical, median-late event.
3. **Missing-value policies** per column (``missing:``): ``drop`` the row, ``impute`` a
   number or the column's median, or ``indicator`` (median plus a 0/1
   ``<column>_missing`` driver). Driver and segment columns without a policy are dropped
   where blank: that is counted and reported, never silent.
4. **Categorical drivers** (``categorical: {column: reference}``): one 0/1 column per
   non-reference level, named ``<column>_<level>``; each effect is "this level vs the
   reference".
5. **Segments**: one or two columns are passed through (two = nested: the second pooled
   within the first); three or more are *crossed* into one level (``North|web|pro``),
   pooled as a single level.

Not-applicable codes of rating scales (e.g. 0 = "did not use") are declared in the sources
YAML (``scores.<name>.na``) and arrive here as blanks, so the policies above apply to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from cxkit._checks import require_columns

__all__ = ["Prepared", "prepare_drivers", "score_by_segment", "crossed_name"]

MAX_NESTED = 2


@dataclass
class Prepared:
    """The rows and columns a driver model is fitted on, and what was done to get them.

    Attributes
    ----------
    data : DataFrame
        Rows fitted (``len(data)`` is the ``n`` every summary reports).
    drivers, segments : list of str
        Model columns of ``data`` (after one-hot coding, never flags, indicators, crossing).
    policy : DataFrame
        ``column, policy, rows, note``: one row per action and the rows it touched.
    levels : dict
        Categorical drivers: ``{column: {"reference": level, "columns": {name: level}}}``.
    """

    data: pd.DataFrame
    drivers: list[str]
    segments: list[str]
    policy: pd.DataFrame
    levels: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(len(self.data))

    def describe(self) -> str:
        """Plain-words account of the preparation, for the report."""
        lines = [f"{self.n:,} rows fitted."]
        for r in self.policy.itertuples():
            lines.append(f"- {r.column}: {r.policy}, {r.rows:,} rows ({r.note})")
        return "\n".join(lines)


def _policy(spec: Any) -> tuple[str, Any]:
    """(action, value) from a policy given as a model, a dict or a string."""
    if spec is None:
        return "drop", None
    if hasattr(spec, "action"):
        return spec.action, spec.value
    if isinstance(spec, str):
        return spec, None
    if isinstance(spec, Mapping):
        if "action" in spec:
            return spec["action"], spec.get("value")
        if set(spec) == {"impute"}:
            return "impute", spec["impute"]
    raise ValueError(f"missing-value policy {spec!r} not understood: write 'drop', "
                     "'indicator' or {impute: <number or median>}.")


def _safe(level: Any) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", str(level)).strip("_") or "blank"


def crossed_name(segments: Sequence[str]) -> str:
    """Column name of crossed segments: ``region_x_channel_x_plan``."""
    return "_x_".join(segments)


def prepare_drivers(
    data: pd.DataFrame,
    *,
    outcome: str,
    drivers: Sequence[str],
    segments: Sequence[str] = (),
    categorical: Mapping[str, str] | None = None,
    missing: Mapping[str, Any] | None = None,
    never_flags: bool = True,
) -> Prepared:
    """Apply the YAML's feature rules to the responses table (module docstring).

    Parameters
    ----------
    data : DataFrame
        Ingested responses (one row per response).
    outcome : str
        Column the model explains.
    drivers : sequence of str
        Driver columns as named in the YAML (categorical ones before coding).
    segments : sequence of str
        Segment columns; three or more are crossed into one.
    categorical : mapping, optional
        ``{column: reference level}`` for categorical drivers.
    missing : mapping, optional
        ``{column: policy}``; policy ``"drop"``, ``"indicator"``, ``{"impute": x}`` or a
        :class:`cxkit.config.MissingPolicy`.
    never_flags : bool
        Turn never-happened actuals into ``never_<touchpoint>`` drivers (default).

    Returns
    -------
    Prepared

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1., 2, 3, 4], "gap_delivery": [0., np.nan, 2, 1],
    ...                    "never_delivery": [0, 1, 0, 0], "region": list("aabb")})
    >>> p = prepare_drivers(df, outcome="y", drivers=["gap_delivery"], segments=["region"])
    >>> p.drivers, p.n, p.data["gap_delivery"].tolist()
    (['gap_delivery', 'never_delivery'], 4, [0.0, 1.0, 2.0, 1.0])
    """
    categorical = dict(categorical or {})
    missing = dict(missing or {})
    drivers, segments = list(drivers), list(segments)
    hint = ("Name columns of the responses table in the run YAML (drivers.outcome, "
            "drivers.drivers, drivers.segments); docs/YOUR_DATA.md lists what ingest writes.")
    require_columns(data, [outcome, *drivers, *segments], table="responses", hint=hint)
    unknown = [c for c in [*categorical, *missing] if c not in [*drivers, *segments]]
    if unknown:
        raise ValueError(f"categorical/missing name {unknown}, which are not drivers or "
                         f"segments of the model ({drivers + segments}); fix the run YAML.")
    df = data.copy()
    rows: list[tuple[str, str, int, str]] = []
    keep = pd.Series(True, index=df.index)

    def drop(mask: pd.Series, column: str, note: str) -> None:
        nonlocal keep
        n = int((mask & keep).sum())
        rows.append((column, "drop", n, note))
        keep &= ~mask

    drop(df[outcome].isna(), outcome, "outcome blank: never imputed")

    out_drivers: list[str] = []
    levels: dict[str, Any] = {}
    for col in drivers:
        m = re.fullmatch(r"gap_(.+)", col)
        flag = f"never_{m.group(1)}" if m else None
        if never_flags and flag and flag in df.columns and col not in missing:
            never = (df[flag].fillna(0) > 0) & df[col].isna()
            fill = float(df.loc[df[col].notna() & keep, col].median())
            df.loc[never, col] = fill
            rows.append((col, f"{flag} flag", int((never & keep).sum()),
                         f"never happened: gap set to the median {fill:g}, own driver {flag}"))
            out_drivers.append(col)
            if flag not in drivers and (never & keep).any():
                df[flag] = (df[flag].fillna(0) > 0).astype(float)
                out_drivers.append(flag)
            continue
        out_drivers.append(col)

    for col in [*out_drivers, *segments]:
        blank = df[col].isna()
        action, value = _policy(missing.get(col))
        if col in categorical and action != "drop":
            raise ValueError(f"drivers.missing.{col}: a categorical driver's blanks can only "
                             f"be dropped (or recoded to a level in the data).")
        if action == "drop":
            if col in missing:
                drop(blank, col, "policy from the YAML")
            elif (blank & keep).any():  # rows already dropped for another column not counted
                drop(blank, col, "blank: default policy")
            continue
        numeric = pd.to_numeric(df[col], errors="coerce")
        fill = float(numeric[~blank & keep].median()) if (value == "median" or action ==
                                                          "indicator") else float(value)
        touched = int((blank & keep).sum())
        df[col] = numeric.fillna(fill)
        if action == "indicator":
            ind = f"{col}_missing"
            df[ind] = blank.astype(float)
            out_drivers.insert(out_drivers.index(col) + 1, ind)
            rows.append((col, "indicator", touched, f"filled with the median {fill:g}, "
                                                    f"0/1 driver {ind}"))
        else:
            rows.append((col, "impute", touched, f"filled with {value if value != 'median' else 'the median'}"
                                                 f" = {fill:g}"))

    df = df.loc[keep].copy()
    if df.empty:
        raise ValueError("no rows left to fit after the missing-value policies "
                         f"({[(r[0], r[1], r[2]) for r in rows]}); loosen drivers.missing.")

    coded: list[str] = []
    for col in out_drivers:
        if col not in categorical:
            values = pd.to_numeric(df[col], errors="coerce")
            bad = values.isna() & df[col].notna()
            if bad.any():
                first = df.loc[bad, col].iloc[0]
                raise ValueError(f"driver '{col}' has text values (e.g. {first!r}); declare "
                                 f"it under drivers.categorical with a reference level.")
            df[col] = values.astype(float)
            coded.append(col)
            continue
        ref = categorical[col]
        values = df[col].astype(str)
        present = sorted(values.unique())
        if str(ref) not in present:
            raise ValueError(f"drivers.categorical.{col}: reference level {ref!r} is not in "
                             f"the data (levels: {present}).")
        names = {}
        for level in present:
            if level == str(ref):
                continue
            name = f"{col}_{_safe(level)}"
            df[name] = (values == level).astype(float)
            names[name] = level
            coded.append(name)
        levels[col] = {"reference": str(ref), "columns": names}
        rows.append((col, "one-hot", int(len(df)),
                     f"{len(names)} levels vs reference {ref!r}: {', '.join(names)}"))

    out_segments = segments
    if len(segments) > MAX_NESTED:
        name = crossed_name(segments)
        df[name] = df[segments].astype(str).agg("|".join, axis=1)
        out_segments = [name]
        rows.append((name, "crossed", int(len(df)),
                     f"{' x '.join(segments)}: {df[name].nunique()} levels pooled as one"))
    policy = pd.DataFrame(rows, columns=["column", "policy", "rows", "note"])
    return Prepared(df.reset_index(drop=True), coded, out_segments, policy, levels)


def score_by_segment(data: pd.DataFrame, *, kind: str, score: str,
                     segment: str | Sequence[str] | None, scale_max: int = 5, top: int = 2,
                     seed: int = 0) -> pd.DataFrame | None:
    """The headline score per segment with its 94% HDI, as ``drivers.summary`` declares.

    ``nps`` -> :func:`cxkit.drivers.summaries.nps_by_segment`; ``top_box`` and ``share``
    (a 0/1 outcome, coded as the top box of a 1-2 scale) ->
    :func:`cxkit.drivers.summaries.csat_by_segment`; ``none`` -> ``None``.

    Examples
    --------
    >>> df = pd.DataFrame({"ok": [1, 0, 1, 1], "r": list("aabb")})
    >>> score_by_segment(df, kind="share", score="ok", segment="r")["satisfied"].tolist()
    [1, 2, 3]
    """
    from cxkit.drivers import summaries

    if kind == "none":
        return None
    if kind == "nps":
        return summaries.nps_by_segment(data, segment=segment, score=score, seed=seed)
    if kind == "share":
        values = pd.to_numeric(data[score], errors="coerce")
        if not values.dropna().isin([0, 1]).all():
            raise ValueError(f"summary kind 'share' needs a 0/1 column; '{score}' has "
                             f"{sorted(values.dropna().unique())[:5]}. Map it in the sources "
                             f"YAML (scores.<name>.map) or use kind top_box.")
        data = data.assign(**{score: values + 1})
        scale_max, top = 2, 1
    return summaries.csat_by_segment(data, segment=segment, score=score,
                                     scale_max=scale_max, top=top, seed=seed)
