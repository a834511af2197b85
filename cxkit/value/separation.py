"""Separation of a yes/no outcome by a score: when the data cannot say how steep the effect is.

A logit ``P(y) = logistic(a + b * score)`` has no finite maximum-likelihood estimate when,
within a group, every customer below some score has ``y = 0`` and every customer above it
``y = 1`` (*complete* separation), or when the two sides only meet at one score value
(*quasi-complete*). A group in which everybody has the same outcome (all-or-nothing) leaves
the group's level unbounded in the same way. Bayesian fits stay finite through their priors,
but then the prior, not the data, sets how steep or how extreme the estimate is; the report
has to say so.

:func:`detect_separation` is deliberately small and data-frame in, data-frame out, so that it
can be merged with the driver model's detector (``cxkit.diagnostics``) later: the
driver model asks the same question per segment and driver.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEPARATION_COLUMNS = ["segment_var", "segment_value", "kind", "n", "n_yes", "boundary",
                      "message"]


def _describe(kind: str, where: str, x0: np.ndarray, x1: np.ndarray, outcome: str,
              score: str) -> tuple[str, float]:
    if kind in ("all_yes", "all_no"):
        who = "stayed" if kind == "all_yes" else "left"
        return (f"{where}: every one of the {len(x0) + len(x1)} customers {who} "
                f"({outcome} all-or-nothing); its level is set by the prior, not the data."), np.nan
    low_is_no = x0.max() <= x1.min()
    lo_side, hi_side = (x0, x1) if low_is_no else (x1, x0)
    lo_word, hi_word = ("left", "stayed") if low_is_no else ("stayed", "left")
    boundary = float((lo_side.max() + hi_side.min()) / 2)
    joint = "" if kind == "complete" else f" (both at {score} {lo_side.max():g})"
    return (f"{where}: every customer with {score} <= {lo_side.max():g} {lo_word} and every "
            f"customer with {score} >= {hi_side.min():g} {hi_word}{joint}: "
            f"{'complete' if kind == 'complete' else 'quasi-complete'} separation. The data "
            f"cannot say how steep the {score} effect on {outcome} is; the estimate is held "
            f"finite by its prior."), boundary


def detect_separation(data: pd.DataFrame, *, score: str = "score", outcome: str = "retained",
                      by: list[str] | tuple[str, ...] = (), min_n: int = 2) -> pd.DataFrame:
    """Complete / quasi-complete separation and all-or-nothing outcomes, overall and per group.

    Parameters
    ----------
    data : DataFrame
        One row per customer with ``score`` (numeric) and ``outcome`` (bool or 0/1).
    score, outcome : str
        Column names.
    by : list of str
        Grouping columns; each is checked on its own (``segment_var = column``), besides the
        whole table (``segment_var = "(all)"``).
    min_n : int
        Groups with fewer rows are skipped (a single customer is always "all-or-nothing").

    Returns
    -------
    DataFrame
        One row per finding: ``segment_var, segment_value, kind`` (``complete``, ``quasi``,
        ``all_yes``, ``all_no``), ``n``, ``n_yes``, ``boundary`` (score midway between the two
        sides; NaN for all-or-nothing) and ``message`` (one plain sentence). Empty when the
        data separate nowhere.

    Examples
    --------
    >>> t = pd.DataFrame({"score": [1, 2, 3, 4], "retained": [0, 0, 1, 1]})
    >>> detect_separation(t)[["segment_var", "kind", "boundary"]].to_dict("records")
    [{'segment_var': '(all)', 'kind': 'complete', 'boundary': 2.5}]
    """
    missing = [c for c in (score, outcome, *by) if c not in data.columns]
    if missing:
        raise KeyError(f"detect_separation: column(s) {missing} not in the data "
                       f"(columns: {list(data.columns)}).")
    x_all = data[score].to_numpy(dtype=float)
    y_all = data[outcome].astype(bool).to_numpy()
    groups = [("(all)", "(all)", np.ones(len(data), dtype=bool))]
    for col in by:
        values = data[col].astype(str).to_numpy()
        groups += [(col, v, values == v) for v in sorted(set(values))]
    rows = []
    for var, value, mask in groups:
        x, y = x_all[mask], y_all[mask]
        ok = ~np.isnan(x)
        x, y = x[ok], y[ok]
        if len(x) < min_n:
            continue
        x0, x1 = x[~y], x[y]
        if len(x1) == 0 or len(x0) == 0:
            kind = "all_yes" if len(x0) == 0 else "all_no"
        elif x0.max() < x1.min() or x1.max() < x0.min():
            kind = "complete"
        elif x0.max() == x1.min() or x1.max() == x0.min():
            kind = "quasi"
        else:
            continue
        where = "all customers" if var == "(all)" else f"{var} = {value}"
        msg, boundary = _describe(kind, where, x0, x1, outcome, score)
        rows.append({"segment_var": var, "segment_value": value, "kind": kind,
                     "n": int(len(x)), "n_yes": int(y.sum()), "boundary": boundary,
                     "message": msg})
    return pd.DataFrame(rows, columns=SEPARATION_COLUMNS)
