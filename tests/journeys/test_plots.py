"""Journey plots: each returns the Axes it drew on, with one mark/label per table row."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

from cxkit.journeys import (
    cohort_retention,
    gap_by_segment,
    journey_gaps_table,
    plot_cohort_retention,
    plot_funnel,
    plot_gap_by_segment,
    plot_sankey,
    sankey_links,
    plot_transition_heatmap,
    stage_funnel,
    transition_matrix,
)


def _ticks(labels):
    return [t.get_text() for t in labels]


def test_plot_funnel_one_bar_per_stage(events):
    funnel = stage_funnel(events)
    _, ax = plt.subplots()
    out = plot_funnel(funnel, ax=ax, color="C2")
    assert out is ax
    assert len(ax.patches) == 6
    assert _ticks(ax.get_yticklabels()) == funnel["stage"].tolist()
    assert [p.get_width() for p in ax.patches] == [4, 2, 1, 1, 1, 1]
    assert ax.texts[0].get_text() == "4 (100%)"


def test_plot_funnel_falls_back_to_current_axes(events):
    fig, ax = plt.subplots()
    assert plot_funnel(stage_funnel(events)) is ax
    with pytest.raises(ValueError, match="customers"):
        plot_funnel(stage_funnel(events).drop(columns="customers"))


def test_plot_transition_heatmap_axes_in_journey_order(events):
    ax = plot_transition_heatmap(transition_matrix(events), ax=plt.subplots()[1])
    assert isinstance(ax, Axes)
    rows = ["start", "awareness", "consideration", "purchase", "delivery", "usage",
            "support", "renewal"]
    assert _ticks(ax.get_yticklabels()) == rows
    assert _ticks(ax.get_xticklabels()) == rows[1:] + ["end"]
    # annotated cells: the 12 observed transitions
    assert len([t for t in ax.texts if t.get_text()]) == 12


def test_plot_transition_heatmap_counts(events):
    ax = plot_transition_heatmap(transition_matrix(events), value="count", annot=False)
    grid = ax.collections[0].get_array()
    assert np.nansum(grid) == 17


def test_plot_cohort_retention_rows_are_cohorts(events, customers):
    _, ax = plt.subplots()
    out = plot_cohort_retention(cohort_retention(events, customers), ax=ax)
    assert out is ax
    assert _ticks(ax.get_yticklabels()) == ["2024-01", "2024-02"]
    assert _ticks(ax.get_xticklabels()) == ["0", "1", "2"]
    assert [t.get_text() for t in ax.texts][:3] == ["100%", "33%", "33%"]


@pytest.mark.parametrize("which", ["by_segment", "journey_table"])
def test_plot_gap_by_segment_one_row_per_group(gaps, customers, which):
    if which == "by_segment":
        table = gap_by_segment(gaps, customers, segment="region")
        first = "delivery / on_time: (missing)"
    else:
        table = journey_gaps_table(gaps, customers, segments=("region",))
        first = "delivery / on_time: region=(missing)"
    _, ax = plt.subplots()
    assert plot_gap_by_segment(table, ax=ax) is ax
    labels = _ticks(ax.get_yticklabels())
    assert len(labels) == len(table) and labels[0] == first
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["delivery", "support"]


def test_plot_sankey_draws_nodes_and_bands(events):
    links = sankey_links(events, max_steps=3)
    _, ax = plt.subplots()
    assert plot_sankey(links, ax=ax) is ax
    nodes = set(links["source"]) | set(links["target"])
    # one rectangle per node and one band per link
    assert len(ax.patches) == len(nodes) + len(links)
    labels = [t.get_text() for t in ax.texts]
    assert "awareness (4)" in labels  # all four customers start with awareness
    assert _ticks(ax.get_xticklabels()) == ["step 1", "step 2", "step 3"]
    # top=1 keeps the largest link of each step only
    _, ax = plt.subplots()
    plot_sankey(links, ax=ax, top=1)
    assert len(ax.patches) == 2 * 2 + 2 - 1  # 2 links, 3 nodes
    _, ax = plt.subplots()
    plot_sankey(links.iloc[0:0], ax=ax)
    assert ax.texts[0].get_text() == "no journeys to draw"
