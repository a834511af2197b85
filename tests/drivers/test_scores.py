"""cxkit.drivers.scores: NPS and top-2-box CSAT per segment with conjugate intervals."""

import numpy as np
import pandas as pd
import pytest

from cxkit.drivers.scores import csat_by_segment, nps_by_segment


def nps_frame(promoters, passives, detractors, segment="North"):
    scores = [10] * promoters + [8] * passives + [3] * detractors
    return pd.DataFrame({"region": segment, "nps": scores})


def test_nps_counts_mean_and_shrinking_interval():
    small = nps_by_segment(nps_frame(50, 30, 20), segment="region", score="nps").set_index("segment")
    large = nps_by_segment(nps_frame(500, 300, 200), segment="region", score="nps").set_index("segment")
    row = small.loc["North"]
    assert (row.n, row.promoters, row.passives, row.detractors) == (100, 50, 30, 20)
    assert row.nps_observed == 30.0
    # Dirichlet(51, 31, 21): E[P - D] = (51 - 21) / 103
    assert row.nps_mean == pytest.approx(100 * 30 / 103, abs=0.5)
    assert row.nps_low < 30 < row.nps_high
    width_small = row.nps_high - row.nps_low
    width_large = large.loc["North", "nps_high"] - large.loc["North", "nps_low"]
    assert width_large < width_small / 2.5  # ~ 1/sqrt(10)
    assert large.loc["North", "nps_mean"] == pytest.approx(30, abs=0.5)


def test_nps_all_row_and_segment_order():
    frame = pd.concat([nps_frame(10, 0, 0, "South"), nps_frame(0, 0, 10, "North")])
    table = nps_by_segment(frame, segment="region", score="nps")
    assert table["segment"].tolist() == ["North", "South", "All"]
    assert table["n"].tolist() == [10, 10, 20]
    assert table["nps_observed"].tolist() == [-100.0, 100.0, 0.0]
    assert table.loc[2, "nps_mean"] == pytest.approx(0, abs=2)
    # reproducible with the same seed
    pd.testing.assert_frame_equal(table, nps_by_segment(frame, segment="region", score="nps"))


def test_nps_two_segment_columns_and_missing_scores():
    frame = pd.DataFrame(
        {
            "region": ["North", "North", "South", None],
            "channel": ["web", "app", "web", "web"],
            "nps": [10, np.nan, 0, 7],
        }
    )
    table = nps_by_segment(frame, segment=["region", "channel"], score="nps").set_index("segment")
    assert list(table.index) == ["(missing)|web", "North|web", "South|web", "All"]
    assert table.loc["All", "n"] == 3  # the missing score is skipped
    assert nps_by_segment(frame, segment=None, score="nps")["segment"].tolist() == ["All"]


def test_nps_out_of_range_score_names_the_rows():
    frame = pd.DataFrame({"region": "North", "nps": [10, 11, 5, 7.5]})
    with pytest.raises(ValueError, match=r"'nps' has 2 value\(s\).*rows \[1, 3\]"):
        nps_by_segment(frame, segment="region", score="nps")


def test_csat_top2_box_beta_posterior():
    frame = pd.DataFrame({"region": ["North"] * 10, "csat": [5, 4, 4, 3, 2, 5, 1, 4, 3, 5]})
    row = csat_by_segment(frame, segment="region", score="csat").set_index("segment").loc["North"]
    assert (row.n, row.satisfied) == (10, 6)
    assert row.share_observed == 0.6
    assert row.share_mean == pytest.approx(7 / 12)  # Beta(1 + 6, 1 + 4)
    assert row.share_low < 7 / 12 < row.share_high
    with pytest.raises(ValueError, match=r"integers in 1..5"):
        csat_by_segment(frame.assign(csat=[0] * 10), segment="region", score="csat")
