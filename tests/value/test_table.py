import warnings
from pathlib import Path

import pandas as pd
import pytest

from cxkit.value.table import MIN_RETAINED, customer_value_table, default_cutoff

OLIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "olist_sample"


def _table(journey, **kw):
    events, responses, customers = journey
    kw.setdefault("segments", ["region", "plan"])  # named by the run YAML (value.segments)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 2 retained < MIN_RETAINED, tested below
        return customer_value_table(events, responses, customers, score="nps",
                                    cutoff="2025-01-01", horizon_days=365, **kw)


def test_table_values_by_hand(journey):
    t = _table(journey)
    assert list(t.columns) == ["customer_id", "region", "plan", "score", "n_responses",
                               "revenue_pre", "retained", "revenue_post"]
    # c4 never answered, c5 only after the cutoff
    assert t["customer_id"].tolist() == ["c1", "c2", "c3"]
    # c1: latest before cutoff is 9 (the 2025 answer is after it); c2: the null answer is
    # skipped; c3: answered exactly at the cutoff, which is inside the observation period
    assert t["score"].tolist() == [9.0, 3.0, 7.0]
    assert t["n_responses"].tolist() == [2, 1, 1]
    # c2: the event at the cutoff is "pre"; c3: 01:00+02:00 on Jan 1 is 23:00 UTC Dec 31
    assert t["revenue_pre"].tolist() == [100.0, 230.0, 15.0]
    # c2: 2026-01-01 00:00 is the horizon's last instant (in), 2026-01-02 is out;
    # c3 only has a zero and a refund after the cutoff: not retained
    assert t["revenue_post"].tolist() == [75.0, 40.0, -10.0]
    assert t["retained"].tolist() == [True, True, False]
    assert t["plan"].tolist() == ["basic", "pro", "basic"]
    assert t.attrs["cutoff"] == "2025-01-01T00:00:00+00:00"
    assert t.attrs["n_retained"] == 2 and t.attrs["score_name"] == "nps"


def test_shorter_horizon_excludes_later_revenue(journey):
    t = _table(journey).set_index("customer_id")
    t2 = _table(journey, segments=["plan"])
    events, responses, customers = journey
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        t3 = customer_value_table(events, responses, customers, score="nps",
                                  cutoff="2025-01-01", horizon_days=160).set_index("customer_id")
    assert "region" not in t2.columns
    # 160 days after Jan 1 is June 10: only c1's June 1 payment and c3's spring events
    assert t3["revenue_post"].tolist() == [50.0, 0.0, -10.0]
    assert t3["retained"].tolist() == [True, False, False]
    assert t["revenue_pre"].equals(t3["revenue_pre"])


def test_default_cutoff_leaves_full_horizon(journey):
    events, _, _ = journey
    # last event 2026-01-02 -> midnight that day minus 365 days
    assert default_cutoff(events, 365) == pd.Timestamp("2025-01-02", tz="UTC")
    with pytest.raises(ValueError, match="shorter than horizon_days=1000"):
        default_cutoff(events, 1000)


def test_few_retained_warns_and_says_why(journey):
    events, responses, customers = journey
    with pytest.warns(UserWarning, match=rf"Only 2 of 3 .* at least {MIN_RETAINED}"):
        customer_value_table(events, responses, customers, score="nps", cutoff="2025-01-01")


def test_missing_column_error_names_table_and_column(journey):
    events, responses, customers = journey
    with pytest.raises(KeyError, match=r"responses table is missing column\(s\) \['csat'\]"):
        customer_value_table(events, responses, customers, score="csat")


@pytest.mark.olist
def test_olist_repeat_purchase_is_rare_and_flagged():
    if not OLIST.is_dir():
        pytest.skip(f"Olist sample not found at {OLIST}")
    orders = pd.read_csv(OLIST / "olist_orders_dataset.csv")
    cust = pd.read_csv(OLIST / "olist_customers_dataset.csv")
    pay = pd.read_csv(OLIST / "olist_order_payments_dataset.csv")
    rev = pd.read_csv(OLIST / "olist_order_reviews_dataset.csv")
    # a minimal stand-in for the ingested tables: people are customer_unique_id
    o = orders.merge(cust, on="customer_id")
    amount = pay.groupby("order_id")["payment_value"].sum()
    events = pd.DataFrame({"customer_id": o["customer_unique_id"],
                           "event_ts": pd.to_datetime(o["order_purchase_timestamp"], utc=True),
                           "value": o["order_id"].map(amount)})
    r = rev.merge(o[["order_id", "customer_unique_id"]], on="order_id")
    responses = pd.DataFrame({"customer_id": r["customer_unique_id"],
                              "responded_at": pd.to_datetime(r["review_creation_date"], utc=True),
                              "review_score": r["review_score"]})
    customers = (cust.rename(columns={"customer_id": "order_customer_id",
                                      "customer_unique_id": "customer_id",
                                      "customer_state": "region"})
                 .drop_duplicates("customer_id"))
    with pytest.warns(UserWarning, match="too few to estimate"):
        t = customer_value_table(events, responses, customers, score="review_score",
                                 cutoff="2018-01-01", horizon_days=240)
    assert len(t) > 1000
    assert t["score"].between(1, 5).all()
    assert t.attrs["n_retained"] < MIN_RETAINED
    assert (t["revenue_pre"] > 0).mean() > 0.95  # nearly every reviewer paid for an order
