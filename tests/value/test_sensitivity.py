import numpy as np
import pandas as pd
import pytest

from cxkit.value.initiatives import resolve
from cxkit.value.sensitivity import SENSITIVITY_COLUMNS, specification_sensitivity


def test_one_row_per_specification_default_first(value_result_factory):
    t = pd.DataFrame({"customer_id": [f"c{i}" for i in range(30)],
                      "plan": np.where(np.arange(30) % 2 == 0, "basic", "pro"),
                      "region": np.where(np.arange(30) % 3 == 0, "N", "S"),
                      "score": np.arange(30) % 11 * 1.0})
    t.attrs.update({"score_name": "nps", "horizon_days": 365})
    calls = []

    def fake_fit(table, *, segment, covariates, **kw):
        calls.append((segment, tuple(covariates), kw))
        b = 0.2 if covariates else 0.6  # the unadjusted model overstates the slope
        res = value_result_factory({"a": [0.5, 1.0], "b": [b, b], "c": [5.0, 6.0],
                                    "d": [0.0, 0.0], "sigma": 0.3}, n_draws=20)
        res.diagnostics = {"passed": segment == "plan"}
        return res

    band = resolve({"initiatives": [{"name": "band",
                                     "changes": [{"score_band": {"from": [0, 6], "to": 7}}]}]})[0]
    out = specification_sensitivity(t, band, segments=["plan", "region"], driver_result=None,
                                    responses=t, fit=fake_fit, draws=5)
    assert list(out.columns) == SENSITIVITY_COLUMNS
    assert out["specification"].tolist() == [
        "pooled by plan, adjusted for region", "pooled by region, adjusted for plan",
        "pooled by plan alone (no adjustment)", "pooled by region alone (no adjustment)"]
    assert calls[0] == ("plan", ("region",), {"draws": 5})
    assert out["ratio_to_default"].iloc[0] == 1.0
    assert out["ratio_to_default"].iloc[1] == pytest.approx(1.0)
    assert out["ratio_to_default"].iloc[2] > 1.5  # the unadjusted slope moves the headline
    assert out["gate_passed"].tolist() == [True, False, True, False]
    assert out.attrs["initiative"] == "band"


def test_gate_and_separation_warnings_are_not_repeated_per_specification(value_result_factory):
    import warnings

    t = pd.DataFrame({"customer_id": ["a", "b"], "plan": ["basic", "pro"],
                      "region": ["N", "S"], "score": [3.0, 9.0]})
    t.attrs.update({"score_name": "nps", "horizon_days": 365})

    def noisy_fit(table, *, segment, covariates, **kw):
        warnings.warn("value model failed the convergence gate (do not publish): r_hat",
                      UserWarning)
        res = value_result_factory({"a": [0.5, 1.0], "b": [0.2, 0.2], "c": [5.0, 6.0],
                                    "d": [0.0, 0.0], "sigma": 0.3}, n_draws=10)
        res.diagnostics = {"passed": False}
        return res

    band = resolve({"initiatives": [{"name": "band",
                                     "changes": [{"score_band": {"from": [0, 6], "to": 7}}]}]})[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = specification_sensitivity(t, band, segments=["plan", "region"],
                                        driver_result=None, responses=t, fit=noisy_fit)
    assert not out["gate_passed"].any()
