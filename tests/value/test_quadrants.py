import pandas as pd
import pytest

from cxkit.value.quadrants import QUADRANTS, assign_quadrants, quadrant_summary


@pytest.fixture
def ties():
    t = pd.DataFrame({"customer_id": list("abcdef"),
                      "score": [7, 6.9, 10, 0, 7, 3],
                      "revenue_pre": [50.0, 50.0, 0.0, 100.0, 100.0, 0.0]})
    t.attrs["score_name"] = "nps"
    return t


def test_nps_defaults_and_ties(ties):
    q = assign_quadrants(ties)
    # NPS default 7 (ties high); revenue median 50 (ties low, strictly above is high)
    assert q.attrs["score_threshold"] == 7.0 and q.attrs["revenue_threshold"] == 50.0
    assert q["quadrant"].tolist() == ["Growth", "Dangling", "Growth", "At-risk", "Model",
                                      "Dangling"]
    assert list(q["quadrant"].cat.categories) == QUADRANTS
    assert (q["score_threshold"] == 7.0).all()


def test_non_nps_score_uses_median():
    t = pd.DataFrame({"score": [1, 2, 3, 4, 5], "revenue_pre": [0, 10, 20, 30, 40]})
    q = assign_quadrants(t)
    assert q.attrs["score_threshold"] == 3.0 and q.attrs["revenue_threshold"] == 20.0
    assert q["quadrant"].tolist() == ["Dangling", "Dangling", "Growth", "Model", "Model"]


def test_zero_median_revenue_never_high():
    t = pd.DataFrame({"score": [9, 9, 2, 2, 9], "revenue_pre": [0, 0, 0, 5, 7]})
    q = assign_quadrants(t, score_threshold=7)
    assert q.attrs["revenue_threshold"] == 0.0
    assert q["quadrant"].tolist() == ["Growth", "Growth", "Dangling", "At-risk", "Model"]


def test_summary_counts_shares_and_empty_quadrant(ties):
    s = quadrant_summary(assign_quadrants(ties, revenue_threshold=75))
    assert s["quadrant"].tolist() == QUADRANTS
    assert s["n_customers"].tolist() == [1, 2, 1, 2]
    assert s["revenue"].tolist() == [100.0, 50.0, 100.0, 50.0]
    assert s["share_customers"].sum() == pytest.approx(1.0)
    assert s["share_revenue"].tolist() == pytest.approx([1 / 3, 1 / 6, 1 / 3, 1 / 6])
    one = quadrant_summary(assign_quadrants(ties.iloc[[4]], score_threshold=7,
                                            revenue_threshold=0))
    assert one["n_customers"].tolist() == [1, 0, 0, 0]


def test_errors_name_column_and_rows(ties):
    with pytest.raises(KeyError, match="no column 'revenue_post'"):
        assign_quadrants(ties, revenue="revenue_post")
    bad = ties.copy()
    bad.loc[3, "score"] = None
    with pytest.raises(ValueError, match=r"rows \[3\]"):
        assign_quadrants(bad)


def test_parquet_round_trip_keeps_quadrants_and_thresholds(ties, tmp_path):
    q = assign_quadrants(ties)
    q.to_parquet(tmp_path / "quadrants.parquet", index=False)
    back = pd.read_parquet(tmp_path / "quadrants.parquet")
    assert back["quadrant"].astype(str).tolist() == q["quadrant"].astype(str).tolist()
    assert back["score_threshold"].iloc[0] == 7.0
    assert quadrant_summary(back)["n_customers"].tolist() == [1, 2, 1, 2]
