"""Posterior importance of the drivers of a fitted driver model.

- :func:`driver_importance` - effect and importance of each driver per segment, the
  probability that a driver is in the top ``k`` (``tables/driver_importance.parquet``);
- :func:`p_top_k` - that probability alone;
- :func:`importance_performance` - importance against current performance, with the
  four classic IPA quadrants.

Intervals are 94% HDIs (:data:`cxkit.stats.HDI_PROB`), named ``<stat>_low``/``<stat>_high``.
These functions only rely on this part of :class:`DriverResult`: ``.idata`` (posterior
``beta`` with dims ``segment, driver``), ``.config.drivers``, ``.config.segments``,
``.config.outcome`` and ``.segment_labels(data)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cxkit.stats import HDI_PROB, beta_equal_tailed, hdi
from cxkit.drivers.scores import ALL, _check_columns

QUADRANTS = (
    "Concentrate here",
    "Keep up the good work",
    "Low priority",
    "Possible overkill",
)
LOWER_IS_BETTER_PREFIXES = ("gap_", "breach_")
_DIRECTIONS = ("higher_is_better", "lower_is_better")


# --------------------------------------------------------------------------- helpers


def _beta_draws(result) -> tuple[np.ndarray, list[str], list[str]]:
    """Posterior ``beta`` as ``(chain, draw, segment, driver)`` with its labels."""
    posterior = getattr(result.idata, "posterior", None)
    if posterior is None or "beta" not in posterior:
        raise ValueError(
            "result.idata has no posterior variable 'beta'; pass the DriverResult returned "
            "by cxkit.drivers.fit_drivers (or DriverResult.load) after sampling."
        )
    beta = posterior["beta"]
    expected = ("chain", "draw", "segment", "driver")
    if tuple(beta.dims) != expected:
        if set(beta.dims) != set(expected):
            raise ValueError(
                f"posterior 'beta' has dims {tuple(beta.dims)}; expected {expected} "
                "(see docs/ARCHITECTURE.md, driver model contract)."
            )
        beta = beta.transpose(*expected)
    segments = [str(s) for s in beta.coords["segment"].values]
    drivers = [str(d) for d in beta.coords["driver"].values]
    configured = [str(d) for d in result.config.drivers]
    if drivers != configured:
        raise ValueError(
            f"posterior 'beta' has drivers {drivers} but result.config.drivers is "
            f"{configured}; the result's config and idata disagree, refit or reload it."
        )
    return np.asarray(beta.values, dtype=float), segments, drivers



def _row_segments(result, data: pd.DataFrame, segments: list[str]) -> np.ndarray:
    """Segment label of each row of ``data``, checked against the posterior's segments."""
    labels = pd.Series(result.segment_labels(data), index=data.index).astype("string")
    present = set(labels.dropna().unique())
    absent = [s for s in segments if s not in present]
    if absent:
        raise ValueError(
            f"segment(s) {absent} of the posterior have no rows in data (segments "
            f"{list(result.config.segments)}); pass the data the model was fitted on, "
            "not a filtered subset."
        )
    return labels.to_numpy(dtype=object, na_value=None)


