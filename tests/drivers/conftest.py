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


def coverage_line(n: int, nominal: float = 0.94, false_alarm: float = 0.05) -> int:
    """Fewest of ``n`` true effects the 94% HDIs must cover: the smallest count ``c`` with
    ``P(X <= c) >= false_alarm`` for ``X ~ Binomial(n, nominal)``, so a calibrated model
    fails the line at most 5% of the time. A fixed 90% line fails a calibrated model 25%
    of the time with 16 effects (it needs 15 of 16) and 6% with 83."""
    from scipy.stats import binom

    return next(c for c in range(n + 1) if binom.cdf(c, n, nominal) >= false_alarm)


def assert_recovered(table: pd.DataFrame, threshold: float) -> None:
    """Issue #4: true effects inside their 94% HDIs at the nominal rate, within binomial
    noise (``coverage_line``: 13 of 16, 48 of 54, 74 of 83), and the posterior mean's sign
    right wherever |true effect| exceeds ``threshold``."""
    covered, n = int(table["covered"].sum()), len(table)
    assert covered >= coverage_line(n), (
        f"94% HDIs cover {covered} of {n} true effects, under the line of "
        f"{coverage_line(n)}:\n{table}")
    big = table[table["true"].abs() > threshold]
    assert len(big) > 0
    wrong = big[np.sign(big["mean"]) != np.sign(big["true"])]
    assert wrong.empty, f"wrong sign where |true| > {threshold}:\n{wrong}"


@pytest.fixture
def recovery():
    """``(truth_table, assert_recovered)``: test files cannot import conftest under importlib mode."""
    return truth_table, assert_recovered
