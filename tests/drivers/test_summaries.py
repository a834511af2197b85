"""cxkit.drivers.summaries: one namespace over the importance and score summaries."""

from cxkit._checks import MISSING_SEGMENT
from cxkit.drivers import importance, scores, summaries
from cxkit.stats import HDI_PROB


def test_summaries_gathers_importance_and_scores():
    assert summaries.driver_importance is importance.driver_importance
    assert summaries.importance_performance is importance.importance_performance
    assert summaries.p_top_k is importance.p_top_k
    assert summaries.nps_by_segment is scores.nps_by_segment
    assert summaries.csat_by_segment is scores.csat_by_segment
    assert (summaries.ALL, summaries.MISSING_SEGMENT, summaries.HDI_PROB) == ("All", MISSING_SEGMENT,
                                                                             HDI_PROB)
    assert summaries.QUADRANTS[0] == "Concentrate here"