def _segment_sd(
    data: pd.DataFrame, labels: np.ndarray, segments: list[str], drivers: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-segment sample SD (ddof=1, NaN skipped) of each driver, and segment sizes."""
    values = data[drivers].apply(pd.to_numeric, errors="coerce")
    grouped = values.groupby(pd.Series(labels, index=data.index), sort=False)
    sd = grouped.std(ddof=1).reindex(segments)
    n = grouped.size().reindex(segments)
    return sd.to_numpy(dtype=float), n.to_numpy(dtype=float)


def _rank_top_k(importance: np.ndarray, k: int) -> np.ndarray:
    """Indicator draws: is the driver among the ``k`` largest along the last axis?

    NaN importances (a driver with no spread in a segment) rank last.
    """
    filled = np.where(np.isnan(importance), -np.inf, importance)
    # rank 0 = largest; argsort of argsort gives each driver's position
    order = np.argsort(-filled, axis=-1, kind="stable")
    ranks = np.argsort(order, axis=-1, kind="stable")
    return ranks < k


# --------------------------------------------------------------------------- drivers


def _importance_draws(result, data: pd.DataFrame):
    beta, segments, drivers = _beta_draws(result)
    _check_columns(data, drivers, "drivers of the model")
    labels = _row_segments(result, data, segments)
    sd, n = _segment_sd(data, labels, segments, drivers)
    importance = np.abs(beta) * sd[None, None, :, :]
    # "All" = the average respondent: segments weighted by their number of rows
    weights = n / n.sum()
    beta_all = np.einsum("cdsk,s->cdk", beta, weights)
    # a segment where a driver has no spread (SD NaN) drops out of that driver's
    # pooled importance; the other segments' weights are renormalised
    w = weights[:, None] * ~np.isnan(sd)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = w / w.sum(axis=0, keepdims=True)
    importance_all = np.einsum("cdsk,sk->cdk", np.nan_to_num(importance), np.nan_to_num(w))
    importance_all[..., np.all(np.isnan(sd), axis=0)] = np.nan
    if ALL not in segments:
        beta = np.concatenate([beta, beta_all[:, :, None, :]], axis=2)
        importance = np.concatenate([importance, importance_all[:, :, None, :]], axis=2)
        segments = [*segments, ALL]
        sd_all = data[drivers].apply(pd.to_numeric, errors="coerce").std(ddof=1)
        sd = np.vstack([sd, sd_all.to_numpy(dtype=float)])
        n = np.append(n, n.sum())
    return beta, importance, segments, drivers, sd, n


def p_top_k(result, data: pd.DataFrame, *, k: int = 3) -> pd.DataFrame:
    """Probability that each driver's importance ranks in the top ``k`` of its segment.

    Parameters
    ----------
    result : DriverResult
        A fitted driver model (see :func:`driver_importance` for what is used).
    data : DataFrame
        The rows the model was fitted on (to measure each driver's spread).
    k : int, default 3
        How many top drivers count. With ``k >= number of drivers`` every driver gets 1.

    Returns
    -------
    DataFrame
        ``segment, driver, p_top_k`` (one row per segment x driver, plus ``"All"``).

    Examples
    --------
    >>> p_top_k(result, responses, k=1)  # doctest: +SKIP
    """
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    _, importance, segments, drivers, _, _ = _importance_draws(result, data)
    top = _rank_top_k(importance, int(k)).mean(axis=(0, 1))
    return pd.DataFrame(
        {
            "segment": np.repeat(segments, len(drivers)),
            "driver": np.tile(drivers, len(segments)),
            "p_top_k": top.ravel(),
        }
    )


def driver_importance(result, data: pd.DataFrame, *, k: int = 3) -> pd.DataFrame:
    """Effect and importance of every driver per segment, with 94% HDIs.

    *Effect* is the posterior ``beta``: outcome units per driver unit (log-odds per
    driver unit for bernoulli/ordinal outcomes). Effects are not comparable across
    drivers measured in different units (a rating point vs an hour of delay), so the
    ranking uses *importance*::

        importance = |effect| x SD(driver within the segment)

    i.e. outcome units per one standard deviation of the driver, as the driver
    actually varies among that segment's respondents (sample SD, ``ddof=1``, missing
    values skipped). It is computed draw by draw, so its HDI carries the effect's
    uncertainty (the SD is treated as known).

    The ``"All"`` rows pool segments weighted by their number of rows in ``data``: the
    effect is the size-weighted mean of segment effects and the importance is the
    size-weighted mean of segment importances (a driver that matters in opposite
    directions in two segments stays important overall).

    Parameters
    ----------
    result : DriverResult
        Uses ``.idata`` (posterior ``beta``, dims ``segment, driver``),
        ``.config.drivers``, ``.config.segments`` and ``.segment_labels(data)``.
    data : DataFrame
        The rows the model was fitted on (one per survey response).
    k : int, default 3
        ``p_top3`` is the share of draws where the driver's importance ranks in the top
        ``k`` of its segment (the column keeps its name for the published contract).

    Returns
    -------
    DataFrame
        One row per segment x driver (segments in posterior order, then ``"All"``;
        drivers by rank): ``segment, driver, effect_mean, effect_low,
        effect_high, importance_mean, importance_low, importance_high,
        p_top3, rank, p_positive, driver_sd, n``. ``rank`` is 1 for the largest
        ``importance_mean`` in the segment; ``p_positive`` = P(effect > 0).

    Examples
    --------
    >>> table = driver_importance(result, responses)  # doctest: +SKIP
    >>> table.query("segment == 'All'").head(3)[["driver", "importance_mean", "p_top3"]]
    ... # doctest: +SKIP
    """
    beta, importance, segments, drivers, sd, n = _importance_draws(result, data)
    effect_hdi = hdi(beta, HDI_PROB)
    importance_hdi = hdi(importance, HDI_PROB)
    top = _rank_top_k(importance, int(k)).mean(axis=(0, 1))
    importance_mean = importance.mean(axis=(0, 1))
    table = pd.DataFrame(
        {
            "segment": np.repeat(segments, len(drivers)),
            "driver": np.tile(drivers, len(segments)),
            "effect_mean": beta.mean(axis=(0, 1)).ravel(),
            "effect_low": effect_hdi[..., 0].ravel(),
            "effect_high": effect_hdi[..., 1].ravel(),
            "importance_mean": importance_mean.ravel(),
            "importance_low": importance_hdi[..., 0].ravel(),
            "importance_high": importance_hdi[..., 1].ravel(),
            "p_top3": top.ravel(),
            "p_positive": (beta > 0).mean(axis=(0, 1)).ravel(),
            "driver_sd": sd.ravel(),
            "n": np.repeat(n, len(drivers)).astype(int),
        }
    )
    table["rank"] = (
        table.groupby("segment", sort=False)["importance_mean"]
        .rank(ascending=False, method="first", na_option="bottom")
        .astype(int)
    )
    table["segment_order"] = table["segment"].map({s: i for i, s in enumerate(segments)})
    table = table.sort_values(["segment_order", "rank"]).drop(columns="segment_order")
    columns = [
        "segment", "driver", "effect_mean", "effect_low", "effect_high",
        "importance_mean", "importance_low", "importance_high",
        "p_top3", "rank", "p_positive", "driver_sd", "n",
    ]  # fmt: skip
    return table[columns].reset_index(drop=True)


def _directions(drivers: list[str], performance: Mapping[str, str] | None) -> dict:
    performance = dict(performance or {})
    unknown = [d for d in performance if d not in drivers]
    if unknown:
        raise ValueError(
            f"performance names driver(s) {unknown} that are not in the model; "
            f"drivers are {drivers}."
        )
    bad = {d: v for d, v in performance.items() if v not in _DIRECTIONS}
    if bad:
        raise ValueError(
            f"performance direction must be one of {_DIRECTIONS}, got {bad}."
        )
    return {
        d: performance.get(
            d,
            "lower_is_better"
            if d.startswith(LOWER_IS_BETTER_PREFIXES)
            else "higher_is_better",
        )
        for d in drivers
    }


def _mean_interval(values: pd.Series) -> tuple[float, float, float, int]:
    """Mean of a driver with a 94% interval: Beta for 0/1 columns, else normal approx."""
    from scipy import stats

    x = values.dropna().to_numpy(dtype=float)
    m = len(x)
    if m == 0:
        return np.nan, np.nan, np.nan, 0
    tail = (1 - HDI_PROB) / 2
    if np.isin(x, (0.0, 1.0)).all():
        # Beta(1 + successes, 1 + failures): uniform prior, stays inside [0, 1]
        a, b = 1 + x.sum(), 1 + m - x.sum()
        low, high = beta_equal_tailed(a, b, HDI_PROB)
        return float(x.mean()), float(low), float(high), m
    if m < 2:
        return float(x.mean()), np.nan, np.nan, m
    half = stats.norm.ppf(1 - tail) * x.std(ddof=1) / np.sqrt(m)
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half), m


def importance_performance(
    result,
    data: pd.DataFrame,
    *,
    performance: Mapping[str, str] | None = None,
    importance: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Importance-performance table (IPA) per segment and driver.

    *Importance* comes from :func:`driver_importance`. *Performance* is the driver's
    current mean in ``data`` with a 94% interval: an equal-tailed Beta(1 + k, 1 + n - k)
    interval for 0/1 drivers, otherwise the normal approximation mean +/- z SD/sqrt(n).

    Drivers are in different units, so performance is normalised to 0-1 as the mean's
    position within the driver's observed range over all rows of ``data``
    (``(mean - min) / (max - min)``), flipped for drivers where lower is better, so
    1 is always the best. Defaults: drivers named ``gap_*`` or ``breach_*`` are
    lower-is-better, everything else higher-is-better.

    Quadrants split each segment at the median ``importance_mean`` and the median
    ``performance_norm`` over its drivers (a value equal to the median counts as high):
    high importance + low performance = "Concentrate here", high + high = "Keep up the
    good work", low + low = "Low priority", low importance + high performance =
    "Possible overkill".

    Parameters
    ----------
    result : DriverResult
        Fitted driver model.
    data : DataFrame
        The rows the model was fitted on.
    performance : mapping, optional
        Driver -> ``"higher_is_better"`` or ``"lower_is_better"``, overriding the
        defaults, e.g. ``{"gap_delivery": "lower_is_better"}``.
    importance : DataFrame, optional
        A table already returned by :func:`driver_importance` for the same result and
        data, to avoid recomputing it.

    Returns
    -------
    DataFrame
        ``segment, driver, importance_mean, importance_low, importance_high,
        effect_mean, p_top3, performance_mean, performance_low, performance_high,
        performance_n, direction, performance_norm, performance_norm_low,
        performance_norm_high, importance_median, performance_median, quadrant``.

    Examples
    --------
    >>> ipa = importance_performance(result, responses,
    ...                              performance={"rating_price": "higher_is_better"})
    ... # doctest: +SKIP
    >>> ipa.query("segment == 'All' and quadrant == 'Concentrate here'")  # doctest: +SKIP
    """
    drivers = [str(d) for d in result.config.drivers]
    directions = _directions(drivers, performance)
    if importance is None:
        importance = driver_importance(result, data)
    _, segments, _ = _beta_draws(result)
    labels = pd.Series(_row_segments(result, data, segments), index=data.index)
    values = data[drivers].apply(pd.to_numeric, errors="coerce")
    lo, hi = values.min(), values.max()

    rows = []
    for (segment, driver), _ in importance.groupby(["segment", "driver"], sort=False):
        column = values[driver] if segment == ALL else values.loc[labels == segment, driver]
        mean, low, high, m = _mean_interval(column)
        rows.append((segment, driver, mean, low, high, m))
    perf = pd.DataFrame(
        rows,
        columns=[
            "segment", "driver", "performance_mean", "performance_low",
            "performance_high", "performance_n",
        ],
    )  # fmt: skip
    perf["direction"] = perf["driver"].map(directions)
    span = (hi - lo).replace(0, np.nan)
    flip = perf["direction"].eq("lower_is_better")
    for src, dst in [
        ("performance_mean", "performance_norm"),
        ("performance_low", "performance_norm_low"),
        ("performance_high", "performance_norm_high"),
    ]:
        scaled = (perf[src] - perf["driver"].map(lo)) / perf["driver"].map(span)
        perf[dst] = np.where(flip, 1 - scaled, scaled)
    # flipping swaps which end of the interval is the worse one
    low_norm = perf[["performance_norm_low", "performance_norm_high"]].min(axis=1)
    high_norm = perf[["performance_norm_low", "performance_norm_high"]].max(axis=1)
    perf["performance_norm_low"], perf["performance_norm_high"] = low_norm, high_norm

    table = importance[
        ["segment", "driver", "importance_mean", "importance_low",
         "importance_high", "effect_mean", "p_top3"]
    ].merge(perf, on=["segment", "driver"], how="left", validate="one_to_one")  # fmt: skip
    by_segment = table.groupby("segment", sort=False)
    table["importance_median"] = by_segment["importance_mean"].transform("median")
    table["performance_median"] = by_segment["performance_norm"].transform("median")
    high_imp = table["importance_mean"] >= table["importance_median"]
    high_perf = table["performance_norm"] >= table["performance_median"]
    table["quadrant"] = np.select(
        [high_imp & ~high_perf, high_imp & high_perf, ~high_imp & ~high_perf],
        list(QUADRANTS[:3]),
        default=QUADRANTS[3],
    )
    # without a performance value a driver cannot be placed
    table.loc[table["performance_norm"].isna() | table["importance_mean"].isna(),
              "quadrant"] = None  # fmt: skip
    return table.reset_index(drop=True)
