"""Alert rules, their evaluation on fixture tables, and delivery to a local SMTP server
(aiosmtpd) and a local HTTP server, both on 127.0.0.1."""

from __future__ import annotations

import email
import json
import socket
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxkit import alerts
from cxkit.config import PARAMS_DIR
from cxkit.publish import save_table


# --------------------------------------------------------------------------- local servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.rcpt: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        self.rcpt.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """An SMTP server on 127.0.0.1 collecting messages: yields (port, inbox)."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


@pytest.fixture
def http_server():
    """An HTTP server on 127.0.0.1 collecting POSTed JSON: yields (url, bodies)."""
    bodies: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server hook
            length = int(self.headers["Content-Length"])
            bodies.append({"path": self.path, "type": self.headers["Content-Type"],
                           "json": json.loads(self.rfile.read(length))})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", bodies
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- fixtures
def rules_yaml(folder: Path, *, smtp_port: int | None = None, webhook: str | None = None,
               p: float = 0.9) -> Path:
    doc = {
        "owners": {"cx": {"email": "cx@example.com"},
                   "ops": {"email": "ops@example.com", "webhook": False},
                   "acct": {"email": "acct@example.com"}},
        "rules": [
            {"name": "nps_fell", "kind": "metric_drop", "metric": "nps", "p": p, "owner": "cx"},
            {"name": "late", "kind": "gap_above", "touchpoint": "delivery", "threshold": 1.0,
             "min_n": 30, "owner": "ops"},
            {"name": "big_risk", "kind": "at_risk_above", "threshold": 500, "owner": "acct"},
            {"name": "broken", "kind": "broken_promise_detractor", "owner": "cx"},
        ],
        "channels": {},
    }
    if smtp_port:
        doc["channels"]["email"] = {"host": "127.0.0.1", "port": smtp_port,
                                    "sender": "cxkit@example.com", "timeout_s": 5}
    if webhook:
        doc["channels"]["webhook"] = {"url": webhook, "timeout_s": 5}
    path = folder / "alerts.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def fixture_run(folder: Path) -> Path:
    """A run folder with the tables the four rules read (at_risk as in CONTRACTS.md)."""
    folder.mkdir(parents=True, exist_ok=True)
    save_table(pd.DataFrame({
        "touchpoint": "delivery", "rule": "on_time", "segment_var": ["region"] * 3 + ["overall"],
        "segment_value": ["North", "South", "West", "all"], "n": [120, 80, 10, 210],
        "mean_gap": [2.5, 0.4, 9.0, 1.6], "share_met": 0.5, "share_met_low": 0.4,
        "share_met_high": 0.6, "unit": "days"}), folder, "journey_gaps")
    save_table(pd.DataFrame({
        "customer_id": ["C1", "C2", "C3"], "region": ["North", "South", "North"],
        "score": [3.0, 8.0, 5.0], "p_leave_mean": [0.6, 0.1, 0.4],
        "expected_value_mean": [2000.0, 900.0, 1500.0],
        "revenue_at_risk_mean": [1200.0, 90.0, 600.0],
        "issue_1": ["delivery 3.2 days late", "", "support answered 5 h after SLA"],
        "issue_2": [None, None, None], "issue_3": [None, None, None]}), folder, "at_risk")
    (folder / "ingest").mkdir(exist_ok=True)
    pd.DataFrame({
        "response_id": ["R1", "R2", "R3", "R4"], "customer_id": ["C1", "C2", "C3", "C4"],
        "nps": [3, 9, 6, 2], "breach_delivery": [1, 1, 0, 0],
        "breach_support_ticket": [0, 0, 2, 0]}).to_parquet(folder / "ingest" / "responses.parquet")
    return folder


TREND = pd.DataFrame({"metric": ["nps", "nps", "share:csat"], "segment": ["All", "North", "All"],
                      "value": [20.0, 25.0, 0.7], "previous_value": [30.0, 26.0, 0.9],
                      "previous_run_id": "prev", "p_drop": [0.97, 0.6, 0.99]})


# --------------------------------------------------------------------------- rules
def test_the_shipped_rules_file_is_valid_and_has_the_four_kinds_with_owners():
    rules = alerts.load_rules(PARAMS_DIR / "alerts.yaml")
    assert {r.kind for r in rules.rules} == {"metric_drop", "gap_above", "at_risk_above",
                                            "broken_promise_detractor"}
    assert all(r.owner in rules.owners for r in rules.rules)
    assert rules.channels.email is None and rules.channels.webhook is None


