"""Voice page: topics with keywords, prevalence by segment with intervals, trend across runs,
example comments, all behind the privacy floor."""

import numpy as np

from cxkit.dashboards import VoiceApp
from cxkit.dashboards.page import DASHBOARDS


def _body(app) -> str:
    return " ".join(getattr(c, "value", "") for c in app.body.children
                    if isinstance(getattr(c, "value", ""), str))


def test_topics_keywords_and_overall_shares(run_dir):
    app = VoiceApp(run_dir)
    body = _body(app)
    assert "late, delivery, days, parcel" in body and "app crash" in body
    assert app.segment_var.options == (("All", "all"), ("region", "region"))
    overall = app.prevalence.query("segment_var == 'all'").set_index("topic")
    # topic 1: 44 of 88 mention it; Jeffreys posterior mean (0.5 + 44) / 89
    assert np.isclose(overall.loc[1, "share_mean"], 44.5 / 89)
    assert overall.loc[1, "share_low"] < 0.5 < overall.loc[1, "share_high"]
    assert "50%" in app.segment_html.value  # 44.5/89 as a percentage
    assert "<b>Voice</b>" in app.container.children[0].value  # in the navigation
    assert ("voice", "Voice") in DASHBOARDS


def test_segment_filter_redraws_and_floor_hides_tiny(run_dir):
    app = VoiceApp(run_dir)
    before = app.plot.value
    app.segment_var.value = "region"
    assert app.plot.value != before
    rows = app.prevalence.query("segment_var == 'region'").set_index(["segment_value", "topic"])
    assert rows.loc[("Tiny", 1), "n"] == 8 and np.isnan(rows.loc[("Tiny", 1), "share_mean"])
    assert rows.loc[("North", 1), "share_mean"] == (0.5 + 23) / 46  # 23 of 45 even
    assert "too few responses" in app.segment_html.value
    ax = app.figures["prevalence"].axes[0]
    assert "too few responses to show: Tiny" in ax.get_title()
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["North", "South"]


def test_floor_from_parameter_hides_more(run_dir):
    app = VoiceApp(run_dir, min_n=50)  # South (35) and North (45) now under the floor
    app.segment_var.value = "region"
    assert app.prevalence.query("segment_var == 'region'")["share_mean"].isna().all()
    assert "too few responses" in app.figures["prevalence"].axes[0].texts[0].get_text()


def test_examples_three_per_topic_and_rare_topic_hidden(run_dir):
    app = VoiceApp(run_dir)
    ex = _body(app).split("What customers wrote")[1]
    assert ex.count("<li>&ldquo;") == 6  # topics 1 and 2: three each
    assert "days late" in ex and "too expensive" in ex
    assert "app crashed" not in ex  # topic 3: 9 mentions, under the floor of 30
    assert "too few responses to quote comments" in ex


def test_trend_against_previous_run(run_dir):
    app = VoiceApp(run_dir)
    trend = app.view["trend"].set_index("topic")
    assert trend.loc[1, "previous_run"] == "2024-04-01T060000Z"
    # 44 of 88 now, 22 of 88 before
    assert np.isclose(trend.loc[1, "delta"], 44.5 / 89 - 22.5 / 89)
    assert np.isclose(trend.loc[2, "delta"], 0.0)
    assert "Compared with run 2024-04-01T060000Z" in _body(app)


def test_first_run_has_no_trend_and_missing_tables_say_so(run_factory):
    app = VoiceApp(run_factory())
    assert app.view["trend"].empty
    assert "the trend appears from the second run on" in _body(app)
    bare = VoiceApp(run_factory(run_id="2024-06-01T060000Z", skip=("topic_examples",)))
    assert bare.body.children == ()
    assert "topic_examples" in bare.message.value
