"""The shared page parts: header with run picker and KPI changes, tables, downloads."""

import base64

import pandas as pd

from cxkit.dashboards import DriversApp
from cxkit.dashboards.page import download_link, fmt_value, table_html
from tests.dashboards.conftest import PREVIOUS_ID, RUN_ID


def test_header_names_the_run_and_kpis_show_change_since_previous(run_dir):
    app = DriversApp(run_dir.parent / "latest")  # the link resolves to the newest run
    assert app.picker.value == str(run_dir.resolve())
    assert [label.split(" · ")[-1] for label, _ in app.picker.options] == [RUN_ID, PREVIOUS_ID]
    assert "cx-test" in app.header.value and "2024-05-01 06:20" in app.header.value
    assert "succeeded" in app.header.value
    # NPS 20 now, 15 in the previous run
    assert "20.0" in app.kpis.value and "+5.0 since previous run" in app.kpis.value


def test_picking_another_run_rebuilds_the_page(run_dir):
    app = DriversApp(run_dir)
    app.picker.value = str((run_dir.parent / PREVIOUS_ID).resolve())
    assert PREVIOUS_ID in app.header.value
    assert "no previous run" in app.kpis.value


def test_table_html_has_no_index_readable_numbers_and_the_floor():
    t = pd.DataFrame({"segment": ["a", "b"], "n": [100, 5], "share": [0.4567, 0.9],
                      "revenue": [12345.678, 1.0]})
    out = table_html(t, {"segment": "segment", "n": "responses", "share": "share",
                         "revenue": "revenue"}, kinds={"share": "pct", "revenue": "money"},
                     min_n=30, n_col="n")
    assert "<th>responses</th>" in out and "<th></th>" not in out
    assert "46%" in out and "12,346" in out
    assert out.count("too few responses") == 2 and "90%" not in out
    assert fmt_value(3.14159) == "3.14" and fmt_value(1234.5) == "1,234"


def test_download_link_carries_the_csv():
    t = pd.DataFrame({"customer_id": ["C1", "C2"], "p": [0.5, 0.25]})
    link = download_link(t, "x.csv", "Download")
    data = link.split("base64,")[1].split("'")[0]
    assert base64.b64decode(data).decode() == "customer_id,p\nC1,0.5\nC2,0.25\n"
    assert "download='x.csv'" in link
