"""Interval helpers: the one place cxkit turns draws or counts into ``(low, high)``.

Every published table names an interval ``<stat>_low``, ``<stat>_high`` and states the
probability once (in the module docs or the table's ``attrs["interval"]``). Model effects use
a 94% highest-density interval (:data:`HDI_PROB`, ArviZ's default); money (sums of revenue,
ROI, payback) a 90% equal-tailed interval of the draws (:func:`equal_tailed`, :data:`MONEY_PROB`);
shares from counts use a Beta posterior, either its exact HDI (:func:`beta_hdi`, one-sided at 0 or n successes) or
its equal-tailed interval (:func:`beta_equal_tailed`).

The imports of ArviZ and SciPy sit inside the functions: both are slow to import and
``import cxkit`` stays cheap.
"""

from __future__ import annotations

import numpy as np

HDI_PROB = 0.94
MONEY_PROB = 0.90


def hdi(draws, prob: float = HDI_PROB) -> np.ndarray:
    """Highest-density interval of posterior draws (ArviZ's ``az.hdi``).

    Parameters
    ----------
    draws : array-like
        Either 1-d draws, or ``(chain, draw, *shape)``: the two leading axes are samples.
    prob : float
        Probability mass inside the interval.

    Returns
    -------
    numpy.ndarray
        ``(2,)`` for 1-d draws, else ``(*shape, 2)``; the last axis is ``(low, high)``.

    Examples
    --------
    >>> hdi(np.arange(101.0), prob=0.5)
    array([ 0., 50.])
    """
    import arviz as az

    draws = np.asarray(draws, dtype=float)
    return np.asarray(az.hdi(draws, hdi_prob=prob))


def hdi_1d(draws, prob: float = HDI_PROB) -> tuple[float, float]:
    """:func:`hdi` of 1-d draws as two floats ``(low, high)``.

    Examples
    --------
    >>> hdi_1d([1.0, 2.0, 3.0, 4.0], prob=0.5)
    (1.0, 3.0)
    """
    low, high = hdi(np.ravel(np.asarray(draws, dtype=float)), prob)
    return float(low), float(high)


def equal_tailed(draws, prob: float = MONEY_PROB, axis: int = 0):
    """Equal-tailed interval of draws: their ``(1 - prob)/2`` and ``(1 + prob)/2`` quantiles.

    Linear interpolation between order statistics (NumPy's and pandas' default). ``inf``
    draws are allowed (e.g. a payback period that never comes).

    Parameters
    ----------
    draws : array-like
        Samples along ``axis``.
    prob : float
        Probability mass inside the interval.
    axis : int
        Axis of the samples.

    Returns
    -------
    (low, high)
        Floats for 1-d draws, else arrays of the remaining shape.

    Examples
    --------
    >>> [round(x, 6) for x in equal_tailed(np.arange(101.0))]
    [5.0, 95.0]
    >>> low, high = equal_tailed(np.arange(202.0).reshape(101, 2), prob=0.5)
    >>> low.tolist(), high.tolist()
    ([50.0, 51.0], [150.0, 151.0])
    """
    x = np.asarray(draws, dtype=float)
    big = np.finfo(float).max
    # interpolating between two infinite draws would give inf - inf = NaN: stand in the
    # largest floats for them and read anything that large back as infinite
    x = np.clip(x, -big, big)
    with np.errstate(over="ignore"):
        low, high = np.quantile(x, [(1 - prob) / 2, (1 + prob) / 2], axis=axis)
    low, high = (np.where(np.abs(v) >= big, np.copysign(np.inf, v), v) for v in (low, high))
    if np.ndim(low) == 0:
        return float(low), float(high)
    return low, high


def beta_hdi(a, b, prob: float = HDI_PROB, grid: int = 601) -> tuple[np.ndarray, np.ndarray]:
    """Exact highest-density interval of Beta(a, b), vectorised over ``a`` and ``b``.

    The narrowest interval holding ``prob`` is found by scanning the lower tail mass on a
    grid (steps of 1e-4 for 94%): exact at the edges, where the HDI is one-sided
    (no successes -> [0, q], all successes -> [q, 1]), unlike an equal-tailed interval
    that would exclude the observed share.

    Examples
    --------
    >>> lo, hi = beta_hdi([1.0], [11.0])   # 0 of 10 with a uniform prior
    >>> float(lo[0]), round(float(hi[0]), 3)
    (0.0, 0.226)
    """
    from scipy import stats

    a = np.asarray(a, dtype=float)[:, None]
    b = np.asarray(b, dtype=float)[:, None]
    lower_mass = np.linspace(0.0, 1.0 - prob, grid)[None, :]
    lo = stats.beta.ppf(lower_mass, a, b)
    hi = stats.beta.ppf(np.minimum(lower_mass + prob, 1.0), a, b)
    best = np.argmin(hi - lo, axis=1)
    rows = np.arange(len(best))
    return lo[rows, best], hi[rows, best]


def beta_equal_tailed(a, b, prob: float = HDI_PROB):
    """Equal-tailed interval of Beta(a, b): its ``(1 - prob)/2`` and ``(1 + prob)/2`` quantiles.

    Vectorised over ``a`` and ``b`` (returns arrays, or floats for scalar input).

    Examples
    --------
    >>> low, high = beta_equal_tailed(51.0, 51.0, prob=0.9)
    >>> round(float(low), 3), round(float(high), 3)
    (0.419, 0.581)
    """
    from scipy import stats

    tail = (1 - prob) / 2
    return stats.beta.ppf(tail, a, b), stats.beta.ppf(1 - tail, a, b)
