"""cxkit.features: missing-value policies, never flags, categorical drivers, crossed segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxkit.config import MissingPolicy
from cxkit.features import prepare_drivers, score_by_segment


def responses() -> pd.DataFrame:
    return pd.DataFrame({
        "y": [5.0, 6, 7, np.nan, 8, 9, 3, 4],
        "gap_delivery": [1.0, np.nan, 3, 0, np.nan, 2, 5, np.nan],
        "never_delivery": [0, 1, 0, 0, 1, 0, 0, 0],   # row 7: no delivery at all (n/a)
        "speed": [1.0, 2, np.nan, 4, 5, 6, 7, 8],
        "tier": ["a", "b", "c", "a", "b", "c", "a", "b"],
        "r": list("nnssnnss"), "c": list("xyxyxyxy"), "p": list("uuuuvvvv"),
    })


def policy(p, column):
    rows = p.policy[p.policy["column"] == column]
    return rows.iloc[0]["policy"], int(rows.iloc[0]["rows"])


def test_never_happened_actual_becomes_its_own_driver_not_a_dropped_row():
    p = prepare_drivers(responses(), outcome="y", drivers=["gap_delivery"], segments=["r"])
    assert p.drivers == ["gap_delivery", "never_delivery"]
    # outcome blank (row 3) and the n/a row 7 dropped; both never-delivered rows kept
    assert p.n == 6 and policy(p, "y") == ("drop", 1)
    assert policy(p, "gap_delivery") == ("never_delivery flag", 2)
    median = np.median([1.0, 3, 2, 5])  # observed gaps of the rows kept
    assert p.data.loc[p.data["never_delivery"] == 1, "gap_delivery"].tolist() == [median] * 2
    blank = p.policy[(p.policy.column == "gap_delivery") & (p.policy.policy == "drop")]
    assert int(blank["rows"].iloc[0]) == 1  # row 7, counted, never silent


def test_never_flags_off_drops_the_worst_experiences_and_says_so():
    p = prepare_drivers(responses(), outcome="y", drivers=["gap_delivery"], never_flags=False)
    assert p.drivers == ["gap_delivery"] and p.n == 4
    assert policy(p, "gap_delivery") == ("drop", 3)


@pytest.mark.parametrize("spec, filled, n_rows", [
    ({"impute": 0}, 0.0, 7), ({"impute": "median"}, 5.5, 7),
    (MissingPolicy.model_validate({"impute": 2.5}), 2.5, 7), ("drop", None, 6),
])
def test_drop_and_impute_policies_count_rows_touched(spec, filled, n_rows):
    p = prepare_drivers(responses(), outcome="y", drivers=["speed"], missing={"speed": spec})
    assert p.n == n_rows
    action = spec if isinstance(spec, str) else "impute"
    assert policy(p, "speed") == (action, 1)
    if filled is not None:
        # row 2 had no speed; the median of the kept rows' speeds is 5.5 (1,2,5,6,7,8)
        assert p.data.loc[2, "speed"] == filled


def test_indicator_adds_a_missing_flag_driver():
    p = prepare_drivers(responses(), outcome="y", drivers=["speed"],
                        missing={"speed": "indicator"})
    assert p.drivers == ["speed", "speed_missing"]
    assert p.data["speed_missing"].tolist() == [0, 0, 1, 0, 0, 0, 0]
    assert policy(p, "speed") == ("indicator", 1)


def test_categorical_driver_is_one_hot_against_the_reference():
    p = prepare_drivers(responses(), outcome="y", drivers=["tier"], categorical={"tier": "a"})
    assert p.drivers == ["tier_b", "tier_c"]
    assert p.levels["tier"] == {"reference": "a", "columns": {"tier_b": "b", "tier_c": "c"}}
    assert p.data[["tier_b", "tier_c"]].sum().tolist() == [3.0, 2.0]  # row 3 (a) dropped
    with pytest.raises(ValueError, match=r"reference level 'z' is not in the data"):
        prepare_drivers(responses(), outcome="y", drivers=["tier"], categorical={"tier": "z"})
    with pytest.raises(ValueError, match=r"driver 'tier' has text values .*drivers.categorical"):
        prepare_drivers(responses(), outcome="y", drivers=["tier"])


def test_three_segments_are_crossed_into_one_level():
    p = prepare_drivers(responses(), outcome="y", drivers=["speed"], segments=["r", "c", "p"],
                        missing={"speed": {"impute": 0}})
    assert p.segments == ["r_x_c_x_p"]
    assert p.data["r_x_c_x_p"].iloc[0] == "n|x|u"
    assert policy(p, "r_x_c_x_p")[0] == "crossed"
    two = prepare_drivers(responses(), outcome="y", drivers=["speed"], segments=["r", "c"],
                          missing={"speed": {"impute": 0}})
    assert two.segments == ["r", "c"]  # two levels stay nested


def test_unknown_policy_columns_and_empty_result_are_errors():
    with pytest.raises(ValueError, match=r"\['nope'\], which are not drivers"):
        prepare_drivers(responses(), outcome="y", drivers=["speed"], missing={"nope": "drop"})
    df = responses().assign(speed=np.nan)
    with pytest.raises(ValueError, match="no rows left"):
        prepare_drivers(df, outcome="y", drivers=["speed"])
    with pytest.raises(ValueError, match=r"responses table is missing column\(s\) \['zz'\]"):
        prepare_drivers(df, outcome="y", drivers=["zz"])


def test_score_by_segment_kinds():
    df = pd.DataFrame({"ok": [1, 0, 1, 1, 0], "s": [10, 9, 3, 7, 0], "r": list("aabbb")})
    share = score_by_segment(df, kind="share", score="ok", segment="r")
    assert share["satisfied"].tolist() == [1, 2, 3] and share["n"].tolist() == [2, 3, 5]
    nps = score_by_segment(df, kind="nps", score="s", segment=None)
    assert nps["nps_observed"].iloc[0] == pytest.approx(100 * (2 - 2) / 5)
    assert score_by_segment(df, kind="none", score="s", segment="r") is None
    with pytest.raises(ValueError, match="needs a 0/1 column"):
        score_by_segment(df, kind="share", score="s", segment="r")
