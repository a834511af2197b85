"""Each customer's score after an initiative, given the score they actually gave.

The revenue effect of an initiative is a counterfactual for *these* customers: the same
customer, with the same unobserved reasons for their score, after the drivers change. The
driver model says how (abduction, action, prediction):

- gaussian (``score = mu + e``): the customer's own ``e = score - mu`` is kept, so the new
  score is ``score + (mu1 - mu0)``, the linear shift (clipped to the observed score range by
  the value step);
- ordinal (``score = #(cutpoints < eta + e)``, logistic ``e``): the observed category says
  only that ``e`` lies in ``(cut[k-1] - eta0, cut[k] - eta0]``; the new category is then a
  distribution, ``P(k1 >= j) = P(e > cut[j-1] - eta1 | e in that interval)``, computed per
  posterior draw. A customer already at the top category gains nothing from a better
  experience, one just below the next cutpoint gains most.

Adding the ordinal model's *unconditional* change ``E[score | eta1] - E[score | eta0]`` to
the observed score instead would count the ceiling twice (once inside the expectation,
where customers already at 10 cannot rise, and again when the shifted score is clipped at 10):
on `cxkit simulate` data, with the true parameters, that understated the shipped driver
initiatives' revenue effects by 4-14% (``benchmarks/README.md``, value calibration).

:func:`ordinal_latent` gives the latent predictor and cutpoints of an ordinal driver result
per posterior draw; :func:`category_probabilities` the counterfactual distribution (NumPy, for
checks and small inputs); :mod:`cxkit.value.impact` runs the same arithmetic fused with the
value model in numba.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def draw_index(n_total: int, max_samples: int) -> np.ndarray:
    """Evenly spaced posterior draws, the rule of ``DriverResult.expected_outcome``.

    Examples
    --------
    >>> draw_index(5, 10).tolist(), draw_index(5, 3).tolist()
    ([0, 1, 2, 3, 4], [0, 2, 4])
    """
    if n_total <= max_samples:
        return np.arange(n_total)
    return np.linspace(0, n_total - 1, max_samples).round().astype(int)


def ordinal_latent(driver_result, data: pd.DataFrame, *, max_samples: int = 1000):
    """Latent predictor and cutpoints of an ordinal driver model, per posterior draw.

    Parameters
    ----------
    driver_result : DriverResult
        An ordinal fit (``config.family == "ordinal"``) with posterior ``alpha``
        (draw, segment), ``beta`` (draw, segment, driver) and ``cutpoints``.
    data : DataFrame
        Rows with the driver and segment columns.
    max_samples : int
        At most this many draws, the same ones ``expected_outcome`` uses.

    Returns
    -------
    (eta, cutpoints, values)
        ``eta`` (draws, rows), ``cutpoints`` (draws, categories - 1) and the categories'
        values (e.g. NPS 0..10).
    """
    c = driver_result.config
    if c.family != "ordinal":
        raise ValueError(f"ordinal_latent needs an ordinal driver model, got '{c.family}'.")
    post = driver_result.idata.posterior

    def flat(name, idx):
        v = post[name].values
        return v.reshape((-1,) + v.shape[2:])[idx]

    idx = draw_index(post.sizes["chain"] * post.sizes["draw"], max_samples)
    x = data[c.drivers].to_numpy(dtype=float)
    if np.isnan(x).any():
        raise ValueError("missing driver values in the rows to predict; fill or drop them.")
    lookup = {label: i for i, label in enumerate(c.segment_labels)}
    labels = driver_result.segment_labels(data).to_numpy()
    unknown = sorted(set(labels) - set(lookup))
    if unknown:
        raise ValueError(f"segment(s) {unknown[:10]} were not in the driver model's data.")
    seg = np.array([lookup[label] for label in labels], dtype=int)
    alpha, beta = flat("alpha", idx), flat("beta", idx)
    eta = np.empty((len(idx), len(data)))
    for s in np.unique(seg):
        rows = np.flatnonzero(seg == s)
        eta[:, rows] = alpha[:, s, None] + beta[:, s, :] @ x[rows].T
    return eta, np.asarray(flat("cutpoints", idx), dtype=float), np.asarray(c.categories,
                                                                            dtype=float)


def category_index(score: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position of each score among the categories' values; -1 where it is none of them.

    Examples
    --------
    >>> category_index(np.array([0.0, 7.0, 7.5, 11.0]), np.arange(11.0)).tolist()
    [0, 7, -1, -1]
    """
    values = np.asarray(values, dtype=float)
    pos = np.clip(np.searchsorted(values, score), 0, len(values) - 1)
    return np.where(values[pos] == score, pos, -1).astype(np.int64)


