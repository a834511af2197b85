"""Separation and weak identification in logit models, per segment and driver.

A logistic (or cumulative-logit) model has no finite maximum-likelihood estimate when the
outcome is *separated*: some combination of the drivers splits the responses so that every
response on one side has the low outcome and every one on the other side the high outcome.
Complete separation leaves no response on the dividing line; quasi-complete separation
leaves some there with both outcomes (e.g. everybody rating an item 1-3 is dissatisfied,
everybody rating it 5 is satisfied, only the 4s have both). The data then say the effect is
large but not how large: a Bayesian fit stays finite because of its prior, and the effect's
upper end is the prior's, not the data's. Reports must say so.

:func:`detect_separation` checks each segment and driver:

* one driver alone (exact, from the per-value outcome ranges, with a description in the
  driver's own units), and
* any combination of drivers, by the linear programme of Konis (2007): find ``b`` with
  ``s_i (b_0 + x_i b) >= 0`` for every response (``s_i = +1`` for the high outcome, ``-1``
  for the low one) maximising the total margin; a positive optimum means separation, and
  the drivers with a non-zero ``b_j`` are the ones involved. Ordinal outcomes use one ``b``
  with an intercept per cumulative split, as the proportional-odds model does;
* segments with only one outcome, outcome categories with no responses, and drivers that
  do not vary within a segment.

The value model's retention logit uses the same function (``groups`` = its segments or
score bands, ``y`` = retained 0/1).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

COLUMNS = ["segment", "driver", "issue", "detail", "n"]
SEPARATION_ISSUES = ("complete separation", "quasi-complete separation")
_TOL = 1e-7


def detect_separation(
    X,
    y,
    groups=None,
    *,
    drivers: Sequence[str] | None = None,
    categories: Sequence | None = None,
    outcome: str = "outcome",
    combinations: bool = True,
) -> pd.DataFrame:
    """Find separated drivers, single-outcome segments and empty outcome categories.

    Parameters
    ----------
    X
        Drivers, one row per response (DataFrame, or 2-D array with ``drivers`` names), in
        their own units (ratings 1-5, days, 0/1 flags).
    y
        Outcome per response: 0/1 for a binary outcome, or ordered category values.
    groups
        Segment label per response (e.g. ``"North|web"``); ``None``: one group ``"All"``.
    drivers
        Column names when ``X`` is an array.
    categories
        All outcome values in order (default: the observed values; with three or more the
        outcome is treated as ordinal). Declare them to catch categories nobody chose.
    outcome
        Name of the outcome, used in the descriptions.
    combinations
        Also look for separation by combinations of drivers (one linear programme per
        segment, about a second per 20,000 distinct responses); ``False`` checks drivers
        one at a time only.

    Returns
    -------
    DataFrame
        One row per finding: ``segment, driver, issue, detail, n`` (``n`` = responses in
        the segment). ``issue`` is one of ``"complete separation"``,
        ``"quasi-complete separation"``, ``"single outcome"``, ``"empty outcome category"``,
        ``"no variation"``; ``driver`` is ``""`` for segment-wide issues. Empty when the
        data identify every effect.

    Examples
    --------
    >>> X = pd.DataFrame({"rating": [1, 2, 3, 4, 4, 5, 5]})
    >>> found = detect_separation(X, [0, 0, 0, 0, 1, 1, 1], outcome="satisfied")
    >>> found[["driver", "issue"]].values.tolist()
    [['rating', 'quasi-complete separation']]
    """
    frame = _as_frame(X, drivers)
    names = list(frame.columns)
    y = np.asarray(y)
    if len(y) != len(frame):
        raise ValueError(f"detect_separation: X has {len(frame)} rows but y has {len(y)}")
    cats = list(categories) if categories is not None else sorted(pd.unique(y).tolist())
    unknown = sorted(set(pd.unique(y).tolist()) - set(cats))
    if unknown:
        raise ValueError(f"detect_separation: outcome values {unknown} are not in categories={cats}")
    y_idx = np.searchsorted(np.asarray(cats), y)
    labels = np.full(len(frame), "All", dtype=object) if groups is None else np.asarray(groups, dtype=object)
    x_all = frame.to_numpy(dtype=float)

    found: list[dict] = []
    for label in pd.unique(labels):
        rows = labels == label
        found += _check_group(str(label), x_all[rows], y_idx[rows], names, cats, outcome,
                              combinations)
    table = pd.DataFrame(found, columns=COLUMNS)
    table.attrs["description"] = (
        "Separation and weak identification per segment and driver: the data bound these "
        "effects on one side only (or not at all); their estimates rest on the prior.")
    return table


def _as_frame(X, drivers) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"detect_separation: X must be 2-D (rows x drivers), got shape {arr.shape}")
    names = list(drivers) if drivers is not None else [f"x{j}" for j in range(arr.shape[1])]
    if len(names) != arr.shape[1]:
        raise ValueError(f"detect_separation: {len(names)} driver names for {arr.shape[1]} columns")
    return pd.DataFrame(arr, columns=names)


def _fmt(v: float) -> str:
    return f"{v:g}"


def _check_group(label, x, y, names, cats, outcome, combinations) -> list[dict]:
    n = len(y)
    out = []
    present = np.unique(y)
    empty = [c for i, c in enumerate(cats) if i not in set(present.tolist())]
    if len(present) == 1:
        return [dict(segment=label, driver="", issue="single outcome", n=n, detail=(
            f"all {n} responses have {outcome} = {cats[present[0]]}: the data cannot tell how "
            "the drivers move it here, so this segment's effects come from the prior and "
            "the other segments"))]
    if empty:
        out.append(dict(segment=label, driver="", issue="empty outcome category", n=n, detail=(
            f"no responses with {outcome} = {', '.join(map(str, empty))}: the thresholds "
            "around that category rest on the prior")))
    varying = []
    for j, name in enumerate(names):
        if np.ptp(x[:, j]) == 0:
            out.append(dict(segment=label, driver=name, issue="no variation", n=n, detail=(
                f"every response has {name} = {_fmt(x[0, j])}: its effect here comes from the "
                "other segments only")))
        else:
            varying.append(j)
    flagged = {}
    for j in varying:
        found = _univariate(x[:, j], y, names[j], outcome, cats)
        if found:
            flagged[names[j]] = found
            out.append(dict(segment=label, driver=names[j], n=n, **found))
    if combinations and varying:
        # Once a driver alone separates, the others are identified (or not) by the
        # responses it leaves undecided: the values of it that carry several outcomes.
        keep = np.ones(len(y), dtype=bool)
        for name in flagged:
            xj = x[:, names.index(name)]
            mixed = pd.Series(y).groupby(xj).nunique()
            keep &= np.isin(xj, mixed.index[mixed.to_numpy() > 1])
        varying = [j for j in varying if names[j] not in flagged and np.ptp(x[keep, j]) > 0]
        kind, support = (_combination(x[keep][:, varying], y[keep])
                         if varying and len(np.unique(y[keep])) > 1 else ("", []))
        for j in support:
            name = names[varying[j]]
            if name in flagged:
                continue
            others = [names[varying[k]] for k in support if k != j]
            out.append(dict(segment=label, driver=name, issue=kind, n=n, detail=(
                f"{name} together with {', '.join(others) or 'the intercept'} separates "
                f"{outcome}: a combination of these drivers splits the responses into "
                "low and high outcomes, so the size of these effects rests on the prior")))
    return out


def _univariate(x, y, name, outcome, cats) -> dict | None:
    """Does ``x`` alone order the outcome categories (weakly), and in which direction?"""
    levels = np.unique(y)
    for sign in (1.0, -1.0):
        v = sign * x
        # For every cumulative split: max of v at or below it <= min of v above it.
        lows = [v[y <= k].max() for k in levels[:-1]]
        highs = [v[y > k].min() for k in levels[:-1]]
        if all(lo <= hi for lo, hi in zip(lows, highs)):
            complete = all(lo < hi for lo, hi in zip(lows, highs))
            return {"issue": SEPARATION_ISSUES[0] if complete else SEPARATION_ISSUES[1],
                    "detail": _describe(x, y, sign, name, outcome, cats, complete)}
    return None


def _describe(x, y, sign, name, outcome, cats, complete) -> str:
    low_cat, high_cat = cats[int(y.min())], cats[int(y.max())]
    lowest = x[y == y.min()]
    highest = x[y == y.max()]
    if sign > 0:
        low_side = f"{name} <= {_fmt(lowest.max())}" if complete else f"{name} < {_fmt(highest.min())}"
        high_side = f"{name} >= {_fmt(highest.min())}" if complete else f"{name} > {_fmt(lowest.max())}"
    else:
        low_side = f"{name} >= {_fmt(lowest.min())}" if complete else f"{name} > {_fmt(highest.max())}"
        high_side = f"{name} <= {_fmt(highest.max())}" if complete else f"{name} < {_fmt(lowest.min())}"
    text = (f"every response with {low_side} has the lowest {outcome} ({low_cat}) and every "
            f"one with {high_side} the highest ({high_cat})")
    if not complete and lowest.max() == highest.min():
        text += f"; only {name} = {_fmt(lowest.max())} has both"
    elif not complete:
        text += "; only the values in between have both"
    direction = "positive" if sign > 0 else "negative"
    return (f"{text}. The effect is large and {direction}, but the data cannot say how large: "
            "its upper end comes from the prior")


def _combination(x, y) -> tuple[str, list[int]]:
    """Konis' linear programme: the kind of separation and the drivers (columns) involved.

    Tried first on a subsample of at most ``_SUBSAMPLE`` distinct responses: adding
    responses only adds constraints, so if no direction separates the subsample (and its
    design has full rank, so only ``b = 0`` has all margins zero) none separates the whole
    segment. Only a segment whose subsample is separated pays for the full programme.
    """
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    rows = pd.DataFrame(np.column_stack([z, y])).drop_duplicates().to_numpy()
    z, yy = rows[:, :-1], rows[:, -1]
    if len(z) > _SUBSAMPLE:
        pick = _stratified(yy, _SUBSAMPLE)
        a_sub, bounds = _constraints(z[pick], yy[pick], np.unique(yy))
        res = _lp(a_sub, bounds)
        if (res.status == 0 and -res.fun <= _TOL * len(a_sub)
                and np.linalg.matrix_rank(a_sub.T @ a_sub) == a_sub.shape[1]):
            return "", []
    a, bounds = _constraints(z, yy, np.unique(yy))
    res = _lp(a, bounds)
    if res.status != 0 or -res.fun <= _TOL * len(a):
        return "", []
    m = a.shape[1] - z.shape[1]
    support = [j for j in range(z.shape[1]) if abs(res.x[m + j]) > 1e-6]
    complete = (a @ res.x).min() > _TOL
    if not complete:
        # The largest total margin may leave responses on the line even when a strict
        # split exists: maximise the smallest margin t instead (variables [..., t]).
        from scipy.optimize import linprog

        a_t = np.hstack([a, -np.ones((len(a), 1))])
        obj = np.zeros(a_t.shape[1])
        obj[-1] = -1.0
        res_t = linprog(obj, A_ub=-a_t, b_ub=np.zeros(len(a)), bounds=bounds + [(None, 1.0)],
                        method="highs")
        complete = res_t.status == 0 and -res_t.fun > _TOL
    return SEPARATION_ISSUES[0] if complete else SEPARATION_ISSUES[1], support


_SUBSAMPLE = 3000


def _stratified(y: np.ndarray, size: int) -> np.ndarray:
    """Indices of a seeded subsample keeping every outcome category (rare ones whole)."""
    rng = np.random.default_rng(0)
    levels, counts = np.unique(y, return_counts=True)
    share = max(size // len(levels), 1)
    pick = [rng.choice(np.flatnonzero(y == v), min(c, share), replace=False)
            for v, c in zip(levels, counts)]
    return np.sort(np.concatenate(pick))


def _constraints(z, yy, levels):
    """Rows ``s_i (b_0k + z_i b)`` for every cumulative split ``k``, slopes shared."""
    splits = levels[:-1]
    m = len(splits)
    blocks = []
    for i, k in enumerate(splits):
        s = np.where(yy > k, 1.0, -1.0)
        intercepts = np.zeros((len(z), m))
        intercepts[:, i] = 1.0
        blocks.append(s[:, None] * np.hstack([intercepts, z]))
    bounds = [(None, None)] * m + [(-1.0, 1.0)] * z.shape[1]
    return np.vstack(blocks), bounds


def _lp(a, bounds):
    """Maximise the total margin ``sum(a b)`` subject to ``a b >= 0`` and the bounds."""
    from scipy.optimize import linprog

    return linprog(-a.sum(axis=0), A_ub=-a, b_ub=np.zeros(len(a)), bounds=bounds, method="highs")


def cell_separation(prep) -> pd.DataFrame:
    """:func:`detect_separation` on a driver model's reduced cells (bernoulli or ordinal).

    Each cell of identical rows contributes one response per outcome category it holds,
    which is all the detector needs; drivers are mapped back to their own units.
    The table's ``attrs["seconds"]`` records how long the check took.
    """
    import time

    from cxkit.drivers.sampling import one_blas_thread

    t0 = time.perf_counter()
    st = prep.stats
    x = np.round(st["x"] * prep.x_sd + prep.x_mean, 9)
    cell, cat = np.nonzero(st["counts"] > 0)
    labels = np.asarray(prep.segment_labels, dtype=object)[st["seg_idx"][cell]]
    cats = prep.categories if prep.family == "ordinal" else [0, 1]
    with one_blas_thread():
        table = detect_separation(pd.DataFrame(x[cell], columns=prep.drivers),
                                  np.asarray(cats, dtype=object)[cat], labels, categories=cats,
                                  outcome=prep.outcome)
    # Responses per segment, not distinct (cell, category) pairs.
    sizes = dict(zip(prep.segment_labels, prep.segment_counts.tolist()))
    table["n"] = table["segment"].map(sizes).astype(int)
    table.attrs["seconds"] = time.perf_counter() - t0
    return table


def separation_warning(table: pd.DataFrame, outcome: str) -> str:
    """One plain sentence naming what the data cannot identify, for a warning or a report."""
    sep = table[table["issue"].isin(SEPARATION_ISSUES)]
    parts = []
    if not sep.empty:
        cells = ", ".join(f"{d} in {s} ({i.split()[0]})" for s, d, i in
                          sep[["segment", "driver", "issue"]].itertuples(index=False))
        parts.append(f"{outcome} is separated by {cells}: those effects are large but their "
                     "size rests on the prior")
    other = table[~table["issue"].isin(SEPARATION_ISSUES)]
    for issue, group in other.groupby("issue", sort=True):
        where = ", ".join(sorted(set(f"{s}" + (f" / {d}" if d else "")
                                     for s, d in zip(group["segment"], group["driver"]))))
        parts.append(f"{issue}: {where}")
    return "; ".join(parts) + " (details: result.separation)."


def describe_separation(table: pd.DataFrame, outcome: str) -> str:
    """The findings of :func:`detect_separation` as a short report in plain words (Markdown).

    Examples
    --------
    >>> X = pd.DataFrame({"rating": [1, 2, 3, 4, 4, 5, 5]})
    >>> print(describe_separation(detect_separation(X, [0, 0, 0, 0, 1, 1, 1]), "satisfied"))
    ... # doctest: +ELLIPSIS
    The data cannot pin down every effect:
    ...
    """
    if table.empty:
        return (f"Every driver effect on {outcome} is identified by the data: no segment has a "
                "driver that splits the outcome perfectly, an outcome category nobody chose, "
                "or a driver that does not vary.")
    lines = ["The data cannot pin down every effect:", ""]
    for row in table.itertuples(index=False):
        where = f"**{row.segment}**" + (f", **{row.driver}**" if row.driver else "")
        lines.append(f"- {where} ({row.issue}, {row.n:,} responses): {row.detail}.")
    lines += ["", "These estimates are kept finite by the priors and by pooling with the other "
              "segments; read them as 'large' (or 'unknown here') rather than as a measured "
              "size, and do not rank drivers on them alone."]
    return "\n".join(lines)
