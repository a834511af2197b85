"""cxkit.journeys.cohorts on the hand-made fixtures of conftest.py (expected values by hand)."""

import numpy as np
import pandas as pd
import pytest

from cxkit.journeys import (
    cohort_retention,
    retention_matrix,
)
from cxkit.journeys.base import (
    RETENTION_COLUMNS,
)

# --- cohorts -----------------------------------------------------------------------------

def test_cohort_retention_monthly_label_cohorts(events, customers):
    r = cohort_retention(events, customers)
    assert list(r.columns) == RETENTION_COLUMNS
    assert r[["cohort", "period_index", "active", "cohort_size"]].values.tolist() == [
        ["2024-01", 0, 3, 3], ["2024-01", 1, 1, 3], ["2024-01", 2, 1, 3],
        # C5 never shows up: signed up, but not in the base; March observed, nobody active
        ["2024-02", 0, 1, 1], ["2024-02", 1, 0, 1],
    ]
    assert r["signed_up"].tolist() == [3, 3, 3, 2, 2]
    np.testing.assert_allclose(r["retention"], [1, 1 / 3, 1 / 3, 1, 0])


def test_cohort_retention_activity_stages_and_datetime_cohort(events, customers):
    r = cohort_retention(events, customers, cohort="signup_date",
                         activity_stages=["usage", "renewal"])
    assert r["cohort"].unique().tolist() == ["2024-01", "2024-02"]  # binned to months
    # only C1 is active (usage in Feb, renewal in Mar): the 2024-01 cohort's clock starts
    # at its first activity; the 2024-02 cohort has nobody who started
    assert r["active"].tolist() == [1, 1, 0]
    assert r["retention"].iloc[0] == 1.0 and np.isnan(r["retention"].iloc[2])


def test_cohort_retention_non_time_cohort_counts_from_first_activity(events, customers):
    r = cohort_retention(events, customers, cohort="region")
    assert r[["cohort", "period_index", "active", "cohort_size"]].values.tolist() == [
        ["North", 0, 2, 2], ["North", 1, 1, 2], ["North", 2, 1, 2],
        ["South", 0, 2, 2], ["South", 1, 0, 2], ["South", 2, 0, 2],
    ]
    # C3 starts in Feb, so by March it is observed one period, not two
    assert r.loc[r["cohort"] == "North", "observed"].tolist() == [2, 2, 1]
    np.testing.assert_allclose(r.loc[r["cohort"] == "North", "retention"], [1, .5, 1])


def test_cohort_retention_ignores_activity_before_cohort_start(events, customers, add_events):
    ev = add_events(events, [("e80", "C3", "2023-12-15", "ad_click", "awareness")])
    r = cohort_retention(ev, customers)
    assert r.loc[r["cohort"] == "2024-02", "active"].tolist() == [1, 0]


def test_cohort_retention_weekly_period(events, customers):
    r = cohort_retention(events, customers, period="W")
    first = r.loc[r["cohort"] == "2024-01"]
    # 2024-01-01 is a Monday: C1 and C4 in week 0, C2 in week 1 (Jan 10) and 2 (Jan 15, 20)
    # C1 and C4 start in week 0 (Jan 1, Jan 5), C2 in week 1 (Jan 10), so all three are
    # active in their own period 0; C2 again a week later (Jan 15, 20)
    assert first["active"].tolist()[:3] == [3, 1, 0]
    assert first["period_index"].max() == 8  # data ends 2024-03-01, in week 8

def test_retention_matrix_pivot(events, customers):
    m = retention_matrix(cohort_retention(events, customers))
    assert m.index.tolist() == ["2024-01", "2024-02"]
    assert m.columns.tolist() == [0, 1, 2]
    assert np.isnan(m.loc["2024-02", 2])
    assert retention_matrix(cohort_retention(events, customers), values="active").loc[
        "2024-01"].tolist() == [3, 1, 1]


def test_cohort_retention_empty_and_missing(events, customers):
    r = cohort_retention(events.iloc[0:0], customers.iloc[0:0])
    assert r.empty and list(r.columns) == RETENTION_COLUMNS
    r = cohort_retention(events.iloc[0:0], customers)
    assert r["active"].tolist() == [0, 0] and r["cohort_size"].tolist() == [0, 0]
    assert r["signed_up"].tolist() == [3, 2]
    with pytest.raises(ValueError, match=r"customers table is missing column\(s\) \['tier'\]"):
        cohort_retention(events, customers, cohort="tier")
    with pytest.raises(ValueError, match="stage"):
        cohort_retention(events.drop(columns="stage"), customers, activity_stages=["usage"])

def test_cohort_retention_quarter_labels_from_ingest(events, customers):
    # cxkit.ingest labels cohorts by calendar quarter ("2024Q1")
    customers["cohort"] = "2024Q1"
    r = cohort_retention(events, customers, period="Q")
    assert r[["cohort", "period_index", "active", "cohort_size"]].values.tolist() == [
        ["2024Q1", 0, 4, 4]]
    r = cohort_retention(events, customers, period="M")
    # read monthly, C3 (first active in Feb) starts in Feb: period 0 is everyone (100%)
    assert r["active"].tolist() == [4, 1, 1]
    assert r["observed"].tolist() == [4, 4, 3]
    assert r["retention"].iloc[0] == 1.0
