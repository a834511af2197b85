"""The snapshot shape of cxkit.value.table: one row per customer, no timestamps."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from cxkit.value.table import read_snapshot, segment_columns, snapshot_value_table

SHAPES = Path(__file__).resolve().parents[1] / "fixtures" / "shapes"
SNAP = pd.DataFrame({"id": ["b", "a", "c", "d"], "nps": ["9", "3", "", "7"],
                     "Churned?": [" No", "YES", "no", "no"], "next": ["100", "0", "5", "40.5"],
                     "last": ["80", "20", "1", "0"], "tier": ["gold", "basic", "gold", ""]})


def table(**kw):
    args = dict(customer_id="id", score="nps", churned="Churned?", revenue="next",
                true_values=["yes"], false_values=["no"], segments=["tier"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 2 retained < MIN_RETAINED
        return snapshot_value_table(SNAP, **(args | kw))


def test_snapshot_becomes_the_value_table():
    t = table(revenue_pre="last", score_name="recommend")
    assert list(t.columns) == ["customer_id", "tier", "score", "n_responses", "revenue_pre",
                               "retained", "revenue_post"]
    assert t["customer_id"].tolist() == ["a", "b", "d"]  # sorted; c has no score
    assert t["score"].tolist() == [3.0, 9.0, 7.0]
    assert t["retained"].tolist() == [False, True, True]  # churned "YES" (case, spaces ignored)
    assert t["revenue_post"].tolist() == [0.0, 100.0, 40.5]
    assert t["revenue_pre"].tolist() == [20.0, 80.0, 0.0]
    assert t["tier"].isna().tolist() == [False, False, True]
    assert t.attrs["n_without_score"] == 1 and t.attrs["n_retained"] == 2
    assert t.attrs["score_name"] == "recommend" and t.attrs["cutoff"] is None


def test_one_revenue_column_serves_both_and_is_stated():
    t = table()
    assert t["revenue_pre"].tolist() == t["revenue_post"].tolist()
    assert t.attrs["revenue_pre_from"] == "next"
    t2 = table(churned=None, retained="Churned?", true_values=["no"], false_values=["yes"])
    assert t2["retained"].tolist() == [False, True, True]


@pytest.mark.parametrize("change, needle", [
    ({"Churned?": [" No", "maybe", "no", "no"]}, r"column 'Churned\?', row 2: 'maybe'"),
    ({"next": ["100", "x", "5", "1"]}, r"column 'next', row 2: 'x' is not a number"),
    ({"id": ["a", "a", "c", "d"]}, r"row 1, column 'id': customer id 'a' is blank or repeated"),
])
def test_bad_values_name_file_row_and_column(change, needle):
    bad = SNAP.assign(**change)
    with pytest.raises(ValueError, match=needle):
        snapshot_value_table(bad, customer_id="id", score="nps", churned="Churned?",
                             revenue="next", true_values=["yes"], false_values=["no"],
                             file="snap.csv")


def test_missing_columns_and_flag_rule():
    with pytest.raises(KeyError, match=r"missing column\(s\) \['spend'\]"):
        snapshot_value_table(SNAP, customer_id="id", score="nps", churned="Churned?",
                             revenue="spend")
    with pytest.raises(ValueError, match="exactly one of churned= or retained="):
        snapshot_value_table(SNAP, customer_id="id", score="nps", revenue="next")


def test_read_snapshot_fixture_and_header_check(tmp_path):
    t = read_snapshot(SHAPES / "snapshot.csv", customer_id="account_no",
                      score="likelihood_to_recommend", churned="Churned?",
                      true_values=["yes"], false_values=["no"], revenue="revenue_next_12m",
                      revenue_pre="revenue_last_12m", segments=["segment_geo", "package"])
    assert len(t) == 700 and t["customer_id"].is_unique
    assert 0.3 < t["retained"].mean() < 0.95 and t.attrs["n_retained"] >= 20
    # a churned customer's next-period revenue is zero in this fixture
    assert (t.loc[~t["retained"], "revenue_post"] == 0).all()
    bad = tmp_path / "s.csv"
    bad.write_text("account_no,x,x\n1,2,3\n")
    with pytest.raises(Exception, match=r"s.csv: column 3 'x' repeats column 2"):
        read_snapshot(bad, customer_id="account_no", score="x", churned="x", revenue="x")


def test_segment_columns_skip_identifier_lists():
    cu = pd.DataFrame({"customer_id": ["a"], "area": ["N"], "cohort": ["2024Q1"],
                       "email": [["a@x"]]})
    assert segment_columns(cu) == ["area", "cohort"]
