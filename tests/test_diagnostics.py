"""Convergence gate on hand-made draws with known properties."""

import arviz as az
import numpy as np
import pytest

from cxkit.diagnostics import ConvergenceError, check_convergence, raise_if_failed


def _idata(shift=0.0, n_div=0, energy_rw=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 1000, 3))
    x[1] += shift  # one chain off target: R-hat must notice
    energy = rng.normal(size=(4, 1000))
    if energy_rw:  # energy that barely moves between draws: low E-BFMI
        energy = np.cumsum(rng.normal(size=(4, 1000)), axis=1)
    div = np.zeros((4, 1000), dtype=bool)
    div.flat[:n_div] = True
    return az.from_dict(posterior={"beta": x, "mu": x[..., 0] * 2},
                        sample_stats={"diverging": div, "energy": energy})


def test_good_draws_pass_with_the_numbers():
    diag = check_convergence(_idata())
    assert diag["passed"] and diag["failures"] == []
    assert diag["max_r_hat"] < 1.01
    assert diag["min_ess_bulk"] > 2000 and diag["min_ess_tail"] > 2000
    assert diag["divergences"] == 0 and diag["min_bfmi"] > 0.3


def test_each_criterion_fails_with_value_threshold_and_worst_variable():
    diag = check_convergence(_idata(shift=1.0, n_div=3, energy_rw=True))
    assert not diag["passed"]
    text = "\n".join(diag["failures"])
    assert "r_hat: max" in text and ">= 1.01" in text and "'beta'" in text
    assert "divergences: 3 > 0" in text
    assert "bfmi: min" in text and "<= 0.3" in text
    assert diag["divergences"] == 3 and diag["min_bfmi"] < 0.3


def test_ess_threshold_and_var_names():
    diag = check_convergence(_idata(), ess_min=10_000, var_names=["mu"])
    assert not diag["passed"]
    assert diag["failures"][0].startswith("ess_bulk: min")
    assert "'mu'" in diag["failures"][0]


def test_raise_carries_the_numbers():
    bad = check_convergence(_idata(shift=1.0))
    with pytest.raises(ConvergenceError, match=r"r_hat: max 1\.\d+ >= 1.01") as err:
        raise_if_failed(bad)
    assert err.value.diagnostics["max_r_hat"] == bad["max_r_hat"]
    with pytest.raises(ConvergenceError):
        check_convergence(_idata(shift=1.0), raise_on_failure=True)
