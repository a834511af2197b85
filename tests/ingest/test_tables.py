"""Gaps, window features, journeys and customers on the fixture world."""

import math

import pandas as pd


def test_promised_vs_actual_gap_in_whole_days(world_result):
    g = world_result.gaps.set_index("event_id")
    o1 = g.loc["deliveries:O1"]
    assert (o1.rule, o1.unit, o1.gap, o1.met) == ("promised_vs_actual", "days", 2.0, False)
    assert o1.expected == pd.Timestamp("2024-03-05T12:00:00Z")
    assert o1.actual == pd.Timestamp("2024-03-07T18:00:00Z")
    assert (g.loc["deliveries:O2", "gap"], g.loc["deliveries:O2", "met"]) == (-2.0, True)


def test_never_delivered_is_kept_at_promise_with_breach(world_result):
    g = world_result.gaps.set_index("event_id").loc["deliveries:O9"]
    assert pd.isna(g.actual) and pd.isna(g.gap)
    assert g.met == False  # noqa: E712  promise passed before as_of
    assert g.event_ts == pd.Timestamp("2024-03-08T12:00:00Z")


def test_sla_vs_actual_in_hours(world_result):
    g = world_result.gaps.set_index("event_id")
    t1 = g.loc["tickets:T1"]
    assert (t1.rule, t1.unit, t1.gap, t1.met) == ("sla_vs_actual", "hours", 2.5, False)
    assert t1.expected == pd.Timestamp("2024-03-08T13:00:00Z")  # opened 09:00Z + 4 h SLA
    assert (g.loc["tickets:T2", "gap"], g.loc["tickets:T2", "met"]) == (-7.0, True)


def test_response_window_features(world_result):
    r = world_result.responses.set_index("response_id")
    r1 = r.loc["R1"]
    assert (r1.had_delivery, r1.n_delivery, r1.gap_delivery, r1.breach_delivery) == (1, 1, 2.0, 1)
    assert (r1.had_support_ticket, r1.n_support_ticket, r1.gap_support_ticket,
            r1.breach_support_ticket) == (1, 1, 2.5, 1)
    # R3 answers exactly 10 days (the window) after O2's delivery: the start is inclusive.
    r3 = r.loc["R3"]
    assert (r3.had_delivery, r3.gap_delivery, r3.breach_delivery) == (1, -2.0, 0)
    assert (r3.had_support_ticket, r3.n_support_ticket, r3.breach_support_ticket) == (0, 0, 0)
    assert math.isnan(r3.gap_support_ticket)


def test_response_columns_scores_and_segments(world_result):
    r = world_result.responses.set_index("response_id")
    assert list(world_result.responses.columns[:6]) == ["response_id", "customer_id", "responded_at",
                                                        "region", "cohort", "nps"]
    assert (r.loc["R1", "nps"], r.loc["R1", "region"], r.loc["R1", "verbatim"]) == (
        6.0, "North", "late, and slow support")
    assert r.loc["R3", "cohort"] == "2024Q2"


def test_window_end_is_exclusive(make_world, tmp_path):
    from cxkit.ingest import ingest

    # A delivery at the very instant of the response is not "before" it.
    surveys = "response_id,customer_id,responded_at,nps,verbatim\nR1,C1,2024-03-07T18:00:00Z,6,\n"
    res = ingest(make_world(tmp_path, files={"surveys.csv": surveys}))
    assert res.responses.iloc[0].n_delivery == 0


def test_journey_is_ordered_with_collapsed_stages(world_result):
    j = world_result.journeys.set_index("customer_id")
    c1 = j.loc["C1"]
    assert list(c1.touchpoint_sequence) == ["page_view", "login", "order", "delivery", "support_ticket"]
    assert list(c1.stage_sequence) == ["awareness", "purchase", "delivery", "support"]
    assert c1.n_events == 5
    assert (c1.first_ts, c1.last_ts) == (pd.Timestamp("2024-03-01T08:00:00Z"),
                                         pd.Timestamp("2024-03-08T09:00:00Z"))
    assert (c1.region, c1.cohort) == ("North", "2024Q1")
    # Anonymous web events have no journey.
    assert j.index.notna().all()


def test_customers_have_segments_cohort_and_linked_ids(world_result):
    c = world_result.customers.set_index("customer_id").sort_index()
    assert c.cohort.tolist() == ["2024Q1", "2024Q2", "2023Q4"]
    assert list(c.loc["C1", "email"]) == ["a@x.com"]
    assert list(c.loc["C1", "device_id"]) == ["D1"]
    assert c.loc["C2", "device_id"] is None or len(c.loc["C2", "device_id"]) == 0


def test_duckdb_arrow_journeys_equal_the_ibis_expression():
    """The DuckDB path assembles sequences in Arrow; it must match the shared Ibis
    expression (which Spark runs) row for row on the sample."""
    from pathlib import Path

    import pandas as pd
    import pytest

    from cxkit.ingest import api
    from cxkit.ingest.engine import DuckDBEngine

    root = Path(__file__).resolve().parents[2]
    if not (root / "data" / "sample" / "orders.csv").is_file():
        pytest.skip("sample data missing: run `cxkit simulate`")
    eng = DuckDBEngine()
    run = api._Run(api.load_sources(root / "params" / "sources" / "sample.yaml"), eng, False).build()
    fast = api._tidy(eng.plain_lists(run.journeys_fast()).to_pandas()).sort_values(
        "customer_id", ignore_index=True)
    ref = api._tidy(eng.to_pandas(run.exprs["journeys"])).sort_values("customer_id", ignore_index=True)
    assert len(fast) > 100 and fast["stage_sequence"].map(len).max() > 1
    pd.testing.assert_frame_equal(fast, ref)


def test_source_language_becomes_a_column_and_drives_topics(two_language_world, world_result):
    from cxkit.ingest import ingest
    from cxkit.voice import fit_topics

    assert "language" not in world_result.responses.columns  # no source declares one
    r = ingest(two_language_world).responses
    assert list(r.columns[list(r.columns).index("verbatim"):][:2]) == ["verbatim", "language"]
    by_source = r.assign(src=r["response_id"].str[0]).groupby("src")["language"]
    assert by_source.unique().map(list).to_dict() == {"E": ["en"], "P": ["pt"]}
    model, scored = fit_topics(r, n_topics=2, min_df=1, max_df=0.6)
    assert list(model.vectorizers) == ["en", "pt"]
    assert {"price", "late", "entreg", "atras"} <= set(model.stems)
    assert scored["has_verbatim"].sum() == 60
