"""cxkit.drivers.importance: driver importance, P(top k) and importance-performance."""

from types import SimpleNamespace

import arviz as az
import numpy as np
import pandas as pd
import pytest

from cxkit.drivers.importance import (
    QUADRANTS,
    driver_importance,
    importance_performance,
    p_top_k,
)

DRIVERS = ["rating_product", "rating_app", "gap_delivery", "had_ticket"]
SEGMENTS = ["North", "South"]


def make_result(beta, segments=SEGMENTS, drivers=DRIVERS, segment_col="region"):
    """Stand-in for DriverResult exposing only what summaries may use."""
    idata = az.from_dict(
        posterior={"beta": beta},
        coords={"segment": segments, "driver": drivers},
        dims={"beta": ["segment", "driver"]},
    )
    config = SimpleNamespace(
        outcome="nps", drivers=list(drivers), segments=[segment_col], family="gaussian"
    )
    return SimpleNamespace(
        idata=idata,
        config=config,
        segment_labels=lambda data: data[segment_col].astype(str),
    )


@pytest.fixture
def beta():
    """(chain=2, draw=200, segment=2, driver=4): rating_product dominates everywhere,
    had_ticket is tiny; rating_app is negative."""
    rng = np.random.default_rng(1)
    means = np.array([[2.0, -1.0, 0.05, 0.01], [2.0, -1.0, 0.05, 0.01]])
    scales = np.array([[0.1, 0.1, 0.01, 0.005], [0.1, 0.1, 0.01, 0.005]])
    return means + scales * rng.standard_normal((2, 200, 2, 4))


@pytest.fixture
def data():
    """30 North rows and 10 South rows; every driver column has a known SD per segment."""
    rng = np.random.default_rng(2)
    north = pd.DataFrame(
        {
            "region": "North",
            "rating_product": rng.integers(1, 6, 30).astype(float),
            "rating_app": rng.integers(1, 6, 30).astype(float),
            "gap_delivery": rng.gamma(2.0, 12.0, 30),
            "had_ticket": rng.integers(0, 2, 30).astype(float),
        }
    )
    south = pd.DataFrame(
        {
            "region": "South",
            "rating_product": rng.integers(3, 6, 10).astype(float),
            "rating_app": rng.integers(1, 6, 10).astype(float),
            "gap_delivery": rng.gamma(2.0, 3.0, 10),
            "had_ticket": rng.integers(0, 2, 10).astype(float),
        }
    )
    frame = pd.concat([north, south], ignore_index=True)
    frame.loc[3, "gap_delivery"] = np.nan  # gaps are null when no delivery in the window
    return frame


# ------------------------------------------------------------------ driver_importance


def test_effects_and_hdi_equal_arviz(beta, data):
    table = driver_importance(make_result(beta), data)
    assert len(table) == 3 * 4
    assert table["segment"].unique().tolist() == ["North", "South", "All"]
    row = table.set_index(["segment", "driver"]).loc[("South", "rating_app")]
    draws = beta[:, :, 1, 1]
    low, high = az.hdi(draws.ravel(), hdi_prob=0.94)
    assert row["effect_mean"] == pytest.approx(draws.mean())
    assert row["effect_low"] == pytest.approx(low)
    assert row["effect_high"] == pytest.approx(high)
    assert row["p_positive"] == 0.0


def test_importance_is_abs_effect_times_segment_sd(beta, data):
    table = driver_importance(make_result(beta), data).set_index(["segment", "driver"])
    sd = data.loc[data.region == "North", "gap_delivery"].std(ddof=1)  # NaN skipped
    imp = np.abs(beta[:, :, 0, 2]) * sd
    row = table.loc[("North", "gap_delivery")]
    assert row["driver_sd"] == pytest.approx(sd)
    assert row["importance_mean"] == pytest.approx(imp.mean())
    low, high = az.hdi(imp.ravel(), hdi_prob=0.94)
    assert (row["importance_low"], row["importance_high"]) == pytest.approx((low, high))
    assert row["n"] == 30


def test_all_pools_segments_by_size(beta, data):
    table = driver_importance(make_result(beta), data).set_index(["segment", "driver"])
    w = np.array([30, 10]) / 40
    effect = beta[:, :, 0, 1] * w[0] + beta[:, :, 1, 1] * w[1]
    assert table.loc[("All", "rating_app"), "effect_mean"] == pytest.approx(effect.mean())
    sds = [data.loc[data.region == s, "rating_app"].std(ddof=1) for s in SEGMENTS]
    imp = w[0] * np.abs(beta[:, :, 0, 1]) * sds[0] + w[1] * np.abs(beta[:, :, 1, 1]) * sds[1]
    assert table.loc[("All", "rating_app"), "importance_mean"] == pytest.approx(imp.mean())
    assert table.loc[("All", "rating_app"), "n"] == 40


