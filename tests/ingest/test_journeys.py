"""cxkit.ingest.journeys: the one journey definition, as ingestion writes it and as the
analytics read it."""

import pandas as pd
import pytest

from cxkit import journeys as J
from cxkit.ingest.journeys import JOURNEY_ORDER, journeys_from_events

LISTS = ["customer_id", "stage_sequence", "touchpoint_sequence", "event_stages"]


def _plain(df):
    return df.assign(**{c: df[c].map(list) for c in LISTS[1:]}).sort_values(
        "customer_id", ignore_index=True)


def test_events_rebuilt_give_the_ingested_journeys(world_result):
    built = _plain(journeys_from_events(world_result.events).to_pandas())
    written = _plain(world_result.journeys[LISTS].dropna(subset=["touchpoint_sequence"]))
    pd.testing.assert_frame_equal(built, written)
    c1 = written.set_index("customer_id").loc["C1"]
    # page_view and login are both awareness in this catalog: one stage step, collapsed
    assert c1.event_stages == ["awareness", "awareness", "purchase", "delivery", "support"]
    assert c1.stage_sequence == ["awareness", "purchase", "delivery", "support"]


@pytest.mark.parametrize("level", ["stage", "touchpoint"])
def test_analytics_read_the_ingested_journeys(world_result, level):
    j, ev = world_result.journeys, world_result.events
    for collapse in (True, False):
        pd.testing.assert_frame_equal(J.transition_matrix(j, level=level, collapse_repeats=collapse),
                                      J.transition_matrix(ev, level=level, collapse_repeats=collapse))
        pd.testing.assert_frame_equal(J.top_paths(j, level=level, n=None, collapse_repeats=collapse),
                                      J.top_paths(ev, level=level, n=None, collapse_repeats=collapse))
        pd.testing.assert_frame_equal(J.sankey_links(j, level=level, collapse_repeats=collapse),
                                      J.sankey_links(ev, level=level, collapse_repeats=collapse))
    assert J.top_paths(j, level=level, n=None)["customers"].sum() == j["touchpoint_sequence"].notna().sum()


def test_ties_in_time_break_by_source_then_row_not_event_id():
    ts = pd.to_datetime(["2024-01-01 10:00"] * 3 + ["2024-01-01 09:00"], utc=True)
    ev = pd.DataFrame({"customer_id": "C1", "event_id": ["a", "b", "c", "d"], "event_ts": ts,
                       "source": ["web", "shop", "shop", "web"], "source_row": [1, 9, 2, 5],
                       "touchpoint": ["visit", "order", "pay", "ad"],
                       "stage": ["awareness", "purchase", "purchase", "awareness"]})
    for seed in range(3):  # whatever the row order
        j = journeys_from_events(ev.sample(frac=1, random_state=seed)).to_pylist()
        assert j == [{"customer_id": "C1", "stage_sequence": ["awareness", "purchase", "awareness"],
                      "touchpoint_sequence": ["ad", "pay", "order", "visit"],
                      "event_stages": ["awareness", "purchase", "purchase", "awareness"]}]
    assert JOURNEY_ORDER == ("event_ts", "source", "source_row", "touchpoint")
    # times as text order by the instant, not the string (mixed UTC offsets)
    text = ev.assign(event_ts=["2024-01-01T12:00:00+02:00", "2024-01-01T10:00:00Z",
                               "2024-01-01T11:00:00+01:00", "2024-01-01T09:30:00Z"])
    assert journeys_from_events(text)["touchpoint_sequence"].to_pylist() == [
        ["ad", "pay", "order", "visit"]]  # three at 10:00Z: shop rows 2, 9, then web


def test_events_without_customer_or_touchpoint_have_no_journey_and_missing_columns_say_so():
    ev = pd.DataFrame({"customer_id": ["C1", None, "C2"], "source": "web", "source_row": [0, 1, 2],
                       "event_ts": pd.to_datetime(["2024-01-01"] * 3, utc=True),
                       "touchpoint": ["ad", "ad", None], "stage": ["awareness"] * 3})
    assert journeys_from_events(ev)["customer_id"].to_pylist() == ["C1"]
    assert journeys_from_events(ev.iloc[0:0]).num_rows == 0
    with pytest.raises(ValueError, match=r"missing column\(s\) \['source_row'\].*journeys"):
        journeys_from_events(ev.drop(columns="source_row"))
