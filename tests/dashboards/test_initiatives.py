"""Initiatives page: editable costs, ROI and P(ROI > 0) recomputed from the saved draws."""

import numpy as np
import pytest

from cxkit.dashboards import InitiativesApp
from tests.dashboards.conftest import initiative_draws


def test_costs_edit_updates_roi_and_probability(run_dir):
    app = InitiativesApp(run_dir)
    assert app.initiative.value == "faster delivery"
    assert app.cost_inputs["cost_one_off"].value == 10_000
    draws = initiative_draws()
    rev = draws.loc[draws.initiative == "faster delivery", "revenue_change"].to_numpy()
    assert app.p_roi_positive == pytest.approx(np.mean(rev > 10_000))
    before = app.roi_plot.value
    app.cost_inputs["cost_one_off"].value = 16_000
    assert app.p_roi_positive == pytest.approx(np.mean(rev > 16_000))
    assert app.p_roi_positive < 0.5
    assert app.roi_plot.value != before
    row = app.summary_table.set_index("initiative").loc["faster delivery"]
    assert row["cost"] == 16_000
    assert row["roi_mean"] == pytest.approx(np.mean((rev - 16_000) / 16_000))
    # another initiative shows its own saved costs; the edit is kept
    app.initiative.value = "app redesign"
    assert app.cost_inputs["cost_per_customer"].value == 4.0
    app.initiative.value = "faster delivery"
    assert app.cost_inputs["cost_one_off"].value == 16_000


def test_planned_combination_net_value(run_dir):
    app = InitiativesApp(run_dir)
    draws = initiative_draws()
    rev = draws.loc[draws.initiative == "both", "revenue_change"].to_numpy()
    cost = 24_000 + 4 * 1500 + 1000 * 4
    assert f"net value <b>{np.mean(rev - cost):,.0f} BRL</b>" in app.combo_html.value
