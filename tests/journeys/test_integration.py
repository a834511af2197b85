"""Journey analytics on real ingestion output of the committed sample (data/sample).

Skips with the reason while ``cxkit.ingest.ingest`` or params/sources/sample.yaml is not
there yet; everything else about journeys is tested on the fixtures of conftest.py.
"""

import numpy as np
import pandas as pd
import pytest

from cxkit.journeys import (
    cohort_retention,
    journey_gaps_table,
    plot_funnel,
    sankey_links,
    stage_funnel,
    top_paths,
    transition_matrix,
)
from cxkit.journeys.analytics import JOURNEY_GAPS_COLUMNS


@pytest.fixture
def ingested(sample_ingest):
    return sample_ingest  # ingested once per session (tests/conftest.py)


def test_journey_analytics_on_ingested_sample(ingested):
    events, customers, gaps = ingested.events, ingested.customers, ingested.gaps
    assert len(events) > 0

    funnel = stage_funnel(events)
    reached = events.groupby("stage")["customer_id"].nunique()
    assert funnel["reached"].tolist() == reached.reindex(funnel["stage"]).tolist()
    assert funnel["stage"].iloc[0] == "awareness" or "awareness" not in reached.index
    # the published funnel never exceeds 100% of its first step (it did: 114%)
    assert (funnel["share_of_first"] <= 1).all()
    assert (funnel["customers"] <= funnel["reached"]).all()

    trans = transition_matrix(ingested.journeys)  # read as ingestion built them
    pd.testing.assert_frame_equal(trans, transition_matrix(events))  # or built the same way
    n_journeys = events["customer_id"].dropna().nunique()
    assert trans.loc[trans["from"] == "start", "count"].sum() == n_journeys
    assert trans.loc[trans["to"] == "end", "count"].sum() == n_journeys
    np.testing.assert_allclose(trans.groupby("from")["prob"].sum(), 1.0)

    paths = top_paths(ingested.journeys, n=None)
    assert paths["customers"].sum() == n_journeys
    links = sankey_links(ingested.journeys, max_steps=4)
    assert links["source"].str.startswith("1:").any()

    retention = cohort_retention(events, customers, cohort="cohort")
    with_cohort = customers["cohort"].notna().sum()
    assert retention.drop_duplicates("cohort")["signed_up"].sum() == with_cohort
    # period 0 holds everyone who started (it showed 36% for quarterly cohorts read monthly)
    assert (retention.loc[retention["period_index"] == 0, "retention"] == 1.0).all()
    assert retention["retention"].between(0, 1).all()
    assert retention["period_index"].min() == 0

    table = journey_gaps_table(gaps, customers, segments=("region", "channel"))
    assert table.columns.tolist() == JOURNEY_GAPS_COLUMNS
    overall = table.loc[table["segment_var"] == "overall"].set_index(["touchpoint", "rule"])
    n_gaps = gaps.groupby(["touchpoint", "rule"]).size()
    pd.testing.assert_series_equal(overall["n"].sort_index(), n_gaps.sort_index(),
                                   check_names=False, check_dtype=False)
    assert (table["share_met_low"] <= table["share_met"]).all()
    assert (table["share_met"] <= table["share_met_high"]).all()

    ax = plot_funnel(funnel)
    assert len(ax.patches) == len(funnel)
