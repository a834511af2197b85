"""Tests for cxkit.drivers.plots on small hand-made summary tables (Agg backend)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cxkit.drivers.plots import (  # noqa: E402
    plot_driver_effects,
    plot_importance_performance,
    plot_nps_by_segment,
    plot_top3_probability,
)
from cxkit.drivers.summaries import nps_by_segment  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def importance():
    """A driver_importance-shaped table: 3 drivers x (North, All)."""
    rows = []
    for segment, scale in [("North", 1.0), ("All", 0.8)]:
        for driver, effect, p in [("rating_app", 0.5, 0.9), ("gap_delivery", -2.0, 1.0),
                                  ("had_ticket", 0.1, 0.2)]:  # fmt: skip
            e = effect * scale
            rows.append(
                {
                    "segment": segment, "driver": driver, "effect_mean": e,
                    "effect_low": e - 0.3, "effect_high": e + 0.2,
                    "importance_mean": abs(e), "importance_low": abs(e) - 0.1,
                    "importance_high": abs(e) + 0.1, "p_top3": p,
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture
def ipa(importance):
    table = importance.copy()
    table["performance_norm"] = np.tile([0.2, 0.7, 0.9], 2)
    table["performance_norm_low"] = table["performance_norm"] - 0.05
    table["performance_norm_high"] = table["performance_norm"] + 0.05
    table["importance_median"] = table.groupby("segment")["importance_mean"].transform("median")
    table["performance_median"] = 0.7
    table["quadrant"] = np.tile(["Low priority", "Keep up the good work", "Possible overkill"], 2)
    return table


def test_driver_effects_forest_plot(importance):
    ax = plot_driver_effects(importance, segment="North")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # largest |effect| at the top (last tick)
    assert labels == ["had_ticket", "rating_app", "gap_delivery"]
    assert ax.get_title() == "Driver effects: North"
    bars = ax.containers[0]
    assert len(bars.lines[2][0].get_segments()) == 3  # one HDI bar per driver
    segment = bars.lines[2][0].get_segments()[2]  # gap_delivery: -2 with HDI [-2.3, -1.8]
    assert segment[:, 0] == pytest.approx([-2.3, -1.8])


def test_driver_effects_defaults_to_all_and_uses_given_axes(importance):
    fig, (left, right) = plt.subplots(1, 2)
    ax = plot_driver_effects(importance, ax=right, value="importance")
    assert ax is right
    assert not left.has_data()
    assert ax.get_title() == "Driver importances: All"


def test_one_segment_must_be_chosen_without_all(importance):
    two = importance.assign(segment=importance["segment"].replace("All", "South"))
    with pytest.raises(ValueError, match=r"choose one with segment="):
        plot_driver_effects(two)
    with pytest.raises(ValueError, match=r"'East' is not in the table"):
        plot_top3_probability(two, segment="East")
    with pytest.raises(ValueError, match=r"driver_importance table is missing column\(s\) \['p_top3'\]"):
        plot_top3_probability(two.drop(columns="p_top3"), segment="South")


def test_importance_performance_quadrant_plot(ipa):
    ax = plot_importance_performance(ipa)
    texts = [t.get_text() for t in ax.texts]
    assert sorted(texts) == ["gap_delivery", "had_ticket", "rating_app"]
    assert len(ax.containers) == 3  # one errorbar group per quadrant present
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Keep up the good work", "Low priority", "Possible overkill"]
    median_lines = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(median_lines) == 2
    assert median_lines[0].get_xdata()[0] == pytest.approx(0.7)
    assert median_lines[1].get_ydata()[0] == pytest.approx(0.4)  # median of 0.4, 1.6, 0.08


def test_nps_plot_has_one_row_per_segment():
    frame = pd.DataFrame({"region": ["North"] * 6 + ["South"] * 4, "nps": [10, 9, 3, 8, 10, 0, 7, 7, 9, 2]})
    table = nps_by_segment(frame, segment="region", score="nps", draws=500)
    ax = plot_nps_by_segment(table)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["All (n=10)", "South (n=4)", "North (n=6)"]
    assert ax.get_xlim() == (-100, 100)
    observed = ax.collections[-1].get_offsets()[:, 0]
    assert list(observed) == pytest.approx(table["nps_observed"].iloc[::-1].tolist())


def test_top3_probability_bars(importance):
    ax = plot_top3_probability(importance, segment="North")
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([0.2, 0.9, 1.0])  # sorted, largest at the top
    assert [t.get_text() for t in ax.get_yticklabels()] == ["had_ticket", "rating_app", "gap_delivery"]
