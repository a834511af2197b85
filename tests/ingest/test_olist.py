"""The real Olist sample through params/sources/olist.yaml (skipped where it is absent)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


ROOT = Path(__file__).resolve().parents[2]
OLIST = ROOT.parent / "shared" / "data" / "olist_sample"

pytestmark = [
    pytest.mark.olist,
    pytest.mark.skipif(not (OLIST / "olist_orders_dataset.csv").is_file(),
                       reason=f"Olist sample not found at {OLIST} (see its README; set CXKIT_OLIST_DIR)"),
]


@pytest.fixture
def olist(olist_ingest):
    return olist_ingest  # ingested once per session (tests/conftest.py)


def _csv(name):
    return pd.read_csv(OLIST / f"olist_{name}_dataset.csv", dtype=str)


def test_every_row_accounted_for(olist):
    rep = olist.report
    assert rep.ok
    sizes = {"orders": 4000, "deliveries": 4000, "payments": 4161, "reviews": 3986, "customers": 4000}
    for name, n in sizes.items():
        s = rep.sources[name]
        assert s.rows_in == n == s.kept + s.quarantined, name


def test_reviews_stitch_to_customer_unique_id_in_two_hops(olist):
    orders, customers, reviews = _csv("orders"), _csv("customers"), _csv("order_reviews")
    truth = (reviews.merge(orders, on="order_id").merge(customers, on="customer_id")
             .set_index("review_id")["customer_unique_id"])
    r = olist.responses.set_index("response_id")
    assert len(r) == 3986
    assert (r.customer_id == truth.loc[r.index]).all()
    assert olist.customers.customer_id.nunique() == customers.customer_unique_id.nunique()
    # Repeat buyers: one customer, several accounts.
    n_accounts = olist.customers["account"].map(len)
    assert n_accounts.max() > 1 and n_accounts.sum() == customers.customer_id.nunique()


def test_delivery_gap_is_days_late_against_the_promise(olist):
    o = _csv("orders").set_index("order_id")
    g = olist.gaps.assign(order_id=olist.gaps.event_id.str.removeprefix("deliveries:")).set_index("order_id")
    delivered = o.order_delivered_customer_date.notna()
    # Elapsed time between local Sao Paulo times (Brazil still had DST in 2016-2018).
    def utc(col):
        return pd.to_datetime(o[col]).dt.tz_localize("America/Sao_Paulo", ambiguous="NaT",
                                                     nonexistent="shift_forward")
    days = ((utc("order_delivered_customer_date") - utc("order_estimated_delivery_date"))
            / pd.Timedelta(days=1)).apply(np.floor)
    np.testing.assert_array_equal(g.loc[o.index[delivered], "gap"].to_numpy(), days[delivered].to_numpy())
    assert g.loc[o.index[~delivered], "gap"].isna().all()
    assert (g.met == False).sum() > 0  # noqa: E712


def test_revenue_segments_and_verbatims(olist):
    pay = _csv("order_payments")
    ev = olist.events
    assert ev.loc[ev.touchpoint == "payment", "value"].sum() == pytest.approx(pay.payment_value.astype(float).sum())
    r = olist.responses
    assert r.review_score.between(1, 5).all()
    msg = _csv("order_reviews").review_comment_message
    assert r.verbatim.notna().sum() == msg.notna().sum() == 1656  # README: 1,656 with comments
    assert r.region.notna().all() and r.cohort.str.match(r"^20\d\dQ[1-4]$").all()
    assert r.category.notna().mean() > 0.95


def test_reviews_take_their_own_orders_delivery(olist):
    """Reviews link to their order (``link: order_id``): features come from that order's
    delivery even when the review was answered before the parcel arrived."""
    g = olist.gaps.set_index("link")
    assert g.index.is_unique
    r = olist.responses.set_index("response_id")
    assert r.link.notna().all() and (r.had_delivery == 1).all() and (r.n_delivery == 1).all()
    own = g.loc[r.link]
    np.testing.assert_array_equal(r.gap_delivery.to_numpy(), own.gap.to_numpy())
    np.testing.assert_array_equal(r.breach_delivery.to_numpy(), (own.met == False).astype(int).to_numpy())  # noqa: E712
    # What a 30-day window before the answer would have missed: breaches that only became
    # events after the review (late parcels, reviewed while the customer waited).
    after = own.event_ts.to_numpy() >= r.responded_at.to_numpy()
    assert int((after & (r.breach_delivery.to_numpy() == 1)).sum()) > 100