def test_bad_rules_name_the_file_and_problem(tmp_path):
    path = rules_yaml(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["rules"][0]["owner"] = "nobody"
    doc["rules"][1].pop("threshold")
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ValueError) as exc:
        alerts.load_rules(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: invalid alert rules")
    assert "rule 'late' (gap_above) needs ['threshold']" in msg


def test_unknown_owner_is_refused(tmp_path):
    path = rules_yaml(tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["rules"][0]["owner"] = "nobody"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ValueError, match=r"rule 'nps_fell': owner 'nobody' is not under owners"):
        alerts.load_rules(path)


def test_each_rule_fires_on_exactly_the_rows_past_its_threshold(tmp_path):
    run = fixture_run(tmp_path / "run")
    table = alerts.evaluate(alerts.load_rules(rules_yaml(tmp_path)), run, trend=TREND,
                            run_id="r9")
    assert list(table.columns) == alerts.ALERT_COLUMNS and (table["run_id"] == "r9").all()
    by = {rule: part for rule, part in table.groupby("rule")}
    assert by["nps_fell"]["subject"].tolist() == ["nps (All)"]  # North 0.6 < p, csat not nps
    assert "fell from 30 to 20 since run prev; probability of a real fall 97%" in \
        by["nps_fell"]["message"].iloc[0]
    # North (2.5 days, 120 customers) and overall (1.6); West is late but has 10 customers
    assert by["late"]["subject"].tolist() == ["delivery/on_time (region=North)",
                                              "delivery/on_time (all customers)"]
    assert by["late"]["value"].tolist() == [2.5, 1.6]
    assert by["big_risk"]["subject"].tolist() == ["customer C1", "customer C3"]
    assert by["big_risk"]["message"].iloc[0] == ("customer C1: revenue at risk 1,200, above "
                                                 "500 (delivery 3.2 days late)")
    # detractors with a breach: C1 (delivery), C3 (support ticket); C2 promoter, C4 no breach
    assert by["broken"]["subject"].tolist() == ["customer C1", "customer C3"]
    assert by["broken"]["message"].iloc[1].endswith("after a broken promise: support ticket")
    assert (table["owner"] == table["rule"].map(
        {"nps_fell": "cx", "late": "ops", "big_risk": "acct", "broken": "cx"})).all()


def test_missing_tables_fire_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    table = alerts.evaluate(alerts.load_rules(rules_yaml(tmp_path)), tmp_path / "empty")
    assert table.empty and list(table.columns) == alerts.ALERT_COLUMNS


# --------------------------------------------------------------------------- delivery
def test_delivery_by_email_and_webhook_to_local_servers(tmp_path, smtp_server, http_server):
    port, inbox = smtp_server
    url, bodies = http_server
    run = fixture_run(tmp_path / "run")
    section = alerts.run_alerts(rules_yaml(tmp_path, smtp_port=port, webhook=url), run,
                                trend=TREND, run_id="r9")
    written = pd.read_csv(run / "alerts.csv")
    assert len(written) == len(section["fired"]) == 7
    assert json.loads((run / "alerts.json").read_text()) == section["fired"]
    assert section["undelivered"] == 0
    # one e-mail per owner, to that owner, listing that owner's alerts, CSV attached
    assert sorted(r[0] for r in inbox.rcpt) == ["acct@example.com", "cx@example.com",
                                                "ops@example.com"]
    cx = next(m for m in inbox.messages if m["To"] == "cx@example.com")
    assert cx["Subject"] == "cxkit run r9: 3 alert(s) for you"
    body = cx.get_body(("plain",)).get_content()
    assert "[nps_fell] nps in All fell from 30 to 20" in body and "[broken]" in body
    attached = [p for p in cx.iter_attachments()]
    assert attached[0].get_filename() == "alerts.csv"
    # webhook: every alert except the owner that opted out (ops)
    (post,) = bodies
    assert post["path"] == "/hook" and post["type"] == "application/json"
    assert post["json"]["run_id"] == "r9"
    assert post["json"]["text"].startswith("cxkit run r9: 5 alert(s)\n- [nps_fell] nps in All")
    assert sorted({a["owner"] for a in post["json"]["alerts"]}) == ["acct", "cx"]
    assert len(post["json"]["alerts"]) == 5
    assert {(d["channel"], d["ok"]) for d in section["deliveries"]} == {("email", True),
                                                                         ("webhook", True)}


def test_failed_delivery_is_recorded_and_the_alerts_are_kept(tmp_path):
    run = fixture_run(tmp_path / "run")
    dead = free_port()  # nothing listens there
    section = alerts.run_alerts(
        rules_yaml(tmp_path, smtp_port=dead, webhook=f"http://127.0.0.1:{dead}/x"), run,
        trend=TREND, run_id="r9")
    assert section["undelivered"] == len(section["deliveries"]) == 4  # 3 e-mails + webhook
    assert all("ConnectionRefusedError" in d["error"] or "Connection refused" in d["error"]
               for d in section["deliveries"])
    assert len(pd.read_csv(run / "alerts.csv")) == 7


def test_webhook_needs_an_http_url(tmp_path):
    ch = alerts.WebhookChannel(url="file:///etc/passwd")
    with pytest.raises(ValueError, match="is not http"):
        alerts._post_webhook(ch, pd.DataFrame({"a": [1]}), "r")


def test_a_detractor_response_alerts_once_not_again_in_the_next_run(tmp_path):
    previous = fixture_run(tmp_path / "previous")
    run = fixture_run(tmp_path / "run")
    responses = pd.read_parquet(run / "ingest" / "responses.parquet")
    responses.loc[len(responses)] = ["R5", "C5", 1, 0, 1]  # a new detractor, SLA broken
    responses.to_parquet(run / "ingest" / "responses.parquet")
    rules = alerts.load_rules(rules_yaml(tmp_path))
    table = alerts.evaluate(rules, run, previous_dir=previous)
    assert table.loc[table["rule"] == "broken", "subject"].tolist() == ["customer C5"]
    doc = yaml.safe_load((tmp_path / "alerts.yaml").read_text())
    doc["rules"][3]["new_only"] = False
    (tmp_path / "alerts.yaml").write_text(yaml.safe_dump(doc))
    table = alerts.evaluate(alerts.load_rules(tmp_path / "alerts.yaml"), run,
                            previous_dir=previous)
    assert table.loc[table["rule"] == "broken", "subject"].tolist() == [
        "customer C1", "customer C3", "customer C5"]
