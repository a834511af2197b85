"""A tiny multi-source world written to tmp_path, with one known bad row per reason.

Row numbers below are 1-based data rows (header excluded), as ``source_row`` reports them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

CATALOG = """
stages: [awareness, purchase, delivery, support]
touchpoints:
  page_view: {stage: awareness, channel: web}
  login: {stage: awareness, channel: web}
  order: {stage: purchase, channel: shop}
  delivery:
    stage: delivery
    channel: logistics
    rule: {kind: promised_vs_actual, expected: promised_at, actual: delivered_at, unit: days, rounding: floor}
  support_ticket:
    stage: support
    channel: support
    rule: {kind: sla_vs_actual, start: opened_at, actual: first_response_at, target: sla_hours, unit: hours}
"""

SOURCES = """
catalog: catalog.yaml
as_of: 2024-06-01T00:00:00Z
window_days: 10
sources:
  customers:
    role: customers
    path: customers.csv
    ids: {customer_id: customer_id, email: email}
    key: customer_id
    segments: {region: region}
    cohort: {quarter_of: {column: signup_date}}
  orders:
    role: events
    path: orders.csv
    ids: {customer_id: customer_id}
    key: customer_id
    event_id: order_id
    touchpoint: order
    timestamp: ordered_at
    value: revenue
  deliveries:
    role: events
    path: deliveries.csv
    ids: {customer_id: customer_id}
    key: customer_id
    event_id: order_id
    touchpoint: delivery
    timestamp: {column: delivered_at, fallback: promised_at}
    fields:
      promised_at: {column: promised_at}
      delivered_at: {column: delivered_at}
  tickets:
    role: events
    path: tickets.csv
    ids: {email: email}
    key: email
    event_id: ticket_id
    touchpoint: support_ticket
    timezone: Europe/Berlin
    timestamp: opened_at
    fields:
      opened_at: {column: opened_at}
      first_response_at: {column: first_response_at}
      sla_hours: sla_hours
  web:
    role: events
    path: web.csv
    ids: {device_id: device_id, customer_id: customer_id}
    key: device_id
    unresolved: anonymous
    touchpoint: {column: event}
    timestamp: {column: ts, format: epoch_ms}
  surveys:
    role: responses
    path: surveys.csv
    ids: {customer_id: customer_id}
    key: customer_id
    event_id: response_id
    timestamp: responded_at
    scores:
      nps: {column: nps, min: 0, max: 10}
    verbatim: verbatim
