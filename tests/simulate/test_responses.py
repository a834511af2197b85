"""The response-level generator: shapes, families, and truth a plain fit recovers."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from cxkit.simulate import simulate_responses
from cxkit.simulate.responses import DEFAULT_DRIVERS, driver_kind


@pytest.mark.parametrize("family", ["gaussian", "bernoulli", "ordinal"])
def test_shapes_and_truth_keys(family):
    data, truth = simulate_responses(2000, family=family, n_segments=3, seed=5)
    assert list(data.columns) == ["segment", *DEFAULT_DRIVERS, "y"]
    assert len(data) == 2000
    assert sorted(data["segment"].unique()) == ["S1", "S2", "S3"] == truth["segments"]
    assert set(truth["beta"]["S1"]) == set(DEFAULT_DRIVERS)
    assert truth["mu_beta"] == DEFAULT_DRIVERS and truth["tau"] == 0.15
    assert data["rating_app"].between(1, 5).all() and data["rating_app"].dtype == np.int64
    assert set(data["had_support_ticket"].unique()) == {0, 1}
    assert data["gap_delivery"].dtype == np.float64
    if family == "gaussian":
        assert truth["sigma"] > 0 and 5 < data["y"].mean() < 9
    elif family == "bernoulli":
        assert set(data["y"].unique()) == {0, 1} and 0.3 < data["y"].mean() < 0.85
    else:
        assert sorted(data["y"].unique()) == [0, 1, 2, 3, 4]
        assert len(truth["cutpoints"]) == 4 and np.all(np.diff(truth["cutpoints"]) > 0)


def test_two_levels_labels_and_columns():
    data, truth = simulate_responses(3000, n_segments=2, two_levels=True, seed=1)
    assert list(data.columns[:2]) == ["segment", "subsegment"]
    assert truth["segments"] == ["S1|a", "S1|b", "S1|c", "S2|a", "S2|b", "S2|c"]
    assert set(truth["beta"]) == set(truth["alpha"]) == set(truth["segments"])


def test_same_seed_same_data_other_seed_differs():
    a, ta = simulate_responses(500, seed=3)
    b, tb = simulate_responses(500, seed=3)
    c, _ = simulate_responses(500, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert ta == tb
    assert not a.equals(c)


def test_ols_recovers_gaussian_betas():
    data, truth = simulate_responses(200_000, family="gaussian", seed=11)
    drivers = truth["drivers"]
    for seg, g in data.groupby("segment"):
        X = np.column_stack([np.ones(len(g)), g[drivers].to_numpy(float)])
        coef, *_ = np.linalg.lstsq(X, g["y"].to_numpy(), rcond=None)
        np.testing.assert_allclose(coef[0], truth["alpha"][seg], atol=0.15)
        np.testing.assert_allclose(coef[1:], [truth["beta"][seg][d] for d in drivers], atol=0.04)


def test_ordinal_shares_are_plausible_and_follow_the_drivers():
    data, truth = simulate_responses(100_000, family="ordinal", seed=2)
    shares = data["y"].value_counts(normalize=True).sort_index()
    assert len(shares) == 5 and shares.between(0.04, 0.5).all()
    # A positive driver raises the outcome, a negative one lowers it.
    by_rating = data.groupby("rating_product")["y"].mean()
    assert by_rating.is_monotonic_increasing
    assert data.loc[data["had_support_ticket"] == 1, "y"].mean() < data.loc[
        data["had_support_ticket"] == 0, "y"].mean()


def test_custom_drivers_and_kinds():
    data, truth = simulate_responses(1000, drivers={"rating_x": 0.3, "is_new": -0.2, "z": 1.0},
                                     seed=0)
    assert truth["driver_kind"] == {"rating_x": "rating", "is_new": "flag", "z": "continuous"}
    assert driver_kind("late_flag") == "flag"
    assert list(data.columns) == ["segment", "rating_x", "is_new", "z", "y"]


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="family='poisson' is not one of"):
        simulate_responses(10, family="poisson")
    with pytest.raises(ValueError, match="drivers is empty"):
        simulate_responses(10, drivers={})


@pytest.mark.slow
def test_a_million_rows_is_fast():
    start = time.perf_counter()
    data, _ = simulate_responses(1_000_000, family="ordinal", seed=0)
    assert len(data) == 1_000_000
    assert time.perf_counter() - start < 20  # a few seconds on a quiet machine


@pytest.mark.parametrize("family,top", [("bernoulli", 1), ("ordinal", 4)])
def test_separate_builds_quasi_complete_separation_into_one_cell(family, top):
    data, truth = simulate_responses(4000, n_segments=2, two_levels=True, family=family, seed=2,
                                     separate={"segment": "S1|b", "driver": "rating_app"})
    cell = data[(data["segment"] == "S1") & (data["subsegment"] == "b")]
    assert (cell.loc[cell["rating_app"] <= 3, "y"] == 0).all()
    assert (cell.loc[cell["rating_app"] == 5, "y"] == top).all()
    assert cell.loc[cell["rating_app"] == 4, "y"].nunique() > 1
    other = data[(data["segment"] == "S2")]
    assert other.loc[other["rating_app"] <= 3, "y"].nunique() > 1  # only that cell
    assert truth["separated"] == [{"segment": "S1|b", "driver": "rating_app",
                                   "kind": "quasi-complete"}]
    _, complete = simulate_responses(500, n_segments=2, two_levels=True, family=family, seed=2,
                                     separate={"segment": "S1|b", "driver": "rating_app",
                                               "below": 3, "above": 4})
    assert complete["separated"][0]["kind"] == "complete"


def test_separate_rejects_what_it_cannot_build():
    with pytest.raises(ValueError, match="not for|applies to bernoulli or ordinal"):
        simulate_responses(100, family="gaussian", separate={"segment": "S1", "driver": "rating_app"})
    with pytest.raises(ValueError, match="must be one of the rating_"):
        simulate_responses(100, family="bernoulli",
                           separate={"segment": "S1", "driver": "gap_delivery"})
    with pytest.raises(ValueError, match="is not one of the segments"):
        simulate_responses(100, family="bernoulli", separate={"segment": "S9", "driver": "rating_app"})
