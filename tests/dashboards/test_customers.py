"""Customers page: quadrants, revenue at risk with intervals, at-risk list and its CSV."""

import base64
import io

import pandas as pd

from cxkit.dashboards import CustomersApp


def test_quadrants_and_filters(run_dir):
    app = CustomersApp(run_dir)
    assert app.quadrant_table["n_customers"].sum() == 80
    before = app.quadrant_plot.value
    app.filters["region"].value = "North"
    assert app.quadrant_table["n_customers"].sum() == 50
    assert app.quadrant_plot.value != before
    app.filters["region"].value = "Tiny"  # 10 customers: under the floor
    assert app.quadrant_table.empty and "too few" in app.figures["quadrants"].axes[0].texts[0].get_text()


def test_revenue_at_risk_hides_small_groups(run_dir):
    app = CustomersApp(run_dir)
    html = app.rar_html.value
    assert "9,000" in html and "6,300" in html and "12,600" in html  # North with interval
    assert "1,500" not in html and "too few responses" in html      # Tiny (6 customers)
    # the saved table already carries the floor (Run.save_table): count kept, no estimate
    saved = app.tables["revenue_at_risk"].set_index("segment_value")
    assert saved.loc["Tiny", "customers"] == 6 and saved.loc["Tiny", "note"] == "too few responses"
    assert saved.loc["Tiny", ["revenue_at_risk_mean", "revenue_at_risk_low"]].isna().all()
    app.rar_var.value = "plan"
    assert "9,500" in app.rar_html.value


def test_at_risk_list_filters_and_csv(run_dir):
    app = CustomersApp(run_dir)
    full = len(app.at_risk_view)
    app.p_min.value = 0.5
    assert 0 < len(app.at_risk_view) < full
    assert (app.at_risk_view["p_leave_mean"] >= 0.5).all()
    link = app.download_html.value
    csv = base64.b64decode(link.split("base64,")[1].split("'")[0]).decode()
    got = pd.read_csv(io.StringIO(csv))
    assert got["customer_id"].tolist() == app.at_risk_view["customer_id"].tolist()
    assert "issue_1" in got and f"these {len(got)} customers" in link