def test_p_top3_and_rank_for_dominant_and_negligible_driver(beta, data):
    table = driver_importance(make_result(beta), data).set_index(["segment", "driver"])
    for segment in ["North", "South", "All"]:
        assert table.loc[(segment, "rating_product"), "p_top3"] == 1.0
        assert table.loc[(segment, "rating_product"), "rank"] == 1
        # |0.01| x SD(0/1) is far below every other driver's importance
        assert table.loc[(segment, "had_ticket"), "p_top3"] == 0.0
        assert table.loc[(segment, "had_ticket"), "rank"] == 4
    # p_top3 sums to 3 within a segment: exactly three drivers are top 3 in each draw
    assert table.groupby("segment")["p_top3"].sum().tolist() == pytest.approx([3, 3, 3])


def test_driver_spread_changes_the_ranking(beta, data):
    # the same small effect matters a lot when the driver varies a lot
    wide = data.copy()
    wide.loc[wide.region == "South", "had_ticket"] *= 1000
    table = driver_importance(make_result(beta), wide).set_index(["segment", "driver"])
    assert table.loc[("South", "had_ticket"), "rank"] == 1
    assert table.loc[("North", "had_ticket"), "rank"] == 4


def test_p_top_k_with_k1_and_all_drivers(beta, data):
    result = make_result(beta)
    top1 = p_top_k(result, data, k=1).set_index(["segment", "driver"])["p_top_k"]
    assert top1.loc[("North", "rating_product")] == 1.0
    assert top1.loc[("North", "rating_app")] == 0.0
    assert (p_top_k(result, data, k=4)["p_top_k"] == 1.0).all()
    with pytest.raises(ValueError, match="positive integer"):
        p_top_k(result, data, k=0)


def test_ranking_is_uncertain_when_importances_overlap(data):
    rng = np.random.default_rng(3)
    # two drivers with identical effect distributions and equal SD: about 50/50 for top 1
    beta = rng.normal(1.0, 0.3, (2, 500, 1, 2))
    frame = pd.DataFrame({"region": "North", "a": [0.0, 1.0] * 20, "b": [1.0, 0.0] * 20})
    result = make_result(beta, segments=["North"], drivers=["a", "b"])
    top1 = p_top_k(result, frame, k=1)
    assert top1["p_top_k"].iloc[0] == pytest.approx(0.5, abs=0.05)


def test_missing_driver_column_is_named(beta, data):
    with pytest.raises(ValueError, match=r"responses table is missing column\(s\) \[.had_ticket.\]"):
        driver_importance(make_result(beta), data.drop(columns="had_ticket"))


def test_posterior_segment_without_rows_is_an_error(beta, data):
    with pytest.raises(ValueError, match=r"segment\(s\) \['South'\].*no rows"):
        driver_importance(make_result(beta), data[data.region == "North"])


def test_config_and_posterior_drivers_must_agree(beta, data):
    result = make_result(beta)
    result.config.drivers = DRIVERS[::-1]
    with pytest.raises(ValueError, match="config and idata disagree"):
        driver_importance(result, data)


# ------------------------------------------------------------- importance_performance


def test_performance_mean_and_intervals(beta, data):
    ipa = importance_performance(make_result(beta), data).set_index(["segment", "driver"])
    north = data[data.region == "North"]
    x = north["rating_app"]
    half = 1.880794 * x.std(ddof=1) / np.sqrt(len(x))  # z for a 94% interval
    row = ipa.loc[("North", "rating_app")]
    assert row["performance_mean"] == pytest.approx(x.mean())
    assert row["performance_low"] == pytest.approx(x.mean() - half, rel=1e-5)
    assert row["performance_high"] == pytest.approx(x.mean() + half, rel=1e-5)
    assert row["performance_n"] == 30
    # a 0/1 driver gets a Beta(1 + k, 1 + n - k) interval inside [0, 1]
    from scipy import stats

    k = north["had_ticket"].sum()
    low, high = stats.beta.ppf([0.03, 0.97], 1 + k, 1 + 30 - k)
    row = ipa.loc[("North", "had_ticket")]
    assert (row["performance_low"], row["performance_high"]) == pytest.approx((low, high))
    assert ipa.loc[("North", "gap_delivery"), "performance_n"] == 29  # one null gap


