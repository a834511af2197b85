"""The fused logit kernel: value against scipy, gradient against finite differences."""

import numpy as np
import pytest
from scipy.special import expit, log_expit

from cxkit.drivers.kernel import entries_from_cells, logit_loglik, logit_loglik_grad


def _reference(alpha, beta, cut, x, counts, seg):
    """Row-level cumulative-logit log-likelihood, the textbook way (differences of CDFs)."""
    eta = alpha[seg] + (x * beta[seg]).sum(1)
    edges = np.concatenate([[-np.inf], cut, [np.inf]])
    return sum((counts[:, c] * np.log(expit(edges[c + 1] - eta) - expit(edges[c] - eta))).sum()
               for c in range(counts.shape[1]))


def _case(n_cat, seed=0, n=200, d=3, s=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    seg = rng.integers(0, s - 1, n)  # the last segment has no cells
    counts = np.array([rng.multinomial(rng.integers(1, 4), np.ones(n_cat) / n_cat)
                       for _ in range(n)], dtype=float)
    alpha, beta = rng.normal(size=s), rng.normal(size=(s, d))
    cut = np.sort(rng.normal(size=n_cat - 1)) if n_cat > 2 else np.zeros(1)
    return alpha, beta, cut, x, counts, seg


def _numeric_grad(f, v, h=1e-6):
    out = np.zeros_like(v)
    for i in np.ndindex(v.shape):
        e = np.zeros_like(v)
        e[i] = h
        out[i] = (f(v + e) - f(v - e)) / (2 * h)
    return out


@pytest.mark.parametrize("n_cat", [2, 5])
def test_value_and_gradient_match_the_row_level_likelihood(n_cat):
    alpha, beta, cut, x, counts, seg = _case(n_cat)
    ent = entries_from_cells(x, counts, seg, 3, "float64")
    # Cells with several categories become one entry per observed category.
    assert ent["xt"].shape == (3, int((counts > 0).sum())) and ent["w"].sum() == counts.sum()
    assert ent["block"][-1] - ent["block"][-1 - n_cat] == 0  # the empty segment's blocks
    logp, g_alpha, g_beta, g_cut = logit_loglik_grad(alpha, beta, cut, ent["xt"], ent["w"],
                                                     ent["block"])
    assert logp == pytest.approx(_reference(alpha, beta, cut, x, counts, seg), rel=1e-12)
    np.testing.assert_allclose(
        g_alpha, _numeric_grad(lambda a: _reference(a, beta, cut, x, counts, seg), alpha),
        atol=1e-5)
    np.testing.assert_allclose(
        g_beta, _numeric_grad(lambda b: _reference(alpha, b, cut, x, counts, seg), beta),
        atol=1e-5)
    assert g_alpha[2] == 0 and not g_beta[2].any()
    if n_cat > 2:
        np.testing.assert_allclose(
            g_cut, _numeric_grad(lambda c: _reference(alpha, beta, c, x, counts, seg), cut),
            atol=1e-5)


def test_single_precision_design_keeps_the_value_to_1e_6():
    alpha, beta, cut, x, counts, seg = _case(5, seed=3)
    ref = _reference(alpha, beta, cut, x, counts, seg)
    ent = entries_from_cells(x, counts, seg, 3, "float32")
    assert ent["xt"].dtype == np.float32
    logp = logit_loglik_grad(alpha, beta, cut, ent["xt"], ent["w"], ent["block"])[0]
    assert logp == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("eta", [-700.0, -60.0, -35.0, -1e-3, 0.0, 2.5, 35.0, 60.0, 700.0])
def test_bernoulli_exact_far_in_the_tails(eta):
    # One success and one failure at the same eta: log sigmoid(eta) + log sigmoid(-eta),
    # derivative sigmoid(-eta) - sigmoid(eta) (to 1e-13: the polynomial exp is good to about
    # 1e-14 relative); no overflow, no log(0).
    ent = entries_from_cells(np.zeros((1, 1)), np.array([[1.0, 1.0]]), np.array([0]), 1,
                             "float64")
    logp, g_alpha, _, _ = logit_loglik_grad(np.array([eta]), np.zeros((1, 1)), np.zeros(1),
                                            ent["xt"], ent["w"], ent["block"])
    assert logp == pytest.approx(log_expit(eta) + log_expit(-eta), rel=1e-13)
    assert g_alpha[0] == pytest.approx(expit(-eta) - expit(eta), rel=1e-12, abs=1e-13)


def test_pytensor_op_gradient_is_the_kernels():
    import pytensor
    import pytensor.tensor as pt

    alpha, beta, cut, x, counts, seg = _case(4, seed=5)
    a, b, c = pt.dvector("a"), pt.dmatrix("b"), pt.dvector("c")
    total = logit_loglik(a, b, c, entries_from_cells(x, counts, seg, 3, "float64"), "t")
    f = pytensor.function([a, b, c], [total, *pt.grad(total, [a, b, c])])
    logp, ga, gb, gc = f(alpha, beta, cut)
    assert float(logp) == pytest.approx(_reference(alpha, beta, cut, x, counts, seg), rel=1e-12)
    np.testing.assert_allclose(
        gc, _numeric_grad(lambda v: _reference(alpha, beta, v, x, counts, seg), cut), atol=1e-5)
    # PyTensor's gradient graph reuses the kernel's outputs: one kernel call, not two.
    kernels = [n for n in f.maker.fgraph.apply_nodes if type(n.op).__name__ == "LogitLoglikOp"]
    assert len(kernels) == 1
