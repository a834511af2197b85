"""Revenue impact: link experience to retention and spend, price initiatives, sort customers.

- :func:`customer_value_table` (``table.py``): score before a cutoff, revenue after it.
- :func:`fit_value_model`, :class:`ValueResult` (``model.py``): retention logit + log-spend,
  pooled by segment.
- :func:`simulate_scenarios` (``scenarios.py``): "improve driver X by d" -> revenue change.
- :func:`assign_quadrants`, :func:`quadrant_summary` (``quadrants.py``).
- ``plot_scenarios``, ``plot_quadrants``, ``plot_retention_curve`` (``plots.py``).

Submodules import pymc / matplotlib only inside the functions that need them.
"""

from cxkit.value.model import ValueResult, build_value_model, fit_value_model
from cxkit.value.plots import plot_quadrants, plot_retention_curve, plot_scenarios
from cxkit.value.quadrants import QUADRANTS, assign_quadrants, quadrant_summary
from cxkit.value.scenarios import simulate_scenarios
from cxkit.value.table import customer_value_table, default_cutoff

__all__ = ["QUADRANTS", "ValueResult", "assign_quadrants", "build_value_model",
           "customer_value_table", "default_cutoff", "fit_value_model", "plot_quadrants",
           "plot_retention_curve", "plot_scenarios", "quadrant_summary", "simulate_scenarios"]
