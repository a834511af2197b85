"""A small, fully known run folder in the layout ``cxkit run`` writes, for the dashboard.

Values are chosen so the tests can assert exact answers: in North the top driver is
``delivery``, in South it is ``price``; customer quadrants and regions follow a fixed pattern.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

RUN_ID = "2024-05-01T060000Z"
SEGMENTS = {
    # segment -> {driver: (importance_mean, p_top3)}; rank follows importance
    "North": {"delivery": (0.90, 0.99), "app": (0.50, 0.80), "price": (0.20, 0.40),
              "product": (0.10, 0.05)},
    "South": {"price": (0.80, 0.97), "product": (0.60, 0.85), "delivery": (0.30, 0.50),
              "app": (0.05, 0.02)},
}
SCENARIOS = [  # scenario, driver, delta, draws mean (revenue change), draws sd
    ("faster delivery", "delivery", 1.0, 12_000.0, 3_000.0),
    ("cheaper plan", "price", -0.5, 5_000.0, 4_000.0),
    ("app redesign", "app", 1.0, -1_000.0, 2_000.0),
]
N_DRAWS = 400


def driver_importance() -> pd.DataFrame:
    rows = []
    for segment, drivers in SEGMENTS.items():
        ranked = sorted(drivers.items(), key=lambda kv: -kv[1][0])
        for rank, (driver, (imp, p3)) in enumerate(ranked, start=1):
            rows.append({"segment": segment, "driver": driver,
                         "effect_mean": imp * 2, "effect_hdi_low": imp * 2 - 0.3,
                         "effect_hdi_high": imp * 2 + 0.3, "importance_mean": imp,
                         "importance_hdi_low": imp - 0.05, "importance_hdi_high": imp + 0.05,
                         "p_top3": p3, "rank": rank})
    # shuffle so the App has to sort by rank itself
    return pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)


def scenario_draws() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame([{"scenario": name, "draw": d, "delta_revenue": v}
                         for name, _, _, mu, sd in SCENARIOS
                         for d, v in enumerate(rng.normal(mu, sd, N_DRAWS))])


def scenarios(draws: pd.DataFrame) -> pd.DataFrame:
    from cxkit.dashboard import hdi

    rows = []
    for name, driver, delta, _, _ in SCENARIOS:
        d = draws.loc[draws.scenario == name, "delta_revenue"].to_numpy()
        low, high = hdi(d)
        rows.append({"scenario": name, "driver": driver, "delta": delta,
                     "delta_score_mean": delta * 3.0, "delta_revenue_mean": d.mean(),
                     "delta_revenue_hdi_low": low, "delta_revenue_hdi_high": high,
                     "p_positive": (d > 0).mean()})
    out = pd.DataFrame(rows)
    out["rank"] = out["delta_revenue_mean"].rank(ascending=False).astype(int)
    return out


def quadrants() -> pd.DataFrame:
    # 24 customers: region alternates North/South, plan cycles basic/basic/pro,
    # quadrant cycles over four (Dangling only for odd ids -> South only).
    quads = ["Model", "Growth", "At-risk", "Model", "Growth", "Dangling"]
    return pd.DataFrame({
        "customer_id": [f"c{i:03d}" for i in range(24)],
        "score": [float(i % 11) for i in range(24)],
        "revenue_pre": [100.0 + 10 * i for i in range(24)],
        "quadrant": [quads[i % 6] for i in range(24)],
        "region": ["North" if i % 2 == 0 else "South" for i in range(24)],
        "plan": ["pro" if i % 3 == 2 else "basic" for i in range(24)],
    })


def journey_gaps() -> pd.DataFrame:
    rows = []
    for tp, rule, unit, base in (("delivery", "on_time", "hours", 0.7),
                                 ("support", "first_response_sla", "hours", 0.9)):
        for seg_var, values in (("region", ["North", "South"]), ("plan", ["basic", "pro"])):
            for j, value in enumerate(values):
                share = base - 0.1 * j
                rows.append({"touchpoint": tp, "rule": rule, "segment_var": seg_var,
                             "segment_value": value, "n": 50 + j, "mean_gap": 5.0 * (j + 1),
                             "share_met": share, "share_met_low": share - 0.05,
                             "share_met_high": share + 0.05, "unit": unit})
    return pd.DataFrame(rows)


def manifest(**overrides) -> dict:
    return {"run_id": RUN_ID, "status": "ok", "started_at": "2024-05-01T06:00:00+00:00",
            "finished_at": "2024-05-01T06:20:00+00:00", "params": {"run": {"name": "cx"}},
            **overrides}


def make_run_dir(root: Path, *, with_draws: bool = True, manifest_overrides=None,
                 skip: tuple[str, ...] = ()) -> Path:
    """Write a run folder under ``root``; ``skip`` names tables (or "manifest") to leave out."""
    run_dir = root / RUN_ID
    (run_dir / "tables").mkdir(parents=True)
    (run_dir / "models" / "drivers").mkdir(parents=True)
    draws = scenario_draws()
    tables = {"driver_importance": driver_importance(), "scenarios": scenarios(draws),
              "quadrants": quadrants(), "journey_gaps": journey_gaps()}
    if with_draws:
        tables["scenario_draws"] = draws
    for name, table in tables.items():
        if name not in skip:
            table.to_parquet(run_dir / "tables" / f"{name}.parquet", index=False)
    if "manifest" not in skip:
        (run_dir / "manifest.json").write_text(
            json.dumps(manifest(**(manifest_overrides or {}))), encoding="utf-8")
    return run_dir


@pytest.fixture
def run_dir(tmp_path) -> Path:
    return make_run_dir(tmp_path)


@pytest.fixture
def run_factory(tmp_path):
    def factory(**kwargs) -> Path:
        return make_run_dir(tmp_path, **kwargs)
    return factory


@pytest.fixture
def fx():
    """The fixture's constants and builders (test modules cannot import this conftest)."""
    from types import SimpleNamespace

    return SimpleNamespace(RUN_ID=RUN_ID, SEGMENTS=SEGMENTS, SCENARIOS=SCENARIOS,
                           N_DRAWS=N_DRAWS, quadrants=quadrants, journey_gaps=journey_gaps,
                           scenario_draws=scenario_draws, make_run_dir=make_run_dir)


@pytest.fixture(scope="module")
def module_run_dir(tmp_path_factory) -> Path:
    """One run folder shared by the tests of a module (the browser tests start one server)."""
    return make_run_dir(tmp_path_factory.mktemp("reports"))
