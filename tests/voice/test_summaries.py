"""Prevalence with intervals and the privacy floor, example comments, associations."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxkit.voice.summaries import example_verbatims, topic_association, topic_prevalence

TOPICS = pd.DataFrame({"topic": [1, 2], "label": ["late / delivery", "support / ticket"],
                       "keywords": ["late, delivery", "support, ticket"]})


def _data():
    # 100 commenters in North (40 mention topic 1), 10 in South (below the floor of 30),
    # 5 without a comment (left out of every share).
    rows = []
    for i in range(100):
        rows.append({"region": "North", "has_verbatim": 1, "topic_1": int(i < 40),
                     "topic_2": int(i >= 90), "weight_1": 0.9 if i < 40 else 0.1,
                     "weight_2": 0.9 if i >= 90 else 0.1, "verbatim": f"late parcel {i}",
                     "score": 2.0 if i < 40 else 4.0})
    for i in range(10):
        rows.append({"region": "South", "has_verbatim": 1, "topic_1": 1, "topic_2": 0,
                     "weight_1": 1.0, "weight_2": 0.0, "verbatim": f"slow {i}", "score": 3.0})
    for i in range(5):
        rows.append({"region": "North", "has_verbatim": 0, "topic_1": 0, "topic_2": 0,
                     "weight_1": 0.0, "weight_2": 0.0, "verbatim": None, "score": 5.0})
    return pd.DataFrame(rows)


def test_prevalence_counts_shares_and_jeffreys_interval():
    p = topic_prevalence(_data(), TOPICS, segments=["region"], min_n=30)
    assert list(p.columns) == ["topic", "label", "segment_var", "segment_value", "n",
                               "mentions", "share_mean", "share_low", "share_high", "note"]
    north = p.query("topic == 1 and segment_value == 'North'").iloc[0]
    assert (north["n"], north["mentions"]) == (100, 40)
    assert north["share_mean"] == pytest.approx(40.5 / 101)
    assert north["share_low"] == pytest.approx(stats.beta.ppf(0.03, 40.5, 60.5))
    assert north["share_high"] == pytest.approx(stats.beta.ppf(0.97, 40.5, 60.5))
    overall = p.query("topic == 1 and segment_var == 'all'").iloc[0]
    assert (overall["n"], overall["mentions"]) == (110, 50)
    assert "94%" in p.attrs["interval"]


def test_segments_below_the_floor_say_too_few_responses():
    p = topic_prevalence(_data(), TOPICS, segments=["region"], min_n=30)
    south = p.query("segment_value == 'South'")
    assert len(south) == 2 and (south["note"] == "too few responses").all()
    assert south[["mentions", "share_mean", "share_low", "share_high"]].isna().all().all()
    assert south["n"].tolist() == [10, 10]


def test_examples_top_weight_distinct_and_floored():
    ex = example_verbatims(_data(), TOPICS, min_n=30)
    t1 = ex[ex["topic"] == 1]
    assert t1["rank"].tolist() == [1, 2, 3] and t1["verbatim"].str.startswith("slow").all()
    assert t1["verbatim"].nunique() == 3
    t2 = ex[ex["topic"] == 2]   # 10 mentions < 30: no comment shown
    assert len(t2) == 1 and t2["verbatim"].iloc[0] == "" and t2["note"].iloc[0] == (
        "too few responses")


def test_examples_are_truncated_and_deduplicated_case_blind():
    d = _data()
    d.loc[:39, "verbatim"] = ["EXCELENTE"] * 20 + ["excelente"] * 10 + ["x" * 500] * 10
    ex = example_verbatims(d[d["region"] == "North"], TOPICS, min_n=30, max_chars=50)
    t1 = ex[ex["topic"] == 1]["verbatim"].tolist()
    assert len(t1) == 2 and sum(v.lower() == "excelente" for v in t1) == 1
    assert max(len(v) for v in t1) == 50 and t1[-1].endswith("…")


def test_association_difference_and_interval():
    a = topic_association(_data(), columns=["score"])
    row = a.query("topic == 1").iloc[0]
    assert (row["n_with"], row["n_without"]) == (50, 60)
    assert row["mean_with"] == pytest.approx((40 * 2 + 10 * 3) / 50)
    assert row["diff"] == pytest.approx(row["mean_with"] - 4.0)
    assert row["diff_low"] < row["diff"] < row["diff_high"] < 0


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match=r"missing column\(s\) \['region'\]"):
        topic_prevalence(_data().drop(columns="region"), TOPICS, segments=["region"])
    with pytest.raises(ValueError, match="no topic_<k> columns"):
        topic_prevalence(_data().filter(regex="^(?!topic_)"), TOPICS)
    assert np.isfinite(topic_association(_data(), columns=["score"])["diff"]).all()
