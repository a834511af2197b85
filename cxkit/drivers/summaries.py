"""Tidy summaries of a fitted driver model and of raw score distributions.

Everything here turns posterior draws (or counts) into one tidy DataFrame with a
posterior mean and a 94% highest-density interval (HDI, computed by arviz), so the
notebooks, the published tables and the dashboards all read the same numbers:

- :func:`driver_importance` - effect and importance of each driver per segment, the
  probability that a driver is in the top ``k`` (``tables/driver_importance.parquet``);
- :func:`importance_performance` - importance against current performance, with the
  four classic IPA quadrants;
- :func:`nps_by_segment` / :func:`csat_by_segment` - NPS and top-2-box CSAT per segment
  with conjugate Bayesian intervals (no MCMC needed).

The driver functions only rely on this part of :class:`DriverResult`: ``.idata``
(posterior ``beta`` with dims ``segment, driver``), ``.config.drivers``,
``.config.segments``, ``.config.outcome`` and ``.segment_labels(data)``.

The code lives in :mod:`cxkit.drivers.importance` (posterior importance) and
:mod:`cxkit.drivers.scores` (score summaries); this module gathers their public names.
"""

from __future__ import annotations

from cxkit._checks import MISSING_SEGMENT
from cxkit.drivers.importance import (
    LOWER_IS_BETTER_PREFIXES,
    QUADRANTS,
    driver_importance,
    importance_performance,
    p_top_k,
)
from cxkit.drivers.scores import ALL, csat_by_segment, nps_by_segment
from cxkit.stats import HDI_PROB

__all__ = ["ALL", "HDI_PROB", "LOWER_IS_BETTER_PREFIXES", "MISSING_SEGMENT", "QUADRANTS",
           "csat_by_segment", "driver_importance", "importance_performance", "nps_by_segment",
           "p_top_k"]
