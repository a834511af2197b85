"""Ingest features for bring-your-own data: never_<tp> flags, text scores and n/a codes,
responses without timestamps, customers folded from order-level rows, header checks."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from cxkit.ingest import run_ingest
from cxkit.ingest.errors import ConfigError, SchemaMismatchError

CATALOG = """
stages: [purchase, delivery]
touchpoints:
  order: {stage: purchase, channel: shop}
  delivery:
    stage: delivery
    channel: logistics
    rule: {kind: promised_vs_actual, expected: promised_at, actual: delivered_at, unit: days, rounding: floor}
"""

# one order-level export: c1 on time, c2 never delivered (promise passed), c3 not due yet
# at as_of (pending: not "never"), c1 again with a second order.
FLAT = """\
order,buyer,area,placed,promised,delivered,answered,overall,delivery_stars
o1,c1,N,2024-05-01T10:00:00Z,2024-05-05T12:00:00Z,2024-05-05T09:00:00Z,2024-05-06T10:00:00Z,Satisfied,5
o2,c2,S,2024-05-02T10:00:00Z,2024-05-06T12:00:00Z,,2024-05-20T10:00:00Z,neutral or DISSATISFIED,0
o3,c3,S,2024-05-28T10:00:00Z,2024-06-05T12:00:00Z,,2024-05-29T10:00:00Z, satisfied ,3
o4,c1,N,2024-05-10T10:00:00Z,2024-05-14T12:00:00Z,2024-05-16T12:00:00Z,2024-05-17T10:00:00Z,meh,9
"""

SOURCES = """
catalog: catalog.yaml
as_of: 2024-06-01T00:00:00Z
window_days: 30
sources:
  buyers:
    role: customers
    path: flat.csv
    ids: {customer_id: buyer}
    key: customer_id
    repeated_rows: collapse
    segments: {region: area}
  deliveries:
    role: events
    path: flat.csv
    ids: {customer_id: buyer}
    key: customer_id
    event_id: order
    touchpoint: delivery
    timestamp: {column: delivered, fallback: promised}
    fields:
      promised_at: {column: promised}
      delivered_at: {column: delivered}
  answers:
    role: responses
    path: flat.csv
    ids: {customer_id: buyer}
    key: customer_id
    event_id: order
    timestamp: answered
    scores:
      satisfied: {column: overall, min: 0, max: 1, map: {satisfied: 1, neutral or dissatisfied: 0}}
      delivery_stars: {column: delivery_stars, min: 1, max: 5, na: [0]}
"""


def write(tmp_path, sources=SOURCES, flat=FLAT):
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    (tmp_path / "flat.csv").write_text(flat)
    path = tmp_path / "sources.yaml"
    path.write_text(textwrap.dedent(sources))
    return path


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("byod")
    report = run_ingest(write(tmp), tmp / "out", progress=False)
    tables = {t: pd.read_parquet(tmp / "out" / f"{t}.parquet")
              for t in ("customers", "responses", "quarantine", "gaps")}
    return report, tables


def test_never_delivered_is_flagged_pending_is_not(ingested):
    _, t = ingested
    r = t["responses"].set_index("response_id")
    assert r.loc["o2", "never_delivery"] == 1  # promise passed, nothing arrived
    assert pd.isna(r.loc["o2", "gap_delivery"])
    assert r.loc["o2", "breach_delivery"] == 1
    # not due yet at as_of: its event (placed at the promise) is in the future, quarantined
    # as future_timestamp, so the response has no delivery and no flag
    assert r.loc["o3", "never_delivery"] == 0 and r.loc["o3", "had_delivery"] == 0
    assert r.loc["o1", "never_delivery"] == 0 and r.loc["o1", "gap_delivery"] == -1


def test_text_scores_are_mapped_and_na_codes_become_blank(ingested):
    report, t = ingested
    r = t["responses"].set_index("response_id")
    assert r.loc["o1", "satisfied"] == 1 and r.loc["o2", "satisfied"] == 0
    assert r.loc["o3", "satisfied"] == 1  # case and spaces ignored
    assert pd.isna(r.loc["o2", "delivery_stars"])  # 0 = n/a, kept, blank
    q = t["quarantine"]
    # "meh" is not in the map; 9 is out of range: the row is quarantined once, first check
    got = q.sort_values("source")[["source", "source_row", "reason", "column"]].values.tolist()
    assert got == [["answers", 4, "score_out_of_range", "overall"],
                   ["deliveries", 3, "future_timestamp", "delivered"]]
    assert report.sources["answers"].kept == 3


def test_repeated_customers_collapse_into_one_with_nothing_quarantined(ingested):
    report, t = ingested
    assert report.sources["buyers"].rows_in == 4 and report.sources["buyers"].kept == 4
    cu = t["customers"].sort_values("customer_id")
    assert cu["customer_id"].tolist() == ["c1", "c2", "c3"] and cu["region"].tolist() == list("NSS")


def test_responses_without_timestamp_are_kept_without_window_features(tmp_path):
    text = SOURCES.replace("    timestamp: answered\n", "")
    report = run_ingest(write(tmp_path, text), tmp_path / "out", progress=False)
    assert report.ok
    r = pd.read_parquet(tmp_path / "out" / "responses.parquet")
    assert len(r) == 3 and r["responded_at"].isna().all()
    assert (r["had_delivery"] == 0).all() and (r["never_delivery"] == 0).all()


def test_collapse_only_for_customers_and_header_errors(tmp_path):
    bad = SOURCES.replace("    event_id: order\n    touchpoint: delivery",
                          "    event_id: order\n    repeated_rows: collapse\n    touchpoint: delivery")
    with pytest.raises(ConfigError, match="repeated_rows: collapse is for a customers source"):
        run_ingest(write(tmp_path, bad), tmp_path / "out", progress=False)
    header = ",buyer,area,placed,promised,delivered,answered,area,delivery_stars"
    flat = header + "\n" + FLAT.split("\n", 1)[1]
    with pytest.raises(SchemaMismatchError, match=r"flat.csv: header cell at column 1 is blank; "
                                                  r"column 8 'area' repeats column 3\."):
        run_ingest(write(tmp_path, flat=flat), tmp_path / "out2", progress=False)
