"""cxkit.ingest.identity on the fixture world: links, first-come owners, conflicts, orphans."""


def _q(res, source):
    q = res.quarantine[res.quarantine.source == source]
    return dict(zip(q.source_row, q.reason))


def test_identity_stitching_and_conflict(world_result):
    web = world_result.events[world_result.events.source == "web"].sort_values("source_row")
    # D1's page view belongs to C1 (first login); D2 never logged in: anonymous, kept.
    assert web[["source_row", "customer_id"]].astype(object).where(web.notna(), None).values.tolist() == [
        [1, "C1"], [2, "C1"], [4, None]]
    assert _q(world_result, "web") == {3: "identity_conflict", 5: "unknown_touchpoint"}
    conflicts = world_result.report.identity_conflicts
    assert len(conflicts) == 1
    c = conflicts[0]
    assert (c["kind"], c["value"], c["owner"], c["claimed_by"], c["source_row"]) == (
        "device_id", "D1", "C1", "C2", 3)


def test_tickets_stitch_by_email_and_unknown_email_is_orphan(world_result):
    ev = world_result.events.set_index("event_id")
    assert ev.loc["tickets:T1", "customer_id"] == "C1"
    assert ev.loc["tickets:T2", "customer_id"] == "C2"
    assert _q(world_result, "tickets") == {3: "orphan"}
