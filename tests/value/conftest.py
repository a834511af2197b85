"""Shared fixtures for the value tests: a hand-made journey, fixed-draw posteriors and a
stand-in driver result (so scenarios are tested without sampling)."""

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

CUTOFF = "2025-01-01"


def _ts(values):
    return pd.to_datetime(values, utc=True, format="ISO8601")


@pytest.fixture
def journey():
    """events / responses / customers whose value table is worked out by hand in the tests.

    cutoff 2025-01-01, horizon 365 days -> outcome window (2025-01-01, 2026-01-01].
    """
    customers = pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5"],
        "region": ["N", "S", "S", "N", "N"],
        "plan": ["basic", "pro", "basic", "pro", "basic"],
        "email": ["a@x", "b@x", "c@x", "d@x", "e@x"],
    })
    responses = pd.DataFrame({
        "response_id": ["r1", "r2", "r3", "r4", "r5", "r6", "r7"],
        "customer_id": ["c1", "c1", "c1", "c2", "c2", "c3", "c5"],
        "responded_at": _ts(["2024-03-01", "2024-10-01", "2025-02-01", "2024-12-31 23:00",
                             "2024-12-31 23:30", "2025-01-01 00:00", "2025-03-01"]),
        "nps": [5, 9, 2, 3, np.nan, 7, 10],
        "gap_delivery": [1.0, 2.0, 0.0, 4.0, 1.0, 0.0, 3.0],
    })
    events = pd.DataFrame({
        "event_id": [f"e{i}" for i in range(12)],
        "customer_id": ["c1", "c1", "c1", "c1", "c2", "c2", "c2", "c2", "c3", "c3", "c3", "c4"],
        "event_ts": _ts(["2024-05-01", "2024-06-01", "2025-06-01", "2025-07-01",
                         "2024-01-01", "2025-01-01 00:00", "2026-01-01 00:00", "2026-01-02",
                         "2025-01-01T01:00:00+02:00", "2025-03-01", "2025-04-01",
                         "2025-05-01"]),
        "value": [100.0, None, 50.0, 25.0, 200.0, 30.0, 40.0, 60.0, 15.0, 0.0, -10.0, 999.0],
    })
    return events, responses, customers


def make_value_result(params, *, segments=("basic", "pro"), n_draws=400, noise=0.0,
                      score_ref=7.0, seed=0, score_name="nps"):
    """A ValueResult whose posterior is ``params`` (per segment) plus optional Gaussian noise.

    ``params``: dict with ``a, b, c, d`` (lists per segment) and ``sigma`` (scalar).
    """
    import arviz as az

    from cxkit.value.model import ValueResult

    rng = np.random.default_rng(seed)
    post = {}
    for p in ("a", "b", "c", "d"):
        v = np.asarray(params[p], dtype=float)
        post[p] = v[None, None, :] + noise * rng.normal(size=(2, n_draws // 2, len(v)))
        post[f"mu_{p}"] = post[p].mean(axis=-1)
        post[f"tau_{p}"] = np.full((2, n_draws // 2), 0.1)
    post["sigma"] = np.full((2, n_draws // 2), float(params["sigma"]))
    dims = {p: ["segment"] for p in ("a", "b", "c", "d")}
    idata = az.from_dict(posterior=post, coords={"segment": list(segments)}, dims=dims)
    config = {"score": "score", "segment": "plan", "score_ref": score_ref,
              "segments": list(segments), "score_name": score_name, "score_min": 0.0,
              "score_max": 10.0}
    idata.attrs["cxkit_value_config"] = json.dumps(config)
    return ValueResult(idata=idata, config=config)


@pytest.fixture
def value_result_factory():
    return make_value_result


class StandInDriver:
    """expected_outcome = intercept + beta[k] * driver, with fixed draws ``beta``."""

    def __init__(self, driver, beta, intercept=7.0):
        self.driver = driver
        self.beta = np.asarray(beta, dtype=float)
        self.intercept = intercept
        self.calls = 0

    def expected_outcome(self, data, *, max_samples=1000):
        self.calls += 1
        x = data[self.driver].to_numpy(dtype=float)
        beta = self.beta[:max_samples]
        return self.intercept + beta[:, None] * x[None, :]


@pytest.fixture
def stand_in_driver():
    return StandInDriver


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")

