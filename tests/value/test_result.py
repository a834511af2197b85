import numpy as np
import pandas as pd
import pytest

from cxkit.value.result import ValueResult, cell_labels

PARAMS = {"a": [0.5, 1.0], "b": [0.3, 0.2], "c": [5.0, 6.0], "d": [0.05, 0.1], "sigma": 0.3}


def test_cell_labels_and_index(value_result_factory):
    t = pd.DataFrame({"plan": ["pro", "basic"], "region": ["N", "S"]})
    assert cell_labels(t, ["plan", "region"]).tolist() == ["pro|N", "basic|S"]
    vr = value_result_factory(PARAMS, n_draws=4)
    assert vr.cell_index(t).tolist() == [1, 0]  # fitted on plan alone
    with pytest.raises(KeyError, match=r"no segment column\(s\) \['plan'\]"):
        vr.cell_index(pd.DataFrame({"region": ["N"]}))


def test_expected_value_formula(value_result_factory):
    vr = value_result_factory(PARAMS, n_draws=10)
    ev = vr.expected_value([9.0, 4.0], ["pro", "basic"])
    assert ev.shape == (10, 2)
    p_pro = 1 / (1 + np.exp(-(1.0 + 0.2 * 2)))
    p_basic = 1 / (1 + np.exp(-(0.5 - 0.3 * 3)))
    assert ev[0, 0] == pytest.approx(p_pro * np.exp(6.0 + 0.1 * 2 + 0.045))
    assert ev[0, 1] == pytest.approx(p_basic * np.exp(5.0 - 0.05 * 3 + 0.045))
    with pytest.raises(KeyError, match=r"\['gold'\] were not in the fitted data"):
        vr.expected_value([9.0], ["gold"])


def test_save_load_round_trip(tmp_path, value_result_factory):
    vr = value_result_factory(PARAMS, noise=0.1, n_draws=40)
    vr.diagnostics = {"passed": True, "max_r_hat": np.float64(1.002)}
    out = vr.save(tmp_path / "value")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "idata.nc",
                                                     "summary.parquet"]
    back = ValueResult.load(out)
    assert back.config == vr.config
    assert back.diagnostics == {"passed": True, "max_r_hat": 1.002}
    np.testing.assert_allclose(back.expected_value([3.0, 8.0], ["basic", "pro"]),
                               vr.expected_value([3.0, 8.0], ["basic", "pro"]))
    s = pd.read_parquet(out / "summary.parquet")
    assert set(s["parameter"]) >= {"a", "b", "c", "d", "sigma"}
    assert s.query("parameter == 'c' and segment == 'pro'")["mean"].iloc[0] == pytest.approx(
        6.0, abs=0.05)
    with pytest.raises(FileNotFoundError, match="no saved value model"):
        ValueResult.load(tmp_path / "nothing")


