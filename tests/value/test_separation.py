import numpy as np
import pandas as pd
import pytest

from cxkit.value.separation import SEPARATION_COLUMNS, detect_separation


def _table():
    """plan=basic separates completely at score 5/6, plan=pro overlaps, plan=gold all stay."""
    rows = []
    for s in range(11):
        rows += [("basic", s, s >= 6)] * 3
        rows += [("pro", s, (s + k) % 3 != 0) for k in range(3)]
    rows += [("gold", s, True) for s in (2, 5, 9)]
    return pd.DataFrame(rows, columns=["plan", "score", "retained"])


def test_flags_the_constructed_cases_and_only_them():
    found = detect_separation(_table(), by=["plan"])
    assert list(found.columns) == SEPARATION_COLUMNS
    got = {(r.segment_var, r.segment_value): r.kind for r in found.itertuples()}
    assert got == {("plan", "basic"): "complete", ("plan", "gold"): "all_yes"}
    basic = found[found["segment_value"] == "basic"].iloc[0]
    assert basic["boundary"] == 5.5 and basic["n"] == 33 and basic["n_yes"] == 15
    assert ("every customer with score <= 5 left and every customer with score >= 6 stayed"
            in basic["message"])
    assert "held finite by its prior" in basic["message"]


def test_quasi_complete_and_reversed():
    t = pd.DataFrame({"score": [1, 2, 3, 3, 4, 5], "retained": [1, 1, 1, 0, 0, 0]})
    r = detect_separation(t).iloc[0]
    assert r["kind"] == "quasi" and r["boundary"] == 3.0
    assert "with score <= 3 stayed" in r["message"] and "(both at score 3)" in r["message"]


def test_overlap_is_not_flagged_and_small_groups_are_skipped():
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"score": rng.integers(0, 11, 200), "retained": rng.random(200) < 0.6,
                      "plan": "a"})
    t.loc[0, "plan"] = "tiny"
    assert detect_separation(t, by=["plan"], min_n=2).empty


def test_missing_columns_named():
    with pytest.raises(KeyError, match=r"\['region'\] not in the data"):
        detect_separation(_table(), by=["region"])
