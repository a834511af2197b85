"""The privacy floor helper: counts kept, estimates hidden below min_n, labels untouched."""

import numpy as np
import pandas as pd
import pytest

from cxkit.privacy import MIN_N, TOO_FEW, apply_min_n, min_n_of


@pytest.fixture
def table():
    return pd.DataFrame({"segment": ["North", "South", "Tiny"], "n": [120, 30, 29],
                         "nps_mean": [20.5, -3.0, 90.0], "nps_low": [15.0, -9.0, 60.0],
                         "rank": [1, 2, 3]})


def test_rows_below_floor_lose_every_estimate(table):
    out = apply_min_n(table)
    assert MIN_N == 30
    assert out["n"].tolist() == [120, 30, 29]           # count stays
    assert out["segment"].tolist() == ["North", "South", "Tiny"]
    assert out.loc[2, ["nps_mean", "nps_low", "rank"]].isna().all()
    assert out.loc[1, "nps_mean"] == -3.0               # exactly min_n is shown
    assert out["note"].tolist() == ["", "", TOO_FEW]
    assert table.loc[2, "nps_mean"] == 90.0             # input untouched


def test_as_text_for_people_and_custom_floor(table):
    out = apply_min_n(table, min_n=100, as_text=True)
    assert out["nps_mean"].tolist() == [20.5, TOO_FEW, TOO_FEW]
    assert "note" not in out
    out = apply_min_n(table.rename(columns={"n": "customers"}), estimates=["nps_mean"])
    assert np.isnan(out.loc[2, "nps_mean"]) and out.loc[2, "nps_low"] == 60.0


def test_no_count_column_is_an_error_not_a_leak(table):
    with pytest.raises(KeyError, match="privacy floor of 30 responses cannot be checked"):
        apply_min_n(table.drop(columns="n"))


def test_min_n_from_manifest():
    assert min_n_of({"parameters": {"dashboard": {"min_n": 5}}}) == 5
    assert min_n_of({"parameters": {}}) == MIN_N
    assert min_n_of(None) == MIN_N


def test_an_existing_note_is_kept_where_the_row_is_shown(table):
    out = apply_min_n(table.assign(note=["kept by the model", "", "also"]))
    assert out["note"].tolist() == ["kept by the model", "", TOO_FEW]


def test_min_n_from_a_manifest_model():
    from cxkit.rundir import Manifest

    m = Manifest(run_id="r", status="succeeded", started_at=None, finished_at=None,
                 parameters={"dashboard": {"min_n": 12}})
    assert min_n_of(m) == 12 and m.min_n == 12


def test_every_floored_table_names_columns_its_contract_has():
    """FLOORED_TABLES against the tables as the notebooks write them (the dashboards'
    fixture follows the contracts): a renamed count or estimate column would silently stop
    the floor, so the names must exist."""
    from cxkit.privacy import FLOORED_TABLES, floor_for_table
    from tests.dashboards import conftest as c

    imp = c.driver_importance()
    tables = {"journey_gaps": c.journey_gaps(), "driver_importance": imp,
              "importance_performance": c.importance_performance(imp),
              "revenue_at_risk": c.revenue_at_risk(), "nps_by_segment": c.nps_by_segment(),
              "topic_prevalence": c.voice_tables()["tables/topic_prevalence"]}
    from cxkit.voice import topic_association

    flags = pd.DataFrame({"has_verbatim": 1, "topic_1": [1] * 10 + [0] * 90,
                          "topic_2": [1] * 50 + [0] * 50, "nps": np.arange(100) % 11})
    tables["topic_association"] = topic_association(flags, columns=["nps"])
    tables["olist_topic_association"] = tables["topic_association"]
    from cxkit.journeys import cohort_retention

    cohorts = c.customers().assign(cohort=["2024-01" if i < 60 else "2024-02"  # 60 and 20
                                           for i in range(c.N_CUSTOMERS)])
    tables["cohort_retention"] = cohort_retention(c.events(), cohorts)
    for name, (n_col, estimates) in FLOORED_TABLES.items():
        if name not in tables:  # topic_driver_importance, olist_*: driver_importance's shape
            assert name.endswith("driver_importance"), name
            continue
        t = tables[name]
        counts = [n_col] if isinstance(n_col, str) else list(n_col)
        assert set(counts) <= set(t.columns), (name, n_col)
        assert set(estimates or ()) <= set(t.columns), (name, set(estimates) - set(t.columns))
        out = floor_for_table(name, t, 30)
        assert list(out.columns) == [*t.columns, *(["note"] if "note" not in t else [])]
        small = out[counts].min(axis=1) < 30
        assert small.any() and (out.loc[small, "note"] == TOO_FEW).all(), name
        hidden = estimates or [c for c in t.columns if c not in counts
                               and pd.api.types.is_numeric_dtype(t[c])]
        assert out.loc[small, list(hidden)].isna().all().all(), name
        assert out.loc[~small, list(hidden)].notna().any().any(), name
