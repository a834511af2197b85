"""Validate, standardise and reduce survey responses for the driver model.

``prepare_data`` turns one row per response into what the likelihood needs, exactly:

* gaussian: per-segment sufficient statistics (n, X'X, X'y, y'y);
* bernoulli / ordinal: cells of identical (segment, drivers) rows with their outcome
  counts, sorted by segment (``bounds`` marks each segment's block), plus the per-segment
  statistics of the linear part of the bernoulli likelihood (``k_seg``, ``xk_seg``).

The log-likelihood computed from these is the row-level one up to a constant, so the
posterior is the same (``tests/drivers/test_model.py`` checks it row by row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd

FAMILIES = ("gaussian", "bernoulli", "ordinal")
Family = Literal["gaussian", "bernoulli", "ordinal"]
SEGMENT_SEP = "|"

# The one segment of an unsegmented fit (segments=[]); the same label the summaries use
# for the whole population.
UNSEGMENTED = "All"


@dataclass
class PreparedData:
    """Validated, standardised and reduced data for the likelihood (internal).

    ``stats`` holds the reduced likelihood inputs: for gaussian ``n, xx, xy, yy`` per
    segment (the design includes a leading intercept column); for bernoulli and ordinal
    per cell of identical rows, sorted by segment: ``seg_idx, x, counts`` (cell x
    category), ``bounds`` (segment ``s`` is cells ``bounds[s]:bounds[s+1]``), and for
    bernoulli also ``trials, successes, all_single`` (every cell one row) and the
    per-segment ``k_seg`` (successes) and ``xk_seg`` (``X'k``).
    """

    family: str
    outcome: str
    drivers: list[str]
    segments: list[str]
    segment_labels: list[str]
    level1_labels: list[str] | None
    parent_idx: np.ndarray | None
    x_mean: np.ndarray
    x_sd: np.ndarray
    y_mean: float
    y_sd: float
    categories: list | None
    n_rows: int
    n_dropped: int
    segment_counts: np.ndarray
    stats: dict = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        """Number of likelihood terms after the exact reduction."""
        if self.family == "gaussian":
            return len(self.segment_labels)
        return len(self.stats["seg_idx"])


def _as_list(value: str | Sequence[str] | None, what: str, *, allow_empty: bool = False) -> list[str]:
    if isinstance(value, str):
        return [value]
    out = list(value or [])
    if not out and not allow_empty:
        raise ValueError(f"{what} is empty: give at least one column name")
    return out


def segment_labels(data: pd.DataFrame, segments: str | Sequence[str]) -> pd.Series:
    """Segment label of each row: the value, or values joined by ``"|"`` for two levels.

    With no segment columns (``[]``) every row is in the one segment ``"All"``.

    Examples
    --------
    >>> df = pd.DataFrame({"region": ["North", "South"], "channel": ["web", "app"]})
    >>> segment_labels(df, ["region", "channel"]).tolist()
    ['North|web', 'South|app']
    """
    segments = _as_list(segments, "segments", allow_empty=True)
    if not segments:
        return pd.Series(UNSEGMENTED, index=data.index, dtype=object, name="segment")
    missing = [c for c in segments if c not in data.columns]
    if missing:
        raise KeyError(f"segment column(s) {missing} not in the data; columns are {list(data.columns)}")
    labels = data[segments[0]].astype(str)
    for col in segments[1:]:
        labels = labels + SEGMENT_SEP + data[col].astype(str)
    labels.name = "segment"
    return labels


def _check_columns(data: pd.DataFrame, outcome: str, drivers: list[str], segments: list[str]) -> None:
    wanted = [outcome, *drivers, *segments]
    absent = [c for c in wanted if c not in data.columns]
    if absent:
        raise KeyError(
            f"column(s) {absent} not in the data; columns are {list(data.columns)}. "
            "Check the outcome=, drivers= and segments= arguments."
        )
    if len(segments) > 2:
        raise ValueError(f"at most two segment levels are supported, got {segments}")
    if len(set(drivers)) != len(drivers):
        raise ValueError(f"drivers contain duplicates: {drivers}")
    non_numeric = [c for c in [outcome, *drivers] if not pd.api.types.is_numeric_dtype(data[c])
                   and not pd.api.types.is_bool_dtype(data[c])]
    if non_numeric:
        raise TypeError(
            f"column(s) {non_numeric} must be numeric (ratings, gaps in days, 0/1 flags); "
            "convert them before fitting"
        )


def _handle_missing(data: pd.DataFrame, cols: list[str], missing: str) -> tuple[pd.DataFrame, int]:
    na = data[cols].isna()
    counts = na.sum()
    counts = counts[counts > 0]
    if counts.empty:
        return data, 0
    if missing == "raise":
        detail = ", ".join(f"{c}: {int(n)}" for c, n in counts.items())
        first = na.any(axis=1).to_numpy().nonzero()[0][:5].tolist()
        raise ValueError(
            f"missing values in the model columns ({detail}; first rows by position {first}). "
            "Impute or filter them, or pass missing='drop' to drop those rows "
            "(the count is recorded in the result)."
        )
    if missing != "drop":
        raise ValueError(f"missing must be 'raise' or 'drop', got {missing!r}")
    keep = ~na.any(axis=1)
    return data.loc[keep], int((~keep).sum())


def prepare_data(
    data: pd.DataFrame,
    *,
    outcome: str,
    drivers: str | Sequence[str],
    segments: str | Sequence[str],
    family: Family = "gaussian",
    categories: Sequence | None = None,
    missing: str = "raise",
) -> PreparedData:
    """Validate, standardise and reduce the data for the driver model.

    See :func:`build_driver_model` for the parameters.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    drivers = _as_list(drivers, "drivers")
    segments = _as_list(segments, "segments", allow_empty=True)
    _check_columns(data, outcome, drivers, segments)
    data, n_dropped = _handle_missing(data, [outcome, *drivers, *segments], missing)
    if len(data) == 0:
        raise ValueError("no rows left to fit after removing rows with missing values")

    x = data[drivers].to_numpy(dtype=float)
    x_mean = x.mean(axis=0)
    x_sd = x.std(axis=0)
    constant = [d for d, s in zip(drivers, x_sd) if not s > 0]
    if constant:
        raise ValueError(
            f"driver(s) {constant} take a single value in the data, so their effect cannot "
            "be estimated; remove them from drivers="
        )
    z = (x - x_mean) / x_sd

    # Segment index: sorted labels so the coordinate order is stable between runs.
    if segments:
        seg_frame = data[segments].astype(str)
        codes = seg_frame.groupby(segments, sort=True).ngroup().to_numpy()
        uniq = seg_frame.drop_duplicates().sort_values(segments)
        labels = segment_labels(uniq, segments).tolist()
    else:
        codes, labels = np.zeros(len(data), dtype=int), [UNSEGMENTED]
    level1_labels = parent_idx = None
    if len(segments) == 2:
        level1_labels = sorted(uniq[segments[0]].unique().tolist())
        parent_idx = np.array([level1_labels.index(v) for v in uniq[segments[0]]])
    seg_counts = np.bincount(codes, minlength=len(labels))

    y_raw = data[outcome].to_numpy()
    y_mean, y_sd, cats = 0.0, 1.0, None
    stats: dict = {}
    if family == "gaussian":
        y = y_raw.astype(float)
        y_mean, y_sd = float(y.mean()), float(y.std())
        if not y_sd > 0:
            raise ValueError(f"outcome {outcome!r} is constant ({y_mean}); nothing to explain")
        stats = _gaussian_stats(z, (y - y_mean) / y_sd, codes, len(labels))
    elif family == "bernoulli":
        y = y_raw.astype(float)
        bad = ~np.isin(y, (0.0, 1.0))
        if bad.any():
            rows = bad.nonzero()[0][:5].tolist()
            raise ValueError(
                f"bernoulli outcome {outcome!r} must be 0/1 or boolean; {int(bad.sum())} rows "
                f"are not (first rows by position {rows}, values {np.unique(y[bad])[:5].tolist()}). "
                "Recode it, e.g. satisfied = csat >= 4."
            )
        stats = _bernoulli_stats(_count_cells(z, y.astype(int), codes, 2, len(labels)), len(labels))
    else:
        observed = sorted(pd.unique(y_raw).tolist())
        cats = sorted(categories) if categories is not None else observed
        unknown = sorted(set(observed) - set(cats))
        if unknown:
            raise ValueError(
                f"ordinal outcome {outcome!r} has values {unknown} that are not in "
                f"categories={cats}; add them to categories="
            )
        if len(cats) < 3:
            raise ValueError(
                f"ordinal outcome {outcome!r} has {len(cats)} categories {cats}; use "
                "family='bernoulli' for two"
            )
        y_idx = np.searchsorted(np.asarray(cats), y_raw)
        stats = _count_cells(z, y_idx, codes, len(cats), len(labels))
        cats = [c.item() if hasattr(c, "item") else c for c in cats]

    return PreparedData(
        family=family, outcome=outcome, drivers=drivers, segments=segments,
        segment_labels=labels, level1_labels=level1_labels, parent_idx=parent_idx,
        x_mean=x_mean, x_sd=x_sd, y_mean=y_mean, y_sd=y_sd, categories=cats,
        n_rows=len(data), n_dropped=n_dropped, segment_counts=seg_counts, stats=stats,
    )


def _gaussian_stats(z: np.ndarray, y: np.ndarray, codes: np.ndarray, n_seg: int) -> dict:
    """Per-segment sufficient statistics of the linear model with an intercept column."""
    a = np.hstack([np.ones((len(z), 1)), z])
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_seg + 1))
    k = a.shape[1]
    xx = np.zeros((n_seg, k, k))
    xy = np.zeros((n_seg, k))
    yy = np.zeros(n_seg)
    n = np.zeros(n_seg)
    for s in range(n_seg):
        rows = order[bounds[s]:bounds[s + 1]]
        a_s, y_s = a[rows], y[rows]
        xx[s] = a_s.T @ a_s
        xy[s] = a_s.T @ y_s
        yy[s] = y_s @ y_s
        n[s] = len(rows)
    return {"n": n, "xx": xx, "xy": xy, "yy": yy}


