"""The revenue step on real data: Olist orders, review scores (1-5) and payments (BRL).

What applies and what the data cannot support: Olist customers almost never buy twice (one
repeat buyer among 1,689 reviewed customers at a 2018-01-01 cutoff), so the retention / spend
model must refuse with its reason, the separation detector must call retention
all-or-nothing, the quadrants stay descriptive and add up, and the at-risk quadrant holds
no active customer (everyone in it already left), so no call list can be made from it.
"""

import pytest

pytestmark = pytest.mark.olist  # the olist_ingest fixture skips where the sample is absent


@pytest.fixture(scope="module")
def olist_table(olist_ingest):
    from cxkit import value

    out = olist_ingest  # ingested once per session (tests/conftest.py)
    with pytest.warns(UserWarning, match=r"Only 1 of 1689 surveyed customers have revenue"):
        table = value.customer_value_table(out.events, out.responses, out.customers,
                                           score="review_score", cutoff="2018-01-01",
                                           horizon_days=240)
    return table


def test_retention_model_refuses_and_separation_is_named(olist_table):
    from cxkit import value

    t = olist_table
    assert t.attrs["n_customers"] == 1689 and t.attrs["n_retained"] == 1
    with pytest.raises(ValueError, match="only 1 of 1689 customers were retained; the data "
                                         "cannot support a retention / spend model"):
        value.fit_value_model(t, segment="region")
    found = value.detect_separation(t, by=["region"], min_n=5)
    overall = found[found["segment_var"] == "(all)"]
    # one repeat buyer: retention is all-or-nothing in every region but the buyer's
    assert (found.query("segment_var == 'region'")["kind"] == "all_no").sum() >= 20
    assert overall.empty or overall["kind"].iloc[0] in ("quasi", "complete", "all_no")


def test_quadrants_add_up_and_the_call_list_skips_customers_who_left(olist_table):
    from cxkit import value

    q = value.assign_quadrants(olist_table)
    assert q.attrs["score_threshold"] == 5.0  # median review: "high" means 5 stars
    summary = value.quadrant_summary(q)
    assert summary["n_customers"].sum() == len(olist_table) == 1689
    contract = value.quadrant_table(q, ["region", "cohort"])
    assert contract["active"].sum() == 1
    assert (contract["quadrant"] == "At-risk").sum() > 300  # unhappy, above-median spend
    assert not value.active_mask(q)[(q["quadrant"] == "At-risk").to_numpy()].any()
