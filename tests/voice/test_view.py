"""The dashboard's voice view reads saved tables and matches topics across runs."""

import json

import numpy as np
import pandas as pd
import pytest

from cxkit.publish import save_table
from cxkit.voice.view import match_topics, previous_run, voice_view


def _run(root, name, finished, topics, shares):
    d = root / name
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps({  # as the runner writes it
        "run_id": name, "status": "failed" if name.endswith(".failed") else "succeeded",
        "started_at": finished, "finished_at": finished}))
    save_table(pd.DataFrame(topics), d, "topics")
    save_table(pd.DataFrame({
        "topic": list(shares), "label": "x", "segment_var": "all", "segment_value": "all",
        "n": 100, "mentions": [int(100 * s) for s in shares.values()],
        "share_mean": list(shares.values()), "share_low": 0.0, "share_high": 1.0,
        "note": ""}), d, "topic_prevalence")
    save_table(pd.DataFrame({"topic": [1], "label": ["x"], "rank": [1], "verbatim": ["hi"],
                             "weight": [1.0], "note": [""]}), d, "topic_examples")
    return d


@pytest.fixture
def runs(tmp_path):
    old = _run(tmp_path, "r1", "2026-11-01T00:00:00Z",
               {"topic": [1, 2], "label": ["a", "b"],
                "keywords": ["support, ticket, answer", "late, delivery, parcel"]},
               {1: 0.10, 2: 0.30})
    new = _run(tmp_path, "r2", "2026-11-20T00:00:00Z",
               {"topic": [1, 2, 3], "label": ["a", "b", "c"],
                "keywords": ["late, delivery, courier", "support, ticket, week", "app, crash"]},
               {1: 0.25, 2: 0.15, 3: 0.05})
    # A failed run and a later run must never be picked as "previous".
    _run(tmp_path, "r0.failed", "2026-11-10T00:00:00Z", {"topic": [1], "label": ["z"],
         "keywords": ["z"]}, {1: 0.5})
    _run(tmp_path, "r3", "2026-11-25T00:00:00Z", {"topic": [1], "label": ["z"],
         "keywords": ["z"]}, {1: 0.5})
    return old, new


def test_previous_run_is_the_latest_earlier_good_one(runs):
    old, new = runs
    assert previous_run(new) == old.resolve()
    assert previous_run(old) is None


def test_trend_matches_topics_by_keywords(runs):
    old, new = runs
    view = voice_view(new)
    assert set(view) == {"topics", "by_segment", "examples", "trend"}
    t = view["trend"].set_index("topic")
    assert t.loc[1, "previous_topic"] == 2 and t.loc[2, "previous_topic"] == 1
    assert t.loc[1, "delta"] == pytest.approx(0.25 - 0.30)
    assert t.loc[2, "delta"] == pytest.approx(0.15 - 0.10)
    assert np.isnan(t.loc[3, "previous_topic"]) and np.isnan(t.loc[3, "delta"])
    assert (t["previous_run"] == "r1").all()


def test_no_previous_run_gives_an_empty_trend(runs):
    old, _ = runs
    view = voice_view(old)
    assert view["trend"].empty and "delta" in view["trend"].columns
    assert voice_view(old, previous_dir=None)["trend"].empty


def test_missing_tables_say_which_notebook(tmp_path):
    with pytest.raises(FileNotFoundError, match="topics"):
        voice_view(tmp_path)


def test_match_topics_threshold():
    now = pd.DataFrame({"topic": [1], "keywords": ["a, b, c, d"]})
    before = pd.DataFrame({"topic": [7], "keywords": ["a, x, y, z"]})
    assert np.isnan(match_topics(now, before)["previous_topic"].iloc[0])
    assert match_topics(now, before, min_overlap=0.1)["previous_topic"].iloc[0] == 7
