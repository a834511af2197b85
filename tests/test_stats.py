"""cxkit.stats: the one interval helper."""

import arviz as az
import numpy as np
import pytest
from scipy import stats as sps

from cxkit.stats import (HDI_PROB, MONEY_PROB, beta_equal_tailed, beta_hdi, equal_tailed, hdi,
                         hdi_1d)


def test_hdi_matches_arviz_over_chain_and_draw_axes():
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(2, 500, 3, 4))
    out = hdi(draws)
    assert out.shape == (3, 4, 2)
    np.testing.assert_array_equal(out, az.hdi(draws, hdi_prob=0.94))
    assert HDI_PROB == 0.94


def test_hdi_1d_is_the_narrowest_interval():
    x = np.r_[np.zeros(90), np.arange(1.0, 11.0)]  # 90% of the mass at 0
    assert hdi_1d(x, 0.89) == (0.0, 0.0)
    assert hdi_1d(np.arange(101.0), 0.5) == (0.0, 50.0)
    low, high = hdi_1d(np.random.default_rng(1).normal(size=20000))
    assert high - low == pytest.approx(2 * 1.8808, abs=0.1)


def test_beta_hdi_is_one_sided_at_the_edges_and_narrower_than_equal_tailed():
    lo, hi = beta_hdi([1.0, 11.0, 6.0], [11.0, 1.0, 6.0])
    assert lo[0] == 0.0 and hi[1] == 1.0
    # 0 of 10: P(p <= hi) = 0.94 under Beta(1, 11)
    assert sps.beta.cdf(hi[0], 1, 11) == pytest.approx(0.94, abs=1e-3)
    # symmetric posterior: HDI equals the equal-tailed interval
    el, eh = beta_equal_tailed(6.0, 6.0)
    assert (lo[2], hi[2]) == pytest.approx((el, eh), abs=1e-3)


def test_beta_equal_tailed_quantiles():
    low, high = beta_equal_tailed(np.array([2.0, 30.0]), np.array([8.0, 70.0]), prob=0.9)
    np.testing.assert_allclose(low, sps.beta.ppf(0.05, [2, 30], [8, 70]))
    np.testing.assert_allclose(high, sps.beta.ppf(0.95, [2, 30], [8, 70]))


def test_equal_tailed_is_the_5th_and_95th_percentile_and_allows_inf():
    x = np.random.default_rng(3).normal(size=(1000, 3))
    low, high = equal_tailed(x)
    np.testing.assert_allclose(low, np.percentile(x, 5, axis=0))
    np.testing.assert_allclose(high, np.percentile(x, 95, axis=0))
    assert MONEY_PROB == 0.9
    assert equal_tailed([1.0, 2.0, np.inf, np.inf], prob=0.5) == (1.75, np.inf)
    assert equal_tailed(np.arange(11.0), prob=0.8) == pytest.approx((1.0, 9.0))
