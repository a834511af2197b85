"""Journeys page: funnel never above its previous step, filters, Sankey, durations, floor."""

from cxkit.dashboards import JourneysApp


def test_funnel_with_fallout_and_segment_filter(run_dir):
    app = JourneysApp(run_dir)
    f = app.funnel_table
    assert f["stage"].tolist() == ["awareness", "purchase", "delivery", "usage"]
    assert f["customers"].tolist() == [80, 60, 60, 40]
    assert f["fallout"].tolist() == [0, 20, 0, 20]
    before = app.funnel_plot.value
    app.segment_var.value = "region"
    assert app.segment_value.options == ("All", "North", "South", "Tiny")
    app.segment_value.value = "North"
    assert app.n_customers == 50
    assert app.funnel_table["customers"].iloc[0] == 50
    assert app.funnel_plot.value != before
    # funnel steps chosen by the user
    app.stages.value = ("awareness", "usage")
    assert app.funnel_table["customers"].tolist() == [50, len([i for i in range(80)
            if i % 8 < 5 and i % 4 != 3 and i % 2 == 0])]


def test_sankey_durations_and_gaps(run_dir):
    app = JourneysApp(run_dir)
    assert {"sankey", "funnel", "gaps"} <= set(app.figures)
    assert app.links["value"].sum() > 0
    d = app.durations_table.set_index("to_stage")
    assert d.loc["purchase", "median"] == 2.0 and d.loc["delivery", "median"] == 3.0
    before = app.sankey_plot.value
    app.level.value = "touchpoint"
    assert app.sankey_plot.value != before
    assert app.links["source"].str.contains("page_view").any()


def test_privacy_floor_hides_a_small_segment(run_dir):
    app = JourneysApp(run_dir)
    app.segment_var.value = "region"
    app.segment_value.value = "Tiny"  # 10 customers
    assert app.funnel_table.empty
    assert "too few responses" in app.figures["funnel"].axes[0].texts[0].get_text()
    assert app.gaps_html.value.count("too few responses") > 0
    assert "110%" not in app.gaps_html.value and "0.9" not in app.gaps_html.value
