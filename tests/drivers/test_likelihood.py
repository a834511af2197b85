"""Reduced likelihoods: numerically sound far in the tails (row-level equality: test_model,
the kernel against scipy and finite differences: test_kernel)."""

import numpy as np
import pytensor.tensor as pt
import pytest
from scipy.special import expit



def _ordinal_value(eta_value, cut_value):
    import pymc as pm

    from cxkit.drivers.likelihood import ordinal_loglik

    st = {"x": np.zeros((1, 1)), "bounds": np.array([0, 1]), "seg_idx": np.array([0]),
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
