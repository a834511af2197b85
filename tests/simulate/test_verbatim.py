"""Sample verbatims come from known topics, follow their rules, and touch no other column."""

import numpy as np
import pandas as pd

from cxkit.simulate import simulate, sources
from cxkit.simulate.verbatim import _BAD, _GOOD, TOPICS, make_verbatims


def test_topics_follow_their_rules(small_sample):
    sim = small_sample["sim"]
    a, vt = sim.analysis, sim.truth["verbatim_topics"]
    ids = vt["response_ids"]
    assert vt["topics"] == list(TOPICS) and vt["most_harmful"] == "slow_support"
    assert set(ids["slow_support"]) == set(a.loc[a["breach_support_ticket"] > 0, "response_id"])
    assert set(ids["late_delivery"]) == set(a.loc[a["gap_delivery"] > 0, "response_id"])
    mentioned = set().union(*map(set, ids.values()))
    assert mentioned == set(a["response_id"])  # every comment is about something
    assert vt["n_mentions"] == {t: len(v) for t, v in ids.items()}


def test_each_comment_holds_a_sentence_of_each_of_its_topics(small_sample):
    sim = small_sample["sim"]
    a, ids = sim.analysis.set_index("response_id"), sim.truth["verbatim_topics"]["response_ids"]
    for topic, rids in ids.items():
        pool = _BAD[topic] + _GOOD.get(topic, [])
        assert a.loc[rids, "verbatim"].map(lambda v: any(s in v for s in pool)).all(), topic


def test_praise_and_complaints_follow_the_ratings():
    rng = np.random.default_rng(1)
    r = {"rating_product": np.array([5, 1]), "rating_app": np.array([3, 3]),
         "rating_price": np.array([3, 3])}
    text, topics = make_verbatims(np.array([10, 2]), r, np.array([0, 0]), np.array([-1.0, -1.0]),
                                  rng)
    assert topics == [["product_quality"], ["product_quality"]]
    assert any(s in text[0] for s in _GOOD["product_quality"])
    assert any(s in text[1] for s in _BAD["product_quality"])


def test_the_text_changes_no_other_column(monkeypatch):
    """The verbatims draw only on their own random stream: replacing the text generator
    leaves every other column of every table, and the truth, as it was."""
    real = simulate(seed=5, n_customers=200)

    def blank(nps, ratings, breach, gap, rng):
        return ["x"] * len(nps), [[] for _ in nps]

    monkeypatch.setattr(sources, "make_verbatims", blank)
    other = simulate(seed=5, n_customers=200)
    for name, table in real.tables.items():
        cols = [c for c in table.columns if c != "verbatim"]
        pd.testing.assert_frame_equal(table[cols], other.tables[name][cols], obj=name)
    drop = {"verbatim_topics"}
    assert {k: v for k, v in real.truth.items() if k not in drop} == {
        k: v for k, v in other.truth.items() if k not in drop}
