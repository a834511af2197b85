"""cxkit.simulate.base: the story's constants and the time/money formatting helpers."""

import numpy as np
import pandas as pd

from cxkit.simulate import base


def test_constants_are_consistent():
    assert base.CUTOFF_S == int(pd.Timestamp(base.CUTOFF).timestamp())
    assert abs(sum(base.REGION_P) - 1) < 1e-12 and len(base.REGION_P) == len(base.REGIONS)
    assert set(base.MU_BETA) == set(base.DRIVERS)


def test_formats_and_bad_row_scatter():
    assert base._fmt_utc([base.CUTOFF_S]).tolist() == ["2025-01-01T00:00:00Z"]
    assert base._money(np.array([3.0, 2.456])).tolist() == ["3.00", "2.46"]
    clean = pd.DataFrame({"k": range(5)})
    out = base._insert_rows(clean, pd.DataFrame({"k": [-1, -2]}), np.random.default_rng(0))
    assert len(out) == 7 and out[out["k"] >= 0]["k"].tolist() == [0, 1, 2, 3, 4]
