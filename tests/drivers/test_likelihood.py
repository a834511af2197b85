"""Reduced likelihoods: numerically sound far in the tails (row-level equality: test_model)."""

import numpy as np
import pytensor.tensor as pt
import pytest
from scipy.special import expit

from cxkit.drivers.likelihood import linear_predictor


def _ordinal_value(eta_value, cut_value):
    import pymc as pm

    from cxkit.drivers.likelihood import ordinal_loglik

    st = {"x": np.zeros((1, 1)), "bounds": np.array([0, 1]),
          "counts": np.array([[0.0, 1.0, 0.0]])}
    with pm.Model():
        alpha = pt.as_tensor(np.array([eta_value]))
        beta = pt.as_tensor(np.zeros((1, 1)))
        pot = ordinal_loglik(st, alpha, beta, pt.as_tensor(np.asarray(cut_value)))
    return float(pot.eval())


def test_ordinal_middle_category_exact_where_differences_of_cdfs_cancel():
    # eta 40 above both cutpoints: P(y = 1) = sigmoid(1 - 40) - sigmoid(0 - 40), about
    # e^-39 (1 - e^-1); the difference of two CDF values rounds to 0 in double precision.
    got = _ordinal_value(40.0, [0.0, 1.0])
    assert got == pytest.approx(-39.0 + np.log1p(-np.exp(-1.0)), rel=1e-9)
    mid = _ordinal_value(0.3, [0.0, 1.0])
    assert mid == pytest.approx(np.log(expit(0.7) - expit(-0.3)), rel=1e-12)


def test_linear_predictor_blocks_match_a_gather():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 3))
    st = {"x": x, "bounds": np.array([0, 3, 3, 7])}  # segment 1 has no cells
    alpha, beta = rng.normal(size=3), rng.normal(size=(3, 3))
    seg = np.array([0, 0, 0, 2, 2, 2, 2])
    expected = alpha[seg] + (x * beta[seg]).sum(1)
    got = linear_predictor(st, pt.as_tensor(alpha), pt.as_tensor(beta)).eval()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    got32 = linear_predictor(st, pt.as_tensor(alpha), pt.as_tensor(beta), "float32").eval()
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, expected, rtol=1e-5)
