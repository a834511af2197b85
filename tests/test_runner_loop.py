"""The closed loop through ``cxkit run``: three runs of the same name, each compared with the
previous successful one, alerts routed to a local SMTP server and a local webhook, exit code
3 when alerts fired, a failed delivery recorded without losing the alert, and ``cxkit runs``.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from cxkit import runner
from cxkit.cli import main
from tests.test_alerts import http_server, smtp_server  # noqa: F401 - fixtures
from tests.test_runner import FIXTURES, manifest, write_params

METRICS = FIXTURES / "metrics.ipynb"


@pytest.fixture
def loop_params(tmp_path, smtp_server, http_server):  # noqa: F811 - fixtures
    port, inbox = smtp_server
    url, bodies = http_server
    params = write_params(tmp_path)
    rules = {"owners": {"cx": {"email": "cx@example.com"}},
             "rules": [{"name": "nps_fell", "kind": "metric_drop", "metric": "nps", "p": 0.95,
                        "owner": "cx"},
                       {"name": "broken", "kind": "broken_promise_detractor", "owner": "cx"}],
             "channels": {"email": {"host": "127.0.0.1", "port": port,
                                    "sender": "cxkit@example.com", "timeout_s": 5},
                          "webhook": {"url": url, "timeout_s": 5}}}
    (tmp_path / "alerts.yaml").write_text(yaml.safe_dump(rules))
    doc = yaml.safe_load(params.read_text())
    doc["alerts"] = {"rules": "alerts.yaml"}
    params.write_text(yaml.safe_dump(doc))
    return params, inbox, bodies, rules


def test_runs_compare_alert_deliver_and_list(loop_params, monkeypatch, capsys, tmp_path):
    params, inbox, bodies, rules = loop_params
    reports = tmp_path / "reports"

    monkeypatch.setenv("CXKIT_TEST_NPS", "500,300,200")
    assert runner.run(params, run_id="r1", notebooks=[METRICS]) == 0
    first = manifest(reports / "r1")
    assert first["trend"] == {"previous_run_id": None, "changes": []}
    assert first["alerts"]["fired"] == [] and inbox.messages == [] and bodies == []
    assert "First run of this name" in (reports / "r1" / "trend.html").read_text()
    # a header-only source: a warning in the manifest and at the top of the HTML report
    (empty,) = [w for w in first["warnings"] if w["kind"] == "ingest"]
    assert empty["message"].startswith("source 'tickets' has no data rows (tickets.csv)")
    html = (reports / "r1" / "metrics.html").read_text()
    banner = html[html.index('class="cxkit-banner"'):][:1000]
    assert "<li>source 'tickets' has no data rows (tickets.csv)" in banner
    capsys.readouterr()

    # NPS falls from 30 to -10 and a detractor's delivery broke its promise
    monkeypatch.setenv("CXKIT_TEST_NPS", "300,300,400")
    monkeypatch.setenv("CXKIT_TEST_BREACH", "1")
    assert runner.run(params, run_id="r2", notebooks=[METRICS]) == 3
    out = capsys.readouterr().out
    assert "Changes since the previous run:\n  NPS (All) fell from 30.0 to -10.0" in out
    assert "ALERTS: 2 fired" in out and "(exit code 3)" in out
    page = (reports / "r2" / "metrics.html").read_text()
    box = page[page.index('class="cxkit-changes"'):][:1000]
    assert "<li>NPS (All) fell from 30.0 to -10.0" in box
    second = manifest(reports / "r2")
    assert second["trend"]["previous_run_id"] == "r1"
    assert [a["rule"] for a in second["alerts"]["fired"]] == ["nps_fell", "broken"]
    assert second["alerts"]["undelivered"] == 0
    assert len(inbox.messages) == 1 and inbox.messages[0]["To"] == "cx@example.com"
    assert [a["rule"] for a in bodies[0]["json"]["alerts"]] == ["nps_fell", "broken"]
    trend = pd.read_parquet(reports / "r2" / "tables" / "trend.parquet")
    assert trend["run_id"].tolist() == ["r1", "r2"]
    assert trend.set_index("run_id").loc["r2", "p_drop"] > 0.999
    assert (reports / "latest").readlink().name == "r2"

    # the SMTP server is gone: the e-mail fails, is recorded, the alert stays on disk
    rules["channels"]["email"]["port"] = 9  # discard port: nothing listens
    (tmp_path / "alerts.yaml").write_text(yaml.safe_dump(rules))
    assert runner.run(params, run_id="r3", notebooks=[METRICS]) == 3
    err = capsys.readouterr().err
    third = manifest(reports / "r3")
    assert [a["rule"] for a in third["alerts"]["fired"]] == ["broken"]  # NPS unchanged now
    failed = [d for d in third["alerts"]["deliveries"] if not d["ok"]]
    assert [d["channel"] for d in failed] == ["email"] and third["alerts"]["undelivered"] == 1
    assert any(w["kind"] == "alert_delivery" for w in third["warnings"])
    assert "PUBLISHED WITH WARNINGS" in err and "alert delivery by email" in err
    assert pd.read_csv(reports / "r3" / "alerts.csv")["rule"].tolist() == ["broken"]
    assert len(bodies) == 2  # the webhook still got it
    trend = pd.read_parquet(reports / "r3" / "tables" / "trend.parquet")
    assert trend["run_id"].tolist() == ["r1", "r2", "r3"]

    # cxkit runs: the history with statuses, data hashes and alert counts
    assert main(["runs", str(params)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0] == f"runs in {reports}:"
    rows = [line.split() for line in listing[2:]]
    assert [r[0] for r in rows] == ["r1", "r2", "r3"]
    assert all(r[1] == "succeeded" for r in rows)
    assert main(["runs", "--reports", str(reports), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["alerts"] for r in records] == [0, 2, 1]
    assert len({r["data_hash"] for r in records}) == 1 and len(records[0]["data_hash"]) == 12


def test_a_bad_rules_file_stops_the_run_before_it_starts(tmp_path, capsys):
    params = write_params(tmp_path)
    (tmp_path / "alerts.yaml").write_text("owners: {}\nrules: [{name: x, kind: gap_above, "
                                          "owner: nobody}]\n")
    doc = yaml.safe_load(params.read_text())
    doc["alerts"] = {"rules": "alerts.yaml"}
    params.write_text(yaml.safe_dump(doc))
    assert runner.run(params, run_id="never", notebooks=[METRICS]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'alerts.yaml'}: invalid alert rules" in err
    assert not (tmp_path / "reports").exists()
