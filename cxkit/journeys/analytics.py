"""Journey analytics on ingested tables, in one namespace: funnels, transitions, paths,
cohorts, gaps.

The code lives in :mod:`~cxkit.journeys.base` (columns, stage order, reading the
ingested journeys), :mod:`~cxkit.journeys.paths`, :mod:`~cxkit.journeys.cohorts` and
:mod:`~cxkit.journeys.gaps`; this module re-exports their public names so
``from cxkit.journeys.analytics import stage_funnel`` keeps working. Prefer
``from cxkit.journeys import stage_funnel``.
"""

from __future__ import annotations

from cxkit.journeys.base import (  # noqa: F401
    END,
    FUNNEL_COLUMNS,
    GAP_STAT_COLUMNS,
    JOURNEY_GAPS_COLUMNS,
    PATH_COLUMNS,
    RETENTION_COLUMNS,
    SANKEY_COLUMNS,
    SIDE_STAGES,
    STAGE_ORDER,
    START,
    TRANSITION_COLUMNS,
    _require,
)
from cxkit.journeys.cohorts import cohort_retention, retention_matrix  # noqa: F401
from cxkit.journeys.gaps import gap_by_segment, journey_gaps_table  # noqa: F401
from cxkit.journeys.paths import (  # noqa: F401
    sankey_links,
    stage_durations,
    stage_funnel,
    top_paths,
    transition_matrix,
)

__all__ = [
    "STAGE_ORDER",
    "stage_funnel",
    "stage_durations",
    "transition_matrix",
    "top_paths",
    "sankey_links",
    "cohort_retention",
    "retention_matrix",
    "gap_by_segment",
    "journey_gaps_table",
]
