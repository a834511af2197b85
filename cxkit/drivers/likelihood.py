"""Exact log-likelihoods of the driver model on reduced data (PyTensor graphs).

Every function adds one ``pm.Potential`` equal to the row-level log-likelihood (up to a
constant that does not depend on the parameters), computed from the reduction that
``cxkit.drivers.model.prepare_data`` made:

* gaussian: per-segment sufficient statistics, so a gradient costs segments x drivers^2;
* bernoulli: ``sum_i k_i eta_i - n_i softplus(eta_i)`` over cells of identical rows
  (``n_i`` rows, ``k_i`` successes). The linear part is a per-segment sufficient statistic
  (``sum k`` and ``X'k``), so only the softplus term touches every cell;
* ordinal: cumulative logit, ``sum_ic n_ic log(F(c_c - eta_i) - F(c_{c-1} - eta_i))``,
  written with log-sigmoids (no clipping) so it stays exact far in the tails.

The linear predictor is computed per segment block (cells are sorted by segment), one
matrix-vector product each, instead of gathering a segment's effects for every cell:
that gather and its scatter-add gradient cost more than the products themselves. With
``dtype="float32"`` the design and the products are single precision, which halves the
memory read per gradient; the sums stay double (see benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np


def gaussian_loglik(st: dict, alpha_std, beta_std, sigma_std):
    """Exact gaussian log-likelihood from per-segment sufficient statistics.

    RSS_s = y'y - 2 w'X'y + w'X'X w with w = (alpha_s, beta_s), so the cost per gradient
    depends on segments x drivers^2, not on the number of respondents.
    """
    import pymc as pm
    import pytensor.tensor as pt

    w = pt.concatenate([alpha_std[:, None], beta_std], axis=1)
    quad = pt.sum(w[:, :, None] * st["xx"] * w[:, None, :], axis=(1, 2))
    rss = st["yy"] - 2.0 * pt.sum(w * st["xy"], axis=1) + quad
    n = st["n"]
    loglik = -0.5 * n.sum() * pt.log(2 * np.pi * sigma_std**2) - pt.sum(rss) / (2 * sigma_std**2)
    pm.Potential("loglik", loglik)


def linear_predictor(st: dict, alpha, beta, dtype: str = "float64"):
    """``eta`` of every cell: ``alpha[s] + x_i . beta[s]``, one block per segment."""
    import pytensor
    import pytensor.tensor as pt

    parts = []
    for s, (lo, hi) in enumerate(zip(st["bounds"][:-1], st["bounds"][1:])):
        if hi == lo:
            continue
        # Shared, not constant: numba would otherwise compile the data into the code
        # (minutes and gigabytes at 100k cells); nutpie passes shared data by reference.
        x = pytensor.shared(np.ascontiguousarray(st["x"][lo:hi], dtype=dtype), name=f"x_seg{s}")
        b = beta[s] if dtype == "float64" else pt.cast(beta[s], dtype)
        a = alpha[s] if dtype == "float64" else pt.cast(alpha[s], dtype)
        parts.append(pt.dot(x, b) + a)
    return parts[0] if len(parts) == 1 else pt.concatenate(parts)


def _as_float64(x):
    import pytensor.tensor as pt

    return x if x.dtype == "float64" else pt.cast(x, "float64")


def bernoulli_loglik(st: dict, alpha, beta, dtype: str = "float64"):
    """Binomial log-likelihood of the cells, as a ``pm.Potential`` named ``loglik``."""
    import pymc as pm
    import pytensor.tensor as pt

    eta = linear_predictor(st, alpha, beta, dtype)
    # log p^k (1-p)^(n-k) = k eta - n softplus(eta); the k-part sums to per-segment statistics.
    linear = pt.sum(alpha * st["k_seg"]) + pt.sum(beta * st["xk_seg"])
    soft = pt.softplus(eta)
    if not st["all_single"]:
        soft = soft * st["trials"].astype(dtype)
    return pm.Potential("loglik", linear - pt.sum(_as_float64(soft)))


def ordinal_loglik(st: dict, alpha, beta, cut, dtype: str = "float64"):
    """Cumulative-logit log-likelihood weighted by each cell's category counts."""
    import pymc as pm
    import pytensor.tensor as pt

    eta = _as_float64(linear_predictor(st, alpha, beta, dtype))
    counts = st["counts"]
    n_cat = counts.shape[1]
    # d_c = cut_c - eta: P(y <= c) = sigmoid(d_c). A middle category's probability is
    # sigmoid(d_c) - sigmoid(d_{c-1}) = sigmoid(d_c) sigmoid(-d_{c-1}) (1 - exp(-gap_c)) with
    # gap_c = cut_c - cut_{c-1}: its log is two log-sigmoids and a log1mexp, no cancellation.
    d = cut[None, :] - eta[:, None]
    log_cdf = -pt.softplus(-d)          # log P(y <= c), c = 0..K-2
    log_sf = -pt.softplus(d)            # log P(y > c)
    total = pt.sum(counts[:, 0] * log_cdf[:, 0]) + pt.sum(counts[:, n_cat - 1] * log_sf[:, -1])
    if n_cat > 2:
        gaps = cut[1:] - cut[:-1]
        log_gap = pt.log1mexp(-gaps)
        # sigmoid(a) - sigmoid(b) = sigmoid(a) sigmoid(-b) (1 - e^(b - a)) for a > b.
        middle = log_cdf[:, 1:] + log_sf[:, :-1] + log_gap[None, :]
        total = total + pt.sum(counts[:, 1:n_cat - 1] * middle)
    return pm.Potential("loglik", total)