def _count_cells(z: np.ndarray, y_idx: np.ndarray, codes: np.ndarray, n_categories: int,
                 n_segments: int) -> dict:
    """Collapse identical (segment, drivers) rows into per-category counts, by segment."""
    frame = pd.DataFrame(z)
    frame.columns = [f"x{i}" for i in range(z.shape[1])]
    keys = ["seg", *frame.columns]
    frame["seg"] = codes
    frame["y"] = y_idx
    # Sorted by segment only: the likelihood takes each segment's cells as one block.
    counts = frame.groupby([*keys, "y"], sort=False).size().unstack("y", fill_value=0)
    counts = counts.reindex(columns=range(n_categories), fill_value=0)
    cells = counts.index.to_frame(index=False)
    seg_idx = cells["seg"].to_numpy(dtype=int)
    order = np.argsort(seg_idx, kind="stable")
    seg_idx = seg_idx[order]
    return {
        "seg_idx": seg_idx,
        "x": np.ascontiguousarray(cells[keys[1:]].to_numpy(dtype=float)[order]),
        "counts": counts.to_numpy(dtype=float)[order],
        "bounds": np.searchsorted(seg_idx, np.arange(n_segments + 1)),
    }


def _bernoulli_stats(cells: dict, n_segments: int) -> dict:
    """Cells plus the per-segment statistics of the linear part ``sum_i k_i eta_i``."""
    trials = cells["counts"].sum(axis=1)
    successes = cells["counts"][:, 1]
    seg = cells["seg_idx"]
    xk = np.zeros((n_segments, cells["x"].shape[1]))
    np.add.at(xk, seg, cells["x"] * successes[:, None])
    return {**cells, "trials": trials, "successes": successes,
            "all_single": bool(np.all(trials == 1)),
            "k_seg": np.bincount(seg, weights=successes, minlength=n_segments),
            "xk_seg": xk}