def test_direction_defaults_override_and_normalisation(beta, data):
    ipa = importance_performance(make_result(beta), data).set_index(["segment", "driver"])
    assert ipa.loc[("All", "gap_delivery"), "direction"] == "lower_is_better"
    assert ipa.loc[("All", "rating_app"), "direction"] == "higher_is_better"
    gap = data["gap_delivery"]
    expected = 1 - (gap.mean() - gap.min()) / (gap.max() - gap.min())
    row = ipa.loc[("All", "gap_delivery")]
    assert row["performance_norm"] == pytest.approx(expected)
    assert row["performance_norm_low"] < row["performance_norm"] < row["performance_norm_high"]
    # South has the short gaps, so it performs better on a lower-is-better driver
    assert ipa.loc[("South", "gap_delivery"), "performance_norm"] > row["performance_norm"]

    flipped = importance_performance(
        make_result(beta), data, performance={"gap_delivery": "higher_is_better"}
    ).set_index(["segment", "driver"])
    assert flipped.loc[("All", "gap_delivery"), "performance_norm"] == pytest.approx(1 - expected)


def test_bad_performance_spec_is_explained(beta, data):
    with pytest.raises(ValueError, match=r"driver\(s\) \['rating_price'\] that are not in the model"):
        importance_performance(make_result(beta), data, performance={"rating_price": "lower_is_better"})
    with pytest.raises(ValueError, match="must be one of"):
        importance_performance(make_result(beta), data, performance={"gap_delivery": "lower"})


def test_quadrants_split_at_medians():
    # importance ranks a > b > c > d; performance (0-1 scale) b, d high, a, c low
    beta = np.broadcast_to(np.array([4.0, 3.0, 2.0, 1.0]), (1, 10, 1, 4)).copy()
    frame = pd.DataFrame(
        {
            "region": "North",
            "a": [1.0, 2.0, 0.0, 3.0, 4.0, 0.0],  # mean 1.67 on 0-4: low
            "b": [4.0, 3.0, 4.0, 0.0, 4.0, 3.0],  # mean 3.0: high
            "c": [0.0, 1.0, 0.0, 4.0, 1.0, 0.0],  # low
            "d": [4.0, 4.0, 3.0, 0.0, 4.0, 4.0],  # high
        }
    )
    result = make_result(beta, segments=["North"], drivers=["a", "b", "c", "d"])
    ipa = importance_performance(result, frame)
    quadrant = ipa[ipa.segment == "North"].set_index("driver")["quadrant"].to_dict()
    assert quadrant == {
        "a": "Concentrate here",
        "b": "Keep up the good work",
        "c": "Low priority",
        "d": "Possible overkill",
    }
    assert set(ipa["quadrant"]) <= set(QUADRANTS)


# ------------------------------------------------------------------ on a real short fit


@pytest.mark.slow
def test_summaries_of_a_real_fit_recover_the_dominant_driver():
    from cxkit.drivers import fit_drivers

    rng = np.random.default_rng(7)
    n = 300
    frame = pd.DataFrame(
        {
            "region": rng.choice(["North", "South"], n),
            "rating_delivery": rng.integers(1, 6, n).astype(float),
            "rating_app": rng.integers(1, 6, n).astype(float),
            "gap_delivery": rng.gamma(2.0, 5.0, n),
        }
    )
    # delivery rating dominates; the app barely matters; each hour late costs 0.05
    frame["nps"] = (
        2.0
        + 1.2 * frame.rating_delivery
        + 0.05 * frame.rating_app
        - 0.05 * frame.gap_delivery
        + rng.normal(0, 1.0, n)
    )
    drivers = ["rating_delivery", "rating_app", "gap_delivery"]
    result = fit_drivers(
        frame, outcome="nps", drivers=drivers, segments="region",
        draws=300, tune=300, chains=2, gate="off",
    )  # fmt: skip
    table = driver_importance(result, frame).set_index(["segment", "driver"])
    assert set(table.index.get_level_values("segment")) == {"North", "South", "All"}
    for segment in ["North", "South", "All"]:
        row = table.loc[(segment, "rating_delivery")]
        assert row["rank"] == 1
        assert row["effect_low"] < 1.2 < row["effect_high"]
        assert row["p_positive"] == 1.0
    assert table.loc[("All", "gap_delivery"), "p_positive"] < 0.1

    ipa = importance_performance(result, frame)
    assert ipa.loc[ipa.driver == "gap_delivery", "direction"].eq("lower_is_better").all()
    assert ipa["quadrant"].notna().all()
