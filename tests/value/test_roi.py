"""ROI from saved draws with edited costs, its summary, and its plots."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from cxkit.value.roi import (initiative_cost, plot_revenue_at_risk, plot_roi_distribution,
                             roi_draws, roi_summary)


@pytest.fixture
def tables():
    draws = pd.DataFrame({"initiative": ["a"] * 4 + ["b"] * 4, "draw": [0, 1, 2, 3] * 2,
                          "revenue_change": [50.0, 150.0, 250.0, 350.0, 0.0, 10.0, 20.0, 30.0]})
    ini = pd.DataFrame({"initiative": ["a", "b"], "n_targeted": [10, 10],
                        "cost_one_off": [100.0, 0.0], "cost_per_customer": [0.0, 1.0],
                        "cost_per_period": [0.0, 0.0], "periods": [0, 0]})
    return draws, ini


def test_roi_per_draw_and_edited_cost(tables):
    draws, ini = tables
    r = roi_draws(draws, ini)
    a = r[r.initiative == "a"]
    assert a["cost"].unique().tolist() == [100.0]
    assert a["roi"].tolist() == [-0.5, 0.5, 1.5, 2.5]
    r2 = roi_draws(draws, ini, {"a": {"cost_one_off": 200.0}})
    assert r2.loc[r2.initiative == "a", "net_value"].tolist() == [-150.0, -50.0, 50.0, 150.0]
    s = roi_summary(r2).set_index("initiative")
    assert s.loc["a", "p_roi_positive"] == 0.5 and s.loc["b", "cost"] == 10.0
    assert s.loc["a", "roi_mean"] == pytest.approx(0.0)
    assert s.loc["a", "net_value_low"] < s.loc["a", "net_value_mean"] < s.loc["a", "net_value_high"]
    assert initiative_cost({"cost_one_off": 1, "cost_per_customer": 2, "n_targeted": 3,
                            "cost_per_period": 4, "periods": 5}) == 27.0


def test_saved_total_cost_is_used_until_a_part_is_edited(tables):
    """A combination's row has no per-customer cost (NaN) and a total summed over its parts:
    the saved total stands until the user edits a part; NaN parts then count as 0."""
    draws, ini = tables
    combo = ini.iloc[[1]].assign(initiative="b", cost_per_customer=float("nan"),
                                 cost_one_off=5.0, cost=123.0)
    draws = draws[draws.initiative == "b"]
    r = roi_draws(draws, combo)
    assert r["cost"].unique().tolist() == [123.0]
    r2 = roi_draws(draws, combo, {"b": {"cost_one_off": 50.0}})
    assert r2["cost"].unique().tolist() == [50.0]


def test_zero_cost_has_no_roi_and_missing_columns_are_named(tables):
    draws, ini = tables
    r = roi_draws(draws, ini, {"b": {"cost_per_customer": 0.0}})
    assert r.loc[r.initiative == "b", "roi"].isna().all()
    with pytest.raises(ValueError, match="cost_one_off"):
        roi_draws(draws, ini.drop(columns="cost_one_off"))


def test_plots(tables):
    draws, ini = tables
    _, ax = plt.subplots()
    assert plot_roi_distribution(roi_draws(draws, ini), ax=ax) is ax
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "a: P(ROI > 0) = 75%", "b: P(ROI > 0) = 50%"]
    rar = pd.DataFrame({"segment_value": ["N", "S"], "revenue_at_risk_mean": [10.0, 5.0],
                        "revenue_at_risk_low": [8.0, 1.0], "revenue_at_risk_high": [12.0, 9.0],
                        "currency": "BRL"})
    _, ax = plt.subplots()
    plot_revenue_at_risk(rar, ax=ax)
    assert [p.get_width() for p in ax.patches] == [10.0, 5.0]
    assert ax.get_xlabel().startswith("BRL revenue at risk")
