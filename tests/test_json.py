"""cxkit._json.jsonable: one conversion to standard JSON."""

import json
import math
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from cxkit._json import jsonable


def test_jsonable_nested_numpy_pandas_and_nonfinite():
    obj = {"r": np.float64(1.5), "n": np.int64(3), "nan": float("nan"), "inf": np.inf,
           "arr": np.array([1.0, np.nan]), "t": (np.bool_(True), None),
           "ts": pd.Timestamp("2024-03-01 10:00", tz="UTC"), "nat": pd.NaT,
           "dt": datetime(2024, 1, 2), "na": pd.NA, "dec": Decimal("1.10"), "s": "ok"}
    out = jsonable(obj)
    assert out == {"r": 1.5, "n": 3, "nan": None, "inf": None, "arr": [1.0, None],
                   "t": [True, None], "ts": "2024-03-01T10:00:00+00:00", "nat": None,
                   "dt": "2024-01-02T00:00:00", "na": None, "dec": "1.10", "s": "ok"}
    text = json.dumps(out, allow_nan=False)  # standard JSON: no NaN tokens
    assert "NaN" not in text and isinstance(json.loads(text)["n"], int)
    assert type(jsonable(np.int64(2))) is int and not math.isnan(jsonable(2.0))
