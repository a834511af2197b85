"""One conversion of Python, NumPy and pandas values into standard JSON values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime

import numpy as np
import pandas as pd


def jsonable(obj):
    """``obj`` with NumPy scalars and arrays as Python values, timestamps as ISO text and
    missing or non-finite numbers as ``None``, so ``json.dumps`` writes standard JSON.

    Mappings, lists, tuples and arrays are converted element by element; anything else
    that JSON cannot hold becomes its ``str``.

    Examples
    --------
    >>> jsonable({"a": np.float64("nan"), "b": np.arange(2), "c": pd.Timestamp("2024-01-02")})
    {'a': None, 'b': [0, 1], 'c': '2024-01-02T00:00:00'}
    """
    if isinstance(obj, Mapping):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if obj is None:
        return None
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, (pd.Timestamp, datetime, date)):
        return None if pd.isna(obj) else obj.isoformat()
    try:
        if pd.isna(obj):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (str, bool, int, float)):
        return obj
    return str(obj)
