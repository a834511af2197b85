"""The privacy floor helper: counts kept, estimates hidden below min_n, labels untouched."""

import numpy as np
import pandas as pd
import pytest

from cxkit.privacy import MIN_N, TOO_FEW, apply_min_n, min_n_of


@pytest.fixture
def table():
    return pd.DataFrame({"segment": ["North", "South", "Tiny"], "n": [120, 30, 29],
                         "nps_mean": [20.5, -3.0, 90.0], "nps_low": [15.0, -9.0, 60.0],
                         "rank": [1, 2, 3]})


def test_rows_below_floor_lose_every_estimate(table):
    out = apply_min_n(table)
    assert MIN_N == 30
    assert out["n"].tolist() == [120, 30, 29]           # count stays
    assert out["segment"].tolist() == ["North", "South", "Tiny"]
    assert out.loc[2, ["nps_mean", "nps_low", "rank"]].isna().all()
    assert out.loc[1, "nps_mean"] == -3.0               # exactly min_n is shown
    assert out["note"].tolist() == ["", "", TOO_FEW]
    assert table.loc[2, "nps_mean"] == 90.0             # input untouched


def test_as_text_for_people_and_custom_floor(table):
    out = apply_min_n(table, min_n=100, as_text=True)
    assert out["nps_mean"].tolist() == [20.5, TOO_FEW, TOO_FEW]
    assert "note" not in out
    out = apply_min_n(table.rename(columns={"n": "customers"}), estimates=["nps_mean"])
    assert np.isnan(out.loc[2, "nps_mean"]) and out.loc[2, "nps_low"] == 60.0


def test_no_count_column_is_an_error_not_a_leak(table):
    with pytest.raises(KeyError, match="privacy floor of 30 responses cannot be checked"):
        apply_min_n(table.drop(columns="n"))


def test_min_n_from_manifest():
    assert min_n_of({"parameters": {"dashboard": {"min_n": 5}}}) == 5
    assert min_n_of({"parameters": {}}) == MIN_N
    assert min_n_of(None) == MIN_N
