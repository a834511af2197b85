"""Revenue at risk, quadrant contract and the at-risk list (fixed draws, no sampling)."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from cxkit.value.quadrants import QUADRANTS, assign_quadrants
from cxkit.value.risk import (RISK_COLUMNS, at_risk_list, customer_issues, quadrant_table,
                              revenue_at_risk)

PARAMS = {"a": [0.5, 1.0], "b": [0.3, 0.2], "c": [5.0, 6.0], "d": [0.05, 0.1], "sigma": 0.3}


@pytest.fixture
def q():
    rng = np.random.default_rng(3)
    n = 60
    t = pd.DataFrame({"customer_id": [f"c{i:02d}" for i in range(n)],
                      "plan": np.where(np.arange(n) % 3 == 0, "pro", "basic"),
                      "region": np.where(np.arange(n) % 2 == 0, "N", "S"),
                      "score": rng.integers(0, 11, n).astype(float),
                      "revenue_pre": rng.gamma(2, 100, n),
                      "retained": rng.random(n) < 0.7})
    t.attrs.update({"score_name": "nps", "horizon_days": 365})
    return assign_quadrants(t, score_threshold=7, revenue_threshold=150)


def _risk(t):
    seg = (t["plan"] == "pro").to_numpy().astype(int)
    a, b, c, d = (np.asarray(PARAMS[k])[seg] for k in "abcd")
    x = t["score"].to_numpy() - 7
    p = 1 / (1 + np.exp(-(a + b * x)))
    spend = np.exp(c + d * x + PARAMS["sigma"] ** 2 / 2)
    return 1 - p, spend


def test_quadrant_contract_counts_add_up(q):
    out = quadrant_table(q, ["plan", "region"])
    assert list(out.columns) == ["customer_id", "plan", "region", "score", "revenue_pre",
                                 "quadrant", "active"]
    assert out["quadrant"].value_counts().sum() == len(q) == 60
    assert set(out["quadrant"]) <= set(QUADRANTS)
    assert out["active"].tolist() == q["retained"].tolist()
    # by hand: At-risk = score < 7 and revenue > 150
    hand = ((q["score"] < 7) & (q["revenue_pre"] > 150)).sum()
    assert (out["quadrant"] == "At-risk").sum() == hand


def test_revenue_at_risk_matches_hand_sum_of_active_customers(q, value_result_factory):
    vr = value_result_factory(PARAMS, n_draws=100)
    out = revenue_at_risk(q, vr, segments=["plan"], currency="EUR")
    assert list(out.columns) == RISK_COLUMNS
    p_leave, spend = _risk(q)
    act = q["retained"].to_numpy()
    for quad in QUADRANTS:
        sel = act & (q["quadrant"] == quad).to_numpy()
        row = out.query("quadrant == @quad and segment_var == '(all)'").iloc[0]
        assert row["customers"] == sel.sum()
        assert row["revenue_at_risk_mean"] == pytest.approx((p_leave * spend)[sel].sum())
        per_plan = out.query("quadrant == @quad and segment_var == 'plan'")
        assert per_plan["customers"].sum() == sel.sum()
        assert per_plan["revenue_at_risk_mean"].sum() == pytest.approx(
            row["revenue_at_risk_mean"])
    total = out.query("quadrant == '(all)' and segment_var == '(all)'").iloc[0]
    assert total["customers"] == act.sum()
    assert (out["currency"] == "EUR").all() and (out["horizon_days"] == 365).all()
    # a two-year horizon doubles the money at risk (linear scaling)
    two = revenue_at_risk(q, vr, segments=[], currency="EUR", horizon_days=730)
    assert two["revenue_at_risk_mean"].iloc[-1] == pytest.approx(
        2 * total["revenue_at_risk_mean"])


def test_interval_widens_with_posterior_spread(q, value_result_factory):
    vr = value_result_factory(PARAMS, n_draws=400, noise=0.1)
    out = revenue_at_risk(q, vr, segments=[], currency="EUR")
    r = out.iloc[-1]
    assert r["revenue_at_risk_low"] < r["revenue_at_risk_mean"] < r["revenue_at_risk_high"]


def test_at_risk_list_excludes_customers_who_left(q, value_result_factory):
    vr = value_result_factory(PARAMS, n_draws=50)
    out = at_risk_list(q, vr, segments=["plan", "region"])
    assert list(out.columns) == ["customer_id", "plan", "region", "score", "p_leave_mean",
                                 "expected_value_mean", "revenue_at_risk_mean", "issue_1",
                                 "issue_2", "issue_3"]
    left = set(q.loc[~q["retained"], "customer_id"])
    at_risk = q[(q["quadrant"] == "At-risk") & q["retained"]]
    assert left.isdisjoint(out["customer_id"])
    assert set(out["customer_id"]) == set(at_risk["customer_id"]) and len(out) > 0
    assert out["revenue_at_risk_mean"].is_monotonic_decreasing
    p_leave, spend = _risk(q)
    i = q.index[q["customer_id"] == out["customer_id"].iloc[0]][0]
    assert out["p_leave_mean"].iloc[0] == pytest.approx(p_leave[i])
    assert out["revenue_at_risk_mean"].iloc[0] == pytest.approx(p_leave[i] * spend[i])


def test_issues_in_words_worst_first():
    import arviz as az

    drivers = ["gap_delivery", "breach_support_ticket", "rating_app", "had_support_ticket"]
    beta = np.array([[-0.3, -0.9, 0.4, -0.5], [-0.3, -0.9, 0.4, -0.5]])
    idata = az.from_dict(posterior={"beta": beta[None, None]},
                         coords={"segment": ["N", "S"], "driver": drivers},
                         dims={"beta": ["segment", "driver"]})
    drv = SimpleNamespace(idata=idata, config=SimpleNamespace(drivers=drivers,
                                                              segments=["region"]),
                          segment_labels=lambda d: d["region"].astype(str))
    latest = pd.DataFrame({"region": ["N", "S", "N"],
                           "gap_delivery": [6.0, 0.0, 0.0],
                           "breach_support_ticket": [2.0, 0.0, 0.0],
                           "rating_app": [1.0, 5.0, 3.0],
                           "had_support_ticket": [1.0, 0.0, 0.0]})
    out = customer_issues(drv, latest, units={"delivery": "days"})
    # customer 0: breach -0.9 * (2 - 2/3) = -1.2, gap -0.3 * (6 - 2) = -1.2, app 0.4 * (1 - 3)
    # = -0.8, support ticket -0.5 * (1 - 1/3) = -0.33: the three worst, in that order
    c0 = out.iloc[0].tolist()
    assert set(c0) == {"delivery 6.0 days late", "2 broken support ticket promises",
                       "rating app 1 (typical 3.0)"}
    assert c0[0] in ("delivery 6.0 days late", "2 broken support ticket promises")
    assert c0[2] == "rating app 1 (typical 3.0)"
    # customer 1 is better than typical on every measure: nothing to name
    assert out.iloc[1].tolist() == ["", "", ""]


def test_fewer_drivers_than_issues_leave_the_rest_blank():
    """A snapshot run with two drivers still gets issue_1..issue_3 (the third blank)."""
    import arviz as az

    drivers = ["gap_delivery", "rating_app"]
    idata = az.from_dict(posterior={"beta": np.array([[-0.3, 0.4]])[None, None]},
                         coords={"segment": ["N"], "driver": drivers},
                         dims={"beta": ["segment", "driver"]})
    drv = SimpleNamespace(idata=idata, config=SimpleNamespace(drivers=drivers,
                                                              segments=["region"]),
                          segment_labels=lambda d: d["region"].astype(str))
    latest = pd.DataFrame({"region": ["N", "N"], "gap_delivery": [4.0, 0.0],
                           "rating_app": [1.0, 5.0]})
    out = customer_issues(drv, latest, units={"delivery": "days"})
    assert list(out.columns) == ["issue_1", "issue_2", "issue_3"]
    # app 0.4 * (1 - 3) = -0.8 hurts more than the delay -0.3 * (4 - 2) = -0.6
    assert out.iloc[0].tolist() == ["rating app 1 (typical 3.0)", "delivery 4.0 days late", ""]
