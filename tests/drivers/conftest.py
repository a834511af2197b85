"""Shared fixtures for the driver-model tests: small seeded data and one short real fit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from cxkit.simulate import simulate_responses

SMALL_DRIVERS = {"rating_product": 0.6, "rating_app": 0.2, "gap_delivery": -0.25,
                 "had_support_ticket": -0.5}


@pytest.fixture(scope="session")
def small_gaussian():
    """800 gaussian responses, 3 segments, 4 drivers (ratings, a gap, a flag)."""
    data, truth = simulate_responses(800, n_segments=3, drivers=SMALL_DRIVERS,
                                     family="gaussian", seed=11)
    return data, truth


@pytest.fixture(scope="session")
def short_fit(small_gaussian, sampling_patcher):
    """A fit on prior draws (tests/conftest.py ``mock_sampling``; gate off): plumbing tests
    reuse it. Everything but the sampler runs (preparation, model, deterministics, config);
    its numbers are not a posterior, so tests on it check layout and arithmetic only."""
    from cxkit.drivers import fit_drivers

    data, _ = small_gaussian
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        sampling_patcher(mp)
        warnings.simplefilter("ignore", FutureWarning)
        return fit_drivers(data, outcome="y", drivers=list(SMALL_DRIVERS), segments="segment",
                           draws=200, tune=200, chains=2, gate="off", seed=1)


def truth_table(result, truth) -> pd.DataFrame:
    """The result's effect summary with the true beta of every segment x driver next to it."""
    table = result.summary()
    table["true"] = [truth["beta"][s][d] for s, d in zip(table["segment"], table["driver"])]
    table["covered"] = (table["hdi_low"] <= table["true"]) & (table["true"] <= table["hdi_high"])
    return table


def assert_recovered(table: pd.DataFrame, threshold: float) -> None:
    """Issue #4: true effects inside the 94% HDI for >= 90% of segment x driver effects,
    and the posterior mean's sign right wherever |true effect| exceeds ``threshold``."""
    coverage = table["covered"].mean()
    assert coverage >= 0.9, f"94% HDI covers only {coverage:.0%} of true effects:\n{table}"
    big = table[table["true"].abs() > threshold]
    assert len(big) > 0
    wrong = big[np.sign(big["mean"]) != np.sign(big["true"])]
    assert wrong.empty, f"wrong sign where |true| > {threshold}:\n{wrong}"


@pytest.fixture
def recovery():
    """``(truth_table, assert_recovered)``: test files cannot import conftest under importlib mode."""
    return truth_table, assert_recovered
