"""Validation reasons and their order on the fixture world (identity: test_identity.py)."""

import json

import pandas as pd

from cxkit.ingest import ingest


def _q(res, source):
    q = res.quarantine[res.quarantine.source == source]
    return dict(zip(q.source_row, q.reason))


def test_every_row_is_kept_or_quarantined_with_one_reason(world_result):
    rep = world_result.report
    for name, s in rep.sources.items():
        assert s.rows_in == s.kept + s.quarantined, name
        assert sum(s.by_reason.values()) == s.quarantined, name
        assert (world_result.quarantine.source == name).sum() == s.quarantined, name
    # 6 of 9 order rows are bad: more than max_quarantine_share (0.5) makes the run not ok.
    assert not rep.ok
    assert rep.problems() == ["orders: 6/9 rows quarantined, more than max_quarantine_share=0.5; "
                              "see quarantine.parquet"]


def test_order_reasons_per_row(world_result):
    assert _q(world_result, "orders") == {3: "bad_timestamp", 4: "future_timestamp",
                                          5: "duplicate_event", 6: "orphan", 7: "missing_id",
                                          8: "malformed_row"}
    assert world_result.report.sources["orders"].kept == 3


def test_quarantine_row_carries_raw_values_and_column(world_result):
    q = world_result.quarantine
    row = q[(q.source == "orders") & (q.source_row == 3)].iloc[0]
    assert row.column == "ordered_at"
    assert json.loads(row.raw) == {"order_id": "O3", "customer_id": "C1",
                                   "ordered_at": "2024-02-30T10:00:00Z", "revenue": "5"}


def test_first_failing_check_wins(make_world, tmp_path):
    # Missing id AND unparseable timestamp AND unknown touchpoint: missing_id comes first;
    # a bad timestamp beats an unknown touchpoint.
    web = ("device_id,customer_id,ts,event\nD1,C1,1709280060000,login\n,,oops,hover\n"
           "D1,,oops,hover\nD1,,1709280060000,hover\n")
    res = ingest(make_world(tmp_path, files={"web.csv": web}))
    assert _q(res, "web") == {2: "missing_id", 3: "bad_timestamp", 4: "unknown_touchpoint"}


def test_mixed_offsets_are_normalised_to_utc(world_result):
    ev = world_result.events.set_index("event_id")
    assert ev.loc["orders:O1", "event_ts"] == pd.Timestamp("2024-03-01T10:00:00Z")
    assert ev.loc["orders:O2", "event_ts"] == pd.Timestamp("2024-03-02T08:00:00Z")
    assert ev.loc["orders:O9", "event_ts"] == pd.Timestamp("2024-03-04T12:00:00Z")
    assert str(ev["event_ts"].dt.tz) == "UTC"


def test_naive_local_times_use_the_declared_zone_across_dst(world_result):
    ev = world_result.events.set_index("event_id")
    assert ev.loc["tickets:T1", "event_ts"] == pd.Timestamp("2024-03-08T09:00:00Z")  # CET
    assert ev.loc["tickets:T2", "event_ts"] == pd.Timestamp("2024-04-02T08:00:00Z")  # CEST


def test_epoch_ms_and_value_parsing(world_result):
    ev = world_result.events.set_index("event_id")
    web = world_result.events[world_result.events.source == "web"].sort_values("source_row")
    assert web.event_ts.iloc[0] == pd.Timestamp("2024-03-01T08:00:00Z")
    assert ev.loc["orders:O1", "value"] == 10.5
    assert pd.isna(ev.loc["deliveries:O1", "value"])


def test_survey_score_out_of_range(world_result):
    assert _q(world_result, "surveys") == {2: "score_out_of_range"}
    assert set(world_result.responses.response_id) == {"R1", "R3"}


def test_duplicate_keeps_first_copy(world_result):
    ev = world_result.events
    assert ev[ev.event_id == "orders:O1"].source_row.tolist() == [1]


def test_stage_and_channel_from_catalog(world_result):
    ev = world_result.events.set_index("event_id")
    assert tuple(ev.loc["tickets:T1", ["stage", "channel"]]) == ("support", "support")
    assert tuple(ev.loc["orders:O1", ["stage", "channel"]]) == ("purchase", "shop")


def test_attributes_hold_unmapped_fields_as_json(make_world, tmp_path):
    orders = "order_id,customer_id,ordered_at,revenue,coupon\nO1,C1,2024-03-01T10:00:00Z,1,\"SPRING \"\"24\"\"\"\n"
    res = ingest(make_world(tmp_path, files={"orders.csv": orders}))
    attrs = res.events.set_index("event_id").loc["orders:O1", "attributes"]
    assert json.loads(attrs) == {"coupon": 'SPRING "24"'}