def category_probabilities(eta0, eta1, cutpoints, k_obs) -> np.ndarray:
    """Distribution of the counterfactual category given the observed one.

    Parameters
    ----------
    eta0, eta1 : array (n,)
        Latent predictor before and after the change.
    cutpoints : array (n, K - 1) or (K - 1,)
        Ordered cutpoints.
    k_obs : array of int (n,)
        Observed category (0 .. K - 1).

    Returns
    -------
    ndarray (n, K)
        Rows sum to 1; ``eta1 == eta0`` gives a point mass at ``k_obs``.

    Examples
    --------
    >>> p = category_probabilities(np.zeros(2), np.zeros(2), np.array([-1.0, 1.0]), [0, 2])
    >>> p.tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    from scipy.special import expit

    eta0, eta1 = np.asarray(eta0, float), np.asarray(eta1, float)
    k = np.asarray(k_obs, dtype=int)
    cut = np.broadcast_to(np.asarray(cutpoints, float), (len(eta0), np.shape(cutpoints)[-1]))
    n, n_cut = cut.shape
    rows = np.arange(n)
    full = np.column_stack([np.full(n, -np.inf), cut, np.full(n, np.inf)])
    lo = expit(full[rows, k] - eta0)
    hi = expit(full[rows, k + 1] - eta0)
    t = expit(cut - eta1[:, None])                       # u > t_j  <=>  k1 >= j
    width = (hi - lo)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ge = np.where(width > 0, np.clip((hi[:, None] - t) / width, 0.0, 1.0),
                      (t < lo[:, None]).astype(float))
    ge = np.column_stack([np.ones(n), ge, np.zeros(n)])  # P(k1 >= 0) .. P(k1 >= K)
    return ge[:, :-1] - ge[:, 1:]


_KERNEL = {}


def value_sums():
    """Fused per-draw sums over customer groups (numba, parallel over draws), compiled once.

    Used by :func:`cxkit.value.impact.evaluate_initiatives`: for each draw ``k`` (value
    draw ``pair[k]``) the revenue change, customers kept, score change and customers whose
    shifted score left ``[lo, hi]``, summed over groups ``g`` of identical customers
    (weights ``w``).

    A group with ``kobs[g] >= 0`` (ordinal driver model, observed category ``kobs``) gets its
    counterfactual category distribution given the observed one
    (:mod:`cxkit.value.counterfactual`) from ``eta0/eta1[k, row]`` and ``cut[k]``; any other
    group moves by ``dd[k, row] + band`` (gaussian shift, score band).
    """
    if "f" not in _KERNEL:
        import numba

        @numba.njit(parallel=True, cache=True, fastmath=True)
        def sums(a, b, c, d, sig, pair, cs_cell, cs_score, cs, band, row, w, dd, ref, lo, hi,
                 kobs, eta0, eta1, cut, vals):
            n, m = pair.shape[0], cs_cell.shape[0]
            n_cat = vals.shape[0]
            rev, kept, dsat, beyond = (np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n))
            for k in numba.prange(n):
                j = pair[k]
                half = 0.5 * sig[j] * sig[j]
                p0 = np.empty(m)
                v0 = np.empty(m)
                for i in range(m):  # the as-is value of each (cell, score) once per draw
                    q, x0 = cs_cell[i], cs_score[i] - ref
                    p0[i] = 1.0 / (1.0 + np.exp(-(a[j, q] + b[j, q] * x0)))
                    v0[i] = p0[i] * np.exp(c[j, q] + d[j, q] * x0 + half)
                r = kp = ds = bey = 0.0
                for g in range(cs.shape[0]):
                    i = cs[g]
                    q, s0 = cs_cell[i], cs_score[i]
                    if kobs[g] >= 0:  # ordinal: expectation over the counterfactual category
                        e0, e1, k0 = eta0[k, row[g]], eta1[k, row[g]], kobs[g]
                        u_lo = 0.0 if k0 == 0 else 1.0 / (1.0 + np.exp(e0 - cut[k, k0 - 1]))
                        u_hi = 1.0 if k0 == n_cat - 1 else 1.0 / (1.0 + np.exp(e0 - cut[k, k0]))
                        width = u_hi - u_lo
                        prev = 1.0
                        p1 = v1 = s1 = 0.0
                        for jc in range(n_cat):
                            if jc == n_cat - 1:
                                ge = 0.0
                            else:
                                t = 1.0 / (1.0 + np.exp(e1 - cut[k, jc]))
                                if width > 0.0:
                                    ge = min(max((u_hi - t) / width, 0.0), 1.0)
                                else:
                                    ge = 1.0 if t < u_lo else 0.0
                            pj = prev - ge
                            prev = ge
                            if pj != 0.0:
                                sv = min(max(vals[jc], lo), hi)
                                x1 = sv - ref
                                pr = 1.0 / (1.0 + np.exp(-(a[j, q] + b[j, q] * x1)))
                                p1 += pj * pr
                                v1 += pj * pr * np.exp(c[j, q] + d[j, q] * x1 + half)
                                s1 += pj * sv
                        r += w[g] * (v1 - v0[i])
                        kp += w[g] * (p1 - p0[i])
                        ds += w[g] * (s1 - s0)
                        continue
                    s1 = s0 + dd[k, row[g]] + band[g]
                    if s1 < lo:
                        s1 = lo
                        bey += w[g]
                    elif s1 > hi:
                        s1 = hi
                        bey += w[g]
                    x1 = s1 - ref
                    p1 = 1.0 / (1.0 + np.exp(-(a[j, q] + b[j, q] * x1)))
                    v1 = p1 * np.exp(c[j, q] + d[j, q] * x1 + half)
                    r += w[g] * (v1 - v0[i])
                    kp += w[g] * (p1 - p0[i])
                    ds += w[g] * (s1 - s0)
                rev[k], kept[k], dsat[k], beyond[k] = r, kp, ds, bey
            return rev, kept, dsat, beyond

        _KERNEL["f"] = sums
    return _KERNEL["f"]


__all__ = ["category_index", "category_probabilities", "draw_index", "ordinal_latent",
           "value_sums"]
