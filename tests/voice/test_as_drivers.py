"""Topic flags enter the driver model; duplicates of a driver and rare topics stay out."""

import numpy as np
import pandas as pd
import pytest

from cxkit.voice.as_drivers import topic_driver_columns


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    breach = (rng.random(n) < 0.2).astype(int)
    return pd.DataFrame({
        "rating": rng.integers(1, 6, n), "breach": breach,
        "topic_1": breach,                                # the same thing in words
        "topic_2": (rng.random(n) < 0.4).astype(int),
        "topic_3": np.r_[np.ones(3, int), np.zeros(n - 3, int)],  # 3 mentions only
    })


def test_duplicate_driver_and_rare_topic_are_left_out_with_reasons():
    topics = pd.DataFrame({"topic": [1, 2, 3], "label": ["support / ticket", "b", "c"]})
    cols, notes = topic_driver_columns(_data(), ["rating", "breach"], topics=topics)
    assert cols == ["rating", "topic_1", "topic_2"]
    assert notes == [
        "topic 3 (c) is left out: 3 of 200 responses mention it, too few to estimate its "
        "effect.",
        "breach is left out: it moves with topic 1 (support / ticket) (correlation 1.00), so "
        "the data cannot separate their effects."]


def test_independent_drivers_all_stay():
    cols, notes = topic_driver_columns(_data().drop(columns="topic_1"), ["rating", "breach"])
    assert cols == ["rating", "breach", "topic_2"] and len(notes) == 1


def test_without_topics_it_says_what_to_do():
    with pytest.raises(ValueError, match="join the topics first"):
        topic_driver_columns(_data().filter(regex="^(rating|breach)$"), ["rating"])
