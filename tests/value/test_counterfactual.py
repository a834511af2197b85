"""The counterfactual score given the observed one, and the priced effect under the true
parameters of `cxkit simulate` (no sampling: the models hold the generative values)."""

import types

import numpy as np
import pytest

from cxkit.value.counterfactual import (category_index, category_probabilities, draw_index,
                                        ordinal_latent)
from cxkit.value.impact import evaluate_initiatives
from cxkit.value.initiatives import load_initiatives
from tests.value._sim import (TrueOrdinal, simulated_inputs, true_revenue_change,
                              true_value_result)


def test_category_probabilities_match_a_simulation_of_the_noise():
    rng = np.random.default_rng(0)
    cut = np.array([-2.0, -0.5, 0.3, 1.5])
    eta0, eta1 = 0.4, 1.1
    e = rng.logistic(size=400_000)
    k0 = np.searchsorted(cut, eta0 + e)
    k1 = np.searchsorted(cut, eta1 + e)
    for k in range(5):
        p = category_probabilities(np.array([eta0]), np.array([eta1]), cut, np.array([k]))[0]
        freq = np.bincount(k1[k0 == k], minlength=5) / (k0 == k).sum()
        np.testing.assert_allclose(p, freq, atol=0.01)
        assert p[:k].sum() == 0  # a better experience never lowers the score


def test_no_change_is_a_point_mass_and_categories_are_found():
    cut = np.tile([-1.0, 0.0, 2.0], (3, 1))
    eta = np.array([-3.0, 0.5, 4.0])
    p = category_probabilities(eta, eta, cut, np.array([3, 0, 2]))
    np.testing.assert_array_equal(p, np.eye(4)[[3, 0, 2]])
    assert category_index(np.array([3.0, 2.5]), np.arange(4.0)).tolist() == [3, -1]
    assert draw_index(1000, 4).tolist() == [0, 333, 666, 999]


@pytest.fixture(scope="module")
def oracle():
    sim, table = simulated_inputs(seed=7, n_customers=800)
    defs = load_initiatives(["params/initiatives/sample.yaml"])
    return sim, table, defs, TrueOrdinal(sim.truth), true_value_result(sim.truth, table)


def test_priced_effect_under_the_true_parameters_is_the_true_effect(oracle):
    """Issue #10 point 5's estimand: with the generative parameters as the only posterior draw,
    evaluate_initiatives returns the true effect of every shipped initiative (from
    tests/value/_sim.py, which integrates the truncated noise on a grid: 1% tolerance)."""
    sim, table, defs, drv, vr = oracle
    out, _ = evaluate_initiatives(defs, drv, vr, sim.analysis, table, max_samples=4)
    out = out.set_index("initiative")
    for d in defs:
        true_rev, true_kept = true_revenue_change(sim, table, d)
        r = out.loc[d["name"]]
        assert r["revenue_change_low"] == pytest.approx(r["revenue_change_high"])
        assert r["revenue_change_mean"] == pytest.approx(true_rev, rel=0.01), d["name"]
        assert r["customers_kept_mean"] == pytest.approx(true_kept, rel=0.01), d["name"]


def test_the_unconditional_shift_understates_the_effect(oracle):
    """What the counterfactual fixes: adding E[score | changed] - E[score | as is] to the
    observed score counts the top category's ceiling twice."""
    sim, table, defs, drv, vr = oracle
    plain = types.SimpleNamespace(config=types.SimpleNamespace(**{**vars(drv.config),
                                                                   "family": "expected score"}),
                                  expected_outcome=drv.expected_outcome)
    chosen = [d for d in defs if d["name"] == "delivery rating +1"]
    true_rev, _ = true_revenue_change(sim, table, chosen[0])
    shifted = evaluate_initiatives(chosen, plain, vr, sim.analysis, table, max_samples=4)[0]
    assert shifted["revenue_change_mean"].iloc[0] < 0.95 * true_rev


def test_ordinal_latent_refuses_other_families_and_unknown_segments(oracle):
    sim, _, _, drv, _ = oracle
    gauss = types.SimpleNamespace(config=types.SimpleNamespace(family="gaussian"))
    with pytest.raises(ValueError, match="needs an ordinal driver model, got 'gaussian'"):
        ordinal_latent(gauss, sim.analysis)
    bad = sim.analysis.head(2).assign(region="Mars")
    with pytest.raises(ValueError, match=r"segment\(s\) \['Mars\|"):
        ordinal_latent(drv, bad)
    eta, cut, vals = ordinal_latent(drv, sim.analysis.head(5), max_samples=1)
    assert eta.shape == (1, 5) and cut.shape == (1, 10) and vals.tolist() == list(range(11))
