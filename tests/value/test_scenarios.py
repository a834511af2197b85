import numpy as np
import pandas as pd
import pytest

from cxkit.value.scenarios import SCENARIO_COLUMNS, latest_responses, simulate_scenarios

PARAMS = {"a": [0.5, 1.0], "b": [0.3, 0.2], "c": [5.0, 6.0], "d": [0.05, 0.1], "sigma": 0.3}


@pytest.fixture
def setup():
    """20 customers, their latest responses (+ an older one each) and a value table."""
    rng = np.random.default_rng(1)
    n = 20
    ids = [f"c{i:02d}" for i in range(n)]
    plan = np.where(np.arange(n) % 2 == 0, "basic", "pro")
    gap = rng.integers(0, 5, n).astype(float)
    rating = rng.integers(1, 6, n).astype(float)
    latest = pd.DataFrame({"customer_id": ids, "plan": plan, "gap_delivery": gap,
                           "rating_app": rating,
                           "responded_at": pd.Timestamp("2024-06-01", tz="UTC"),
                           "nps": rng.integers(0, 11, n)})
    older = latest.assign(responded_at=pd.Timestamp("2024-01-01", tz="UTC"),
                          gap_delivery=99.0)
    after = latest.assign(responded_at=pd.Timestamp("2025-06-01", tz="UTC"), gap_delivery=-99.0)
    responses = pd.concat([older, latest, after], ignore_index=True).sample(frac=1,
                                                                            random_state=0)
    table = pd.DataFrame({"customer_id": ids, "plan": plan,
                          "score": latest["nps"].astype(float)})
    table.attrs.update({"score_name": "nps", "cutoff": "2025-01-01T00:00:00+00:00"})
    return responses, table, latest


def _analytic(table, beta, delta):
    """Sum over customers of EV(score + beta * delta) - EV(score) at the fixed parameters."""
    seg = (table["plan"] == "pro").to_numpy().astype(int)
    a, b, c, d = (np.asarray(PARAMS[k])[seg] for k in "abcd")

    def ev(s):
        x = s - 7.0
        return 1 / (1 + np.exp(-(a + b * x))) * np.exp(c + d * x + PARAMS["sigma"] ** 2 / 2)

    s = table["score"].to_numpy()
    return float((ev(s + beta * delta) - ev(s)).sum())


def test_latest_response_before_cutoff(setup):
    responses, table, latest = setup
    got = latest_responses(responses, table)
    assert got["customer_id"].tolist() == table["customer_id"].tolist()
    assert got["gap_delivery"].tolist() == latest["gap_delivery"].tolist()


def test_zero_delta_is_exactly_zero(setup, stand_in_driver, value_result_factory):
    responses, table, _ = setup
    vr = value_result_factory(PARAMS, noise=0.1)
    drv = stand_in_driver("gap_delivery", np.random.default_rng(0).normal(-0.5, 0.1, 300))
    out = simulate_scenarios(drv, vr, responses, table,
                             [{"driver": "gap_delivery", "delta": 0, "name": "nothing"}])
    assert list(out.columns) == SCENARIO_COLUMNS
    row = out.iloc[0]
    assert row["delta_score_mean"] == 0.0 and row["delta_revenue_mean"] == 0.0
    assert row["delta_revenue_low"] == 0.0 and row["delta_revenue_high"] == 0.0
    assert row["p_positive"] == 0.0 and row["delta_revenue_pct"] == 0.0


def test_fixed_draws_give_the_analytic_value(setup, stand_in_driver, value_result_factory):
    responses, table, _ = setup
    vr = value_result_factory(PARAMS, noise=0.0)
    drv = stand_in_driver("gap_delivery", np.full(200, -0.5))
    out = simulate_scenarios(drv, vr, responses, table,
                             [{"driver": "gap_delivery", "delta": -2}])
    want = _analytic(table, -0.5, -2)
    assert want > 0
    row = out.iloc[0]
    assert row["scenario"] == "gap_delivery -2"
    assert row["delta_score_mean"] == pytest.approx(1.0)
    assert row["delta_revenue_mean"] == pytest.approx(want, rel=1e-10)
    assert row["delta_revenue_low"] == pytest.approx(want, rel=1e-10)
    assert row["p_positive"] == 1.0


