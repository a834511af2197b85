"""Drivers page: plain words with units, segments side by side, importance vs performance."""

from cxkit.dashboards import DriversApp


def test_plain_words_with_units_and_direction(run_dir):
    app = DriversApp(run_dir)
    assert app.left.value == "All" and app.right.value == "North"
    words = app.left_words.value
    assert "Price rating: +0.45 points on the 0-10 recommend scale per rating point" in words
    assert "a higher price rating goes with a higher answer" in words
    right = app.right_words.value
    assert right.index("Delivery delay: -0.80") < right.index("Price rating")  # North's top
    assert "per day late" in right
    assert "NPS (-100 to 100)" in app.container.children[0].value + str(
        [c.value for c in app.body.children if hasattr(c, "value")])


def test_segment_change_redraws_and_floor_hides_small_segment(run_dir):
    app = DriversApp(run_dir)
    before = app.right_plot.value
    app.right.value = "Tiny"  # 12 responses
    assert app.right_plot.value != before
    assert "too few responses" in app.right_words.value
    assert "+2.00" not in app.right_words.value
    nps = [c.value for c in app.body.children if "NPS by segment" in getattr(c, "value", "")][0]
    assert "80.0" not in nps and "too few responses" in nps  # Tiny's NPS hidden
    assert "ip" in app.figures
