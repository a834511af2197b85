"""The separation detector: constructed cases with a known answer, in the fit and its tables."""

import numpy as np
import pandas as pd
import pytest

from cxkit.drivers.model import prepare_data
from cxkit.drivers.separation import (
    cell_separation,
    detect_separation,
    separation_warning,
)
from cxkit.simulate import simulate_responses

FOUR = {"rating_product": 0.6, "rating_delivery": 0.4, "rating_app": 0.2,
        "had_support_ticket": -0.5}


def test_quasi_complete_single_driver_with_its_words():
    X = pd.DataFrame({"rating": [1, 2, 3, 4, 4, 4, 4, 5, 5], "flag": [0, 1, 0, 1, 0, 1, 0, 1, 0]})
    y = [0, 0, 0, 0, 1, 1, 0, 1, 1]
    found = detect_separation(X, y, outcome="satisfied")
    assert found[["segment", "driver", "issue", "n"]].values.tolist() == [
        ["All", "rating", "quasi-complete separation", 9]]
    # Among the 4s, which the rating leaves undecided, the flag now splits the outcome:
    # its effect has no finite estimate either, and the detector says so.
    y_flag = [0, 0, 0, 1, 0, 1, 0, 1, 1]
    found = detect_separation(X, y_flag, outcome="satisfied")
    assert found[["driver", "issue"]].values.tolist() == [
        ["rating", "quasi-complete separation"], ["flag", "complete separation"]]
    found = detect_separation(X, y, outcome="satisfied")
    detail = found["detail"].iloc[0]
    assert "rating < 4 has the lowest satisfied (0)" in detail
    assert "rating > 4 the highest (1)" in detail and "only rating = 4 has both" in detail
    assert "positive" in detail


def test_complete_negative_and_combination_and_none():
    X = pd.DataFrame({"wait_days": [0, 1, 2, 5, 6, 9]})
    found = detect_separation(X, [1, 1, 1, 0, 0, 0])
    assert found["issue"].tolist() == ["complete separation"]
    assert "negative" in found["detail"].iloc[0]
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.integers(1, 6, 400), "b": rng.integers(1, 6, 400)})
    # Neither driver alone separates, their sum does: only the linear programme sees it.
    y = (X["a"] + X["b"] > 6).astype(int)
    found = detect_separation(X, y)
    assert sorted(found["driver"]) == ["a", "b"]
    assert set(found["issue"]) == {"complete separation"}
    assert detect_separation(X, y, combinations=False).empty
    assert detect_separation(X, rng.integers(0, 2, 400)).empty


def test_segment_wide_issues_and_no_variation():
    X = pd.DataFrame({"r": [1, 2, 3, 4, 1, 2, 3, 4, 2, 2], "f": [0, 1, 0, 1, 0, 1, 1, 0, 1, 1]})
    y = [1, 1, 1, 1, 0, 2, 1, 0, 2, 0]
    groups = ["A"] * 4 + ["B"] * 4 + ["C"] * 2
    found = detect_separation(X, y, groups, categories=[0, 1, 2, 3])
    by = {(s, d, i) for s, d, i in found[["segment", "driver", "issue"]].itertuples(index=False)}
    assert ("A", "", "single outcome") in by
    assert ("B", "", "empty outcome category") in by
    assert ("C", "r", "no variation") in by
    assert not any(s == "A" and d for s, d, _ in by)  # single outcome says it all for A
    with pytest.raises(ValueError, match=r"values \[2\] are not in categories"):
        detect_separation(X, y, groups, categories=[0, 1])


def test_flags_the_constructed_case_and_only_that_one():
    """The benchmark's shape, smaller: 6 segments from two crossed levels, one separated
    driver in one segment; bernoulli and ordinal."""
    for family in ("bernoulli", "ordinal"):
        data, truth = simulate_responses(
            6000, n_segments=2, two_levels=True, drivers=FOUR, family=family, seed=4,
            separate={"segment": "S2|a", "driver": "rating_delivery"})
        prep = prepare_data(data, outcome="y", drivers=list(FOUR),
                            segments=["segment", "subsegment"], family=family)
        found = cell_separation(prep)
        assert found[["segment", "driver", "issue"]].values.tolist() == [
            ["S2|a", "rating_delivery", "quasi-complete separation"]], family
        assert found["n"].iloc[0] == (data["segment"].eq("S2") & data["subsegment"].eq("a")).sum()
        assert truth["separated"] == [{"segment": "S2|a", "driver": "rating_delivery",
                                       "kind": "quasi-complete"}]
        text = separation_warning(found, "y")
        assert text.startswith("y is separated by rating_delivery in S2|a (quasi-complete)")
    clean, _ = simulate_responses(6000, n_segments=2, two_levels=True, drivers=FOUR,
                                  family="bernoulli", seed=4)
    prep = prepare_data(clean, outcome="y", drivers=list(FOUR),
                        segments=["segment", "subsegment"], family="bernoulli")
    assert cell_separation(prep).empty
