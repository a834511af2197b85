"""Journey analytics: funnels, transitions, paths, cohorts, gaps by segment, and plots.

Functions take the tidy tables written by ``cxkit.ingest`` (``events``, ``customers``,
``gaps``, and ``journeys`` for transitions, paths and Sankey links: journeys are built once,
in ingestion) and return long-form DataFrames; the ``plot_*`` functions draw them.

>>> from cxkit.journeys import stage_funnel, plot_funnel  # doctest: +SKIP
>>> ax = plot_funnel(stage_funnel(events))                 # doctest: +SKIP
"""

from cxkit.journeys.analytics import (
    STAGE_ORDER,
    cohort_retention,
    gap_by_segment,
    journey_gaps_table,
    retention_matrix,
    SIDE_STAGES,
    sankey_links,
    stage_durations,
    stage_funnel,
    top_paths,
    transition_matrix,
)

_PLOTS = ("plot_funnel", "plot_transition_heatmap", "plot_cohort_retention",
          "plot_gap_by_segment", "plot_sankey")

__all__ = [
    "STAGE_ORDER", "SIDE_STAGES", "stage_funnel", "stage_durations", "transition_matrix", "top_paths", "sankey_links",
    "cohort_retention", "retention_matrix", "gap_by_segment", "journey_gaps_table", *_PLOTS,
]


def __getattr__(name: str):
    # matplotlib/seaborn load only when a plot is asked for, so analytics stay light
    if name in _PLOTS:
        from cxkit.journeys import plots

        return getattr(plots, name)
    raise AttributeError(f"module 'cxkit.journeys' has no attribute {name!r}")
