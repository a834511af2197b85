"""cxkit.journeys.analytics: one namespace over paths, cohorts and gaps, and a light import."""

import cxkit.journeys as journeys
from cxkit.journeys import analytics, cohorts, gaps, paths


def test_public_names_are_the_split_modules_functions():
    assert journeys.stage_funnel is analytics.stage_funnel is paths.stage_funnel
    assert journeys.cohort_retention is analytics.cohort_retention is cohorts.cohort_retention
    assert journeys.journey_gaps_table is analytics.journey_gaps_table is gaps.journey_gaps_table
    assert set(analytics.__all__) <= set(journeys.__all__)


def test_import_is_light():
    # plots load matplotlib only when asked for; importing analytics must not
    import subprocess
    import sys

    code = ("import sys, cxkit.journeys as j; assert 'matplotlib' not in sys.modules; "
            "j.plot_funnel; assert 'matplotlib' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