"""

FILES = {
    "customers.csv": """
        customer_id,email,region,signup_date
        C1,a@x.com,North,2024-01-15
        C2,b@x.com,South,2024-04-02
        C3,c@x.com,North,2023-11-30
        """,
    # rows: 1 ok (+02:00), 2 ok (Z), 3 bad ts, 4 future, 5 duplicate of 1, 6 orphan,
    #       7 missing id, 8 malformed (extra field), 9 ok (-05:00)
    "orders.csv": """
        order_id,customer_id,ordered_at,revenue
        O1,C1,2024-03-01T12:00:00+02:00,10.50
        O2,C2,2024-03-02T08:00:00Z,20
        O3,C1,2024-02-30T10:00:00Z,5
        O4,C2,2099-01-01T00:00:00Z,5
        O1,C1,2024-03-01T12:00:00+02:00,10.50
        O6,C9,2024-03-03T00:00:00Z,7
        O7,,2024-03-03T00:00:00Z,7
        O8,C1,2024-03-03T00:00:00Z,7,extra
        O9,C3,2024-03-04T07:00:00-05:00,30
        """,
    # O1 2 days late (floor of 2.25), O2 early, O9 never delivered
    "deliveries.csv": """
        order_id,customer_id,promised_at,delivered_at
        O1,C1,2024-03-05T12:00:00Z,2024-03-07T18:00:00Z
        O2,C2,2024-03-06T12:00:00Z,2024-03-05T09:00:00Z
        O9,C3,2024-03-08T12:00:00Z,
        """,
    # Berlin local times: winter (+01:00) and summer (+02:00); T3 orphan email
    "tickets.csv": """
        ticket_id,email,opened_at,first_response_at,sla_hours
        T1,a@x.com,2024-03-08 10:00:00,2024-03-08 16:30:00,4
        T2,b@x.com,2024-04-02 10:00:00,2024-04-02 11:00:00,8
        T3,nobody@x.com,2024-03-08 10:00:00,2024-03-08 11:00:00,4
        """,
    # D1 logs in as C1 first, then as C2 (conflict, row 3); D2 never logs in (anonymous);
    # row 5 unknown touchpoint
    "web.csv": """
        device_id,customer_id,ts,event
        D1,,1709280000000,page_view
        D1,C1,1709280060000,login
        D1,C2,1709366400000,login
        D2,,1709280000000,page_view
        D1,,1709280120000,hover
        """,
    # R1 answers after O1's delivery and T1; R2 out-of-range nps; R3 exactly 10 days
    # after delivery of O2 (window start is inclusive)
    "surveys.csv": """
        response_id,customer_id,responded_at,nps,verbatim
        R1,C1,2024-03-09T00:00:00Z,6,"late, and slow support"
        R2,C1,2024-03-10T00:00:00Z,11,
        R3,C2,2024-03-15T09:00:00Z,9,fine
        """,
}


def write_world(root: Path, files: dict[str, str] | None = None, sources: str = SOURCES,
                catalog: str = CATALOG) -> Path:
    """Write the fixture world into ``root``; returns the sources YAML path."""
    for name, text in {**FILES, **(files or {})}.items():
        (root / name).write_text(textwrap.dedent(text).lstrip("\n"))
    (root / "catalog.yaml").write_text(catalog)
    (root / "sources.yaml").write_text(sources)
    return root / "sources.yaml"


@pytest.fixture
def world(tmp_path) -> Path:
    return write_world(tmp_path)


@pytest.fixture(scope="module")
def world_result(tmp_path_factory):
    from cxkit.ingest import ingest

    return ingest(write_world(tmp_path_factory.mktemp("world")))


SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sample"
OLIST_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "olist_sample"


@pytest.fixture
def make_world():
    """The world writer, for tests that change a file or the YAML:
    ``make_world(tmp_path, files={...}, sources=SOURCES.replace(...))``."""
    return write_world


@pytest.fixture
def sources_yaml() -> str:
    return SOURCES


@pytest.fixture
def two_language_world(tmp_path) -> Path:
    """The fixture world with its surveys in English and a second, Portuguese review file."""
    pt = ["A entrega atrasou muito", "Entrega atrasada de novo", "O preço é caro demais",
          "Preço muito caro para a qualidade", "Entregas atrasadas sempre"]
    en = ["The delivery was late again", "Late deliveries every time",
          "The price is too expensive", "Prices too high for the quality",
          "Delivery late, prices high"]
    surveys = "response_id,customer_id,responded_at,nps,verbatim\n" + "".join(
        f"E{i},C{i % 3 + 1},2024-03-09T00:00:00Z,{i % 11},\"{en[i % 5]}\"\n" for i in range(30))
    reviews = "review_id,customer_id,score,comment\n" + "".join(
        f"P{i},C{i % 3 + 1},{i % 5 + 1},\"{pt[i % 5]}\"\n" for i in range(30))
    sources = SOURCES.replace("    verbatim: verbatim\n", "    verbatim: verbatim\n"
                                   "    language: en\n") + """\
  reviews:
    role: responses
    path: reviews.csv
    ids: {customer_id: customer_id}
    key: customer_id
    event_id: review_id
    scores:
      review_score: {column: score, min: 1, max: 5}
    verbatim: comment
    language: pt
"""
    return write_world(tmp_path, files={"surveys.csv": surveys, "reviews.csv": reviews},
                      sources=sources)

