"""Revenue impact: link experience to retention and spend, price initiatives, sort customers.

- :func:`customer_value_table` (``table.py``): score before a cutoff, revenue after it.
- :func:`fit_value_model` (``model.py``), :class:`ValueResult` (``result.py``): retention
  logit + log-spend, pooled by one segment column and adjusted for the others;
  :func:`detect_separation` (``separation.py``): all-or-nothing retention in words.
- :func:`load_initiatives` (``initiatives.py``), :func:`evaluate_initiatives`
  (``impact.py``): cost, customers kept, revenue, net value, ROI, payback with 90% intervals,
  each customer's new score given the one they gave (``counterfactual.py``);
  :func:`specification_sensitivity` (``sensitivity.py``).
- :func:`simulate_scenarios` (``scenarios.py``): "improve driver X by d" -> revenue change.
- :func:`assign_quadrants`, :func:`quadrant_summary` (``quadrants.py``);
  :func:`revenue_at_risk`, :func:`at_risk_list`, :func:`customer_issues` (``risk.py``).
- ``plot_initiatives``, ``plot_scenarios``, ``plot_quadrants``, ``plot_retention_curve``.

Submodules import pymc / matplotlib only inside the functions that need them.
"""

from cxkit.value.impact import evaluate_initiatives
from cxkit.value.initiatives import InitiativeError, load_initiatives, resolve
from cxkit.value.model import build_value_model, fit_value_model
from cxkit.value.plots import (plot_initiatives, plot_quadrants, plot_retention_curve,
                               plot_scenarios)
from cxkit.value.quadrants import QUADRANTS, assign_quadrants, quadrant_summary
from cxkit.value.result import ValueResult
from cxkit.value.risk import (active_mask, at_risk_list, customer_issues, quadrant_table,
                              revenue_at_risk)
from cxkit.value.scenarios import latest_responses, simulate_scenarios
from cxkit.value.sensitivity import specification_sensitivity
from cxkit.value.separation import detect_separation
from cxkit.value.table import customer_value_table, default_cutoff

__all__ = ["QUADRANTS", "InitiativeError", "ValueResult", "active_mask", "assign_quadrants",
           "at_risk_list", "build_value_model", "customer_issues", "customer_value_table",
           "default_cutoff", "detect_separation", "evaluate_initiatives", "fit_value_model",
           "latest_responses", "load_initiatives", "plot_initiatives", "plot_quadrants",
           "plot_retention_curve", "plot_scenarios", "quadrant_summary", "quadrant_table",
           "resolve", "revenue_at_risk", "simulate_scenarios", "specification_sensitivity"]