def test_interval_contains_analytic_and_sign_follows_effect(setup, stand_in_driver,
                                                            value_result_factory):
    responses, table, _ = setup
    vr = value_result_factory(PARAMS, noise=0.05, n_draws=1000)
    beta = np.random.default_rng(3).normal(-0.5, 0.05, 1000)  # longer delays lower NPS
    drv = stand_in_driver("gap_delivery", beta)
    out = simulate_scenarios(drv, vr, responses, table, [
        {"driver": "gap_delivery", "delta": -1, "name": "faster"},
        {"driver": "gap_delivery", "delta": 1, "name": "slower"},
        {"driver": "gap_delivery", "delta": -2, "name": "much faster"},
    ], seed=4).set_index("scenario")
    for name, delta in [("faster", -1), ("slower", 1), ("much faster", -2)]:
        want = _analytic(table, -0.5, delta)
        r = out.loc[name]
        assert r["delta_revenue_low"] < want < r["delta_revenue_high"], name
    assert out.loc["faster", "delta_revenue_mean"] > 0 and out.loc["faster", "p_positive"] > 0.99
    assert out.loc["slower", "delta_revenue_mean"] < 0 and out.loc["slower", "p_positive"] < 0.01
    assert out["rank"].to_dict() == {"much faster": 1, "faster": 2, "slower": 3}
    assert out.loc["faster", "delta_revenue_pct"] == pytest.approx(
        100 * out.loc["faster", "delta_revenue_mean"] / out.attrs["baseline_revenue_mean"])


def test_clip_keeps_ratings_in_range(setup, stand_in_driver, value_result_factory):
    responses, table, _ = setup
    responses = responses.assign(rating_app=5.0)
    vr = value_result_factory(PARAMS)
    drv = stand_in_driver("rating_app", np.full(50, 0.8))
    out = simulate_scenarios(drv, vr, responses, table,
                             [{"driver": "rating_app", "delta": 1, "clip": [1, 5]}])
    assert out.loc[0, "delta_revenue_mean"] == 0.0  # everyone is already at the top


def test_seed_makes_pairing_reproducible(setup, stand_in_driver, value_result_factory):
    responses, table, _ = setup
    vr = value_result_factory(PARAMS, noise=0.2)
    drv = stand_in_driver("gap_delivery", np.random.default_rng(0).normal(-0.5, 0.2, 300))
    sc = [{"driver": "gap_delivery", "delta": -1}]
    a = simulate_scenarios(drv, vr, responses, table, sc, seed=1)
    b = simulate_scenarios(drv, vr, responses, table, sc, seed=1)
    c = simulate_scenarios(drv, vr, responses, table, sc, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[0, "delta_revenue_low"] != c.loc[0, "delta_revenue_low"]


def test_bad_scenarios_explain_themselves(setup, stand_in_driver, value_result_factory):
    responses, table, _ = setup
    vr = value_result_factory(PARAMS)
    drv = stand_in_driver("gap_delivery", np.full(10, -0.5))
    with pytest.raises(KeyError, match="driver 'gap_shipping' is not a column of responses"):
        simulate_scenarios(drv, vr, responses, table, [{"driver": "gap_shipping", "delta": 1}])
    with pytest.raises(ValueError, match="needs 'driver' and 'delta'"):
        simulate_scenarios(drv, vr, responses, table, [{"driver": "gap_delivery"}])
    with pytest.raises(ValueError, match="repeated"):
        simulate_scenarios(drv, vr, responses, table,
                           [{"driver": "gap_delivery", "delta": 1, "name": "x"},
                            {"driver": "gap_delivery", "delta": 2, "name": "x"}])
    late = table.copy()
    late.attrs["cutoff"] = "2023-01-01T00:00:00+00:00"
    with pytest.raises(ValueError, match="20 customer.* no response before the cutoff"):
        simulate_scenarios(drv, vr, responses, late, [{"driver": "gap_delivery", "delta": 1}])


def test_draws_summarise_to_the_table(setup, stand_in_driver, value_result_factory):
    responses, table, _ = setup
    vr = value_result_factory(PARAMS, noise=0.1)
    drv = stand_in_driver("gap_delivery", np.random.default_rng(3).normal(-0.5, 0.1, 300))
    specs = [{"driver": "gap_delivery", "delta": -1, "name": "faster"},
             {"driver": "gap_delivery", "delta": 1, "name": "slower"}]
    out, draws = simulate_scenarios(drv, vr, responses, table, specs, return_draws=True)
    assert list(draws.columns) == ["scenario", "draw", "delta_revenue"]
    assert draws.groupby("scenario").size().to_dict() == {"faster": 300, "slower": 300}
    by = out.set_index("scenario")
    for name, d in draws.groupby("scenario"):
        assert d["delta_revenue"].mean() == pytest.approx(by.loc[name, "delta_revenue_mean"])
        assert (d["delta_revenue"] > 0).mean() == pytest.approx(by.loc[name, "p_positive"])
    assert by.loc["faster", "delta_revenue_mean"] > 0 > by.loc["slower", "delta_revenue_mean"]
