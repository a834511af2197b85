"""prepare_data's reductions: segment blocks, bernoulli statistics, the unsegmented case."""

import numpy as np
import pandas as pd

from cxkit.drivers.data import UNSEGMENTED, prepare_data, segment_labels
from cxkit.drivers.summaries import ALL
from cxkit.simulate import simulate_responses

DRIVERS = {"rating_product": 0.6, "rating_app": 0.2, "had_support_ticket": -0.5}


def test_cells_sorted_into_segment_blocks_with_linear_statistics():
    data, _ = simulate_responses(900, n_segments=3, drivers=DRIVERS, family="bernoulli", seed=2)
    prep = prepare_data(data, outcome="y", drivers=list(DRIVERS), segments="segment",
                        family="bernoulli")
    st = prep.stats
    assert np.all(np.diff(st["seg_idx"]) >= 0)
    assert st["bounds"].tolist() == [0, *np.cumsum(np.bincount(st["seg_idx"])).tolist()]
    assert st["trials"].sum() == len(data) and not st["all_single"]
    # k_seg and X'k per segment, from the rows themselves.
    z = (data[list(DRIVERS)] - data[list(DRIVERS)].mean()) / data[list(DRIVERS)].std(ddof=0)
    for s, label in enumerate(prep.segment_labels):
        rows = data["segment"] == label
        assert st["k_seg"][s] == data.loc[rows, "y"].sum()
        np.testing.assert_allclose(st["xk_seg"][s], z[rows].T @ data.loc[rows, "y"], rtol=1e-10)


def test_unsegmented_is_one_segment_called_all():
    data, _ = simulate_responses(300, n_segments=2, drivers=DRIVERS, family="ordinal", seed=2)
    assert UNSEGMENTED == ALL  # the summaries' label for the whole population
    assert (segment_labels(data, []) == "All").all()
    prep = prepare_data(data, outcome="y", drivers=list(DRIVERS), segments=[], family="ordinal")
    assert prep.segment_labels == ["All"] and prep.segments == []
    assert prep.stats["bounds"].tolist() == [0, prep.n_cells]
    assert prep.stats["counts"].sum() == len(data)
