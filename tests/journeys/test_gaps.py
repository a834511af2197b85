"""cxkit.journeys.gaps on the hand-made fixtures of conftest.py (expected values by hand)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxkit.journeys import (
    gap_by_segment,
    journey_gaps_table,
)
from cxkit.journeys.base import (
    JOURNEY_GAPS_COLUMNS,
)

# --- gaps --------------------------------------------------------------------------------

def test_gap_by_segment_stats_and_hdi(gaps, customers):
    g = gap_by_segment(gaps, customers, segment="region")
    assert g.columns.tolist() == ["touchpoint", "rule", "region", "n", "mean_gap",
                                  "median_gap", "n_met", "share_met", "share_met_low",
                                  "share_met_high", "unit"]
    assert g[["touchpoint", "region", "n", "n_met", "unit"]].values.tolist() == [
        ["delivery", "(missing)", 1, 0, "days"],
        ["delivery", "North", 2, 1, "days"],
        ["delivery", "South", 2, 2, "days"],
        ["support", "South", 2, 1, "hours"],
    ]
    np.testing.assert_allclose(g["mean_gap"], [1.0, 0.75, -0.5, 1.5])
    np.testing.assert_allclose(g["share_met"], [0.0, 0.5, 1.0, 0.5])
    # HDIs of Beta(1+met, 1+missed): one-sided at 0 and 1 met, symmetric at half
    q = stats.beta(2, 2).ppf([0.03, 0.97])
    np.testing.assert_allclose(g["share_met_low"], [0.0, q[0], 0.06 ** (1 / 3), q[0]],
                               atol=1e-3)
    np.testing.assert_allclose(g["share_met_high"], [1 - 0.06 ** 0.5, q[1], 1.0, q[1]],
                               atol=1e-3)
    assert (g["share_met_low"] <= g["share_met"]).all()
    assert (g["share_met"] <= g["share_met_high"]).all()


def test_gap_by_segment_touchpoint_filter_and_unknown_met(gaps, customers):
    gaps["met"] = gaps["met"].astype("boolean")
    gaps.loc[gaps["customer_id"].eq("C1"), "met"] = pd.NA  # e.g. not delivered yet
    g = gap_by_segment(gaps, customers, segment="plan", touchpoint="delivery")
    assert g["plan"].tolist() == ["(missing)", "basic", "pro"]
    basic = g.iloc[1]
    assert (basic["n"], basic["n_met"], basic["share_met"]) == (2, 1, 1.0)  # C1 unrated


def test_gap_by_segment_empty_and_missing(gaps, customers):
    g = gap_by_segment(gaps.iloc[0:0], customers, segment="region")
    assert g.empty and "share_met_high" in g.columns
    with pytest.raises(ValueError, match=r"\['met'\]"):
        gap_by_segment(gaps.drop(columns="met"), customers, segment="region")
    with pytest.raises(ValueError, match="tier"):
        gap_by_segment(gaps, customers, segment="tier")


def test_journey_gaps_table_stacks_segments(gaps, customers):
    t = journey_gaps_table(gaps, customers, segments=("region", "channel"))
    assert t.columns.tolist() == JOURNEY_GAPS_COLUMNS
    delivery = t.loc[t["touchpoint"] == "delivery"]
    assert delivery[["segment_var", "segment_value", "n"]].values.tolist() == [
        ["region", "(missing)", 1], ["region", "North", 2], ["region", "South", 2],
        ["channel", "(missing)", 1], ["channel", "app", 2], ["channel", "web", 2],
        ["overall", "all", 5],
    ]
    assert t.loc[t["touchpoint"] == "support", "segment_var"].tolist() == [
        "region", "channel", "channel", "overall"]
    assert journey_gaps_table(gaps, customers, segments=("region",), overall=False)["segment_var"].eq(
        "region").all()
    empty = journey_gaps_table(gaps.iloc[0:0], customers, segments=("region",))
    assert empty.empty and empty.columns.tolist() == JOURNEY_GAPS_COLUMNS
