"""A small, fully known pair of run folders in the layout ``cxkit run`` writes, with every
table the four dashboards read (the contracts in /work/plan/CONTRACTS.md and
docs/ARCHITECTURE.md), so tests can assert exact answers.

* 80 customers: region North (i % 8 < 5: 50), South (i % 8 in 5, 6: 20), Tiny (i % 8 == 7:
  10, under the privacy floor of 30). Journeys: everyone has awareness; purchase unless
  i % 4 == 3; delivery for every purchaser; usage for even purchasers.
* driver segments All (200 responses), North (120: delivery delay matters most),
  Tiny (12: under the floor).
* voice: 88 commenting respondents (i < 45 North, i < 80 South, else Tiny: 8, under the
  floor); topic 1 "late delivery" (i % 2 == 0; in the previous run i % 4 == 0), topic 2
  "price" (i % 3 == 0), topic 3 "app crash" (i % 10 == 0: 9 mentions, under the floor, so
  no example comments). Shares are computed with no floor (min_n=1); tables are written with
  ``Run.save_table``, which applies the floor of 30 as the notebooks' saves do, and the
  pages apply it again to what they show.
* initiatives: "faster delivery" (cost 10,000, revenue draws N(15,000, 3,000)), "app
  redesign" (cost 20,000, draws N(12,000, 4,000)) and the planned combination of both.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxkit.rundir import Run

RUN_ID = "2024-05-01T060000Z"
PREVIOUS_ID = "2024-04-01T060000Z"
N_CUSTOMERS = 80
N_DRAWS = 400
INITIATIVES = [  # name, kind, n_targeted, one-off, per customer, per period, periods, mu, sd
    ("faster delivery", "single", 1000, 10_000.0, 0.0, 0.0, 0, 15_000.0, 3_000.0),
    ("app redesign", "single", 500, 14_000.0, 4.0, 1_000.0, 4, 12_000.0, 4_000.0),
    ("both", "combination", 1500, 24_000.0, 4.0, 1_000.0, 4, 25_000.0, 5_000.0),
]


def region(i: int) -> str:
    return "North" if i % 8 < 5 else ("South" if i % 8 < 7 else "Tiny")


def customers() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(N_CUSTOMERS)],
                         "region": [region(i) for i in range(N_CUSTOMERS)],
                         "channel": ["web" if i % 2 else "app" for i in range(N_CUSTOMERS)],
                         "plan": ["pro" if i % 3 == 0 else "basic" for i in range(N_CUSTOMERS)]})


def events() -> pd.DataFrame:
    rows = []
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    for i in range(N_CUSTOMERS):
        steps = [("awareness", "page_view", 0)]
        if i % 4 != 3:
            steps += [("purchase", "order", 2), ("delivery", "delivery", 5)]
            if i % 2 == 0:
                steps.append(("usage", "login", 9))
        for k, (stage, tp, day) in enumerate(steps):
            rows.append({"event_id": f"e{i:03d}-{k}", "customer_id": f"C{i:03d}",
                         "event_ts": t0 + pd.Timedelta(days=day + i % 3), "stage": stage,
                         "touchpoint": tp, "source": "fixture", "source_row": len(rows)})
    return pd.DataFrame(rows)


def journey_gaps() -> pd.DataFrame:
    rows = []
    for tp, rule, unit, base in (("delivery", "promised_vs_actual", "days", 0.8),
                                 ("support_ticket", "sla_vs_actual", "hours", 0.6)):
        for var, value, n, shift in (("overall", "all", 98, 0.0), ("region", "North", 50, 0.1),
                                     ("region", "South", 40, -0.2), ("region", "Tiny", 8, 0.3)):
            s = base + shift
            rows.append({"touchpoint": tp, "rule": rule, "segment_var": var,
                         "segment_value": value, "n": n, "mean_gap": 1.5, "median_gap": 1.0,
                         "share_met": s, "share_met_low": s - 0.05, "share_met_high": s + 0.05,
                         "unit": unit})
    return pd.DataFrame(rows)


def driver_importance() -> pd.DataFrame:
    effects = {  # segment -> n, [(driver, effect)]
        "All": (200, [("rating_price", 0.45), ("gap_delivery", -0.30), ("rating_app", 0.02)]),
        "North": (120, [("gap_delivery", -0.80), ("rating_price", 0.20), ("rating_app", 0.05)]),
        "Tiny": (12, [("rating_app", 2.0), ("rating_price", 0.1), ("gap_delivery", -0.1)]),
    }
    rows = []
    for seg, (n, drivers) in effects.items():
        for rank, (driver, eff) in enumerate(sorted(drivers, key=lambda d: -abs(d[1])), 1):
            imp = abs(eff)
            rows.append({"segment": seg, "driver": driver, "effect_mean": eff,
                         "effect_low": eff - 0.1, "effect_high": eff + 0.1,
                         "importance_mean": imp, "importance_low": max(imp - 0.1, 0),
                         "importance_high": imp + 0.1, "p_top3": 1.0, "rank": rank,
                         "p_positive": float(eff > 0), "n": n})
    return pd.DataFrame(rows)


def importance_performance(imp: pd.DataFrame) -> pd.DataFrame:
    t = imp[["segment", "driver", "importance_mean", "importance_low",
             "importance_high", "n"]].rename(columns={"n": "performance_n"}).copy()
    t["performance_norm"] = np.linspace(0.3, 0.9, len(t))
    t["performance_norm_low"] = t["performance_norm"] - 0.05
    t["performance_norm_high"] = t["performance_norm"] + 0.05
    t["importance_median"] = t.groupby("segment")["importance_mean"].transform("median")
    t["performance_median"] = t.groupby("segment")["performance_norm"].transform("median")
    t["quadrant"] = np.where(t["importance_mean"] >= t["importance_median"],
                             "Concentrate here", "Low priority")
    return t


def nps_by_segment() -> pd.DataFrame:
    return pd.DataFrame({"segment": ["North", "South", "Tiny", "All"], "n": [120, 68, 12, 200],
                         "nps_mean": [25.0, 10.0, 80.0, 20.0],
                         "nps_low": [18.0, 2.0, 50.0, 15.0],
                         "nps_high": [32.0, 18.0, 95.0, 25.0]})


def initiative_draws() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    return pd.DataFrame([{"initiative": name, "draw": d, "revenue_change": v,
                          "customers_kept": v / 300, "delta_satisfaction": 0.2}
                         for name, *_, mu, sd in INITIATIVES
                         for d, v in enumerate(rng.normal(mu, sd, N_DRAWS))])


def initiatives(draws: pd.DataFrame) -> pd.DataFrame:
    from cxkit.value.roi import roi_draws, roi_summary

    base = pd.DataFrame([{"initiative": n, "kind": k, "currency": "BRL", "horizon_days": 180,
                          "n_targeted": nt, "cost_one_off": c1, "cost_per_customer": cc,
                          "cost_per_period": cp, "periods": p}
                         for n, k, nt, c1, cc, cp, p, _, _ in INITIATIVES])
    s = roi_summary(roi_draws(draws, base))
    out = base.merge(s, on="initiative")
    out["rank"] = out["roi_mean"].rank(ascending=False).astype(int)
    out["flags"] = ""
    return out


def quadrants() -> pd.DataFrame:
    c = customers()
    score = np.array([(i * 7) % 11 for i in range(N_CUSTOMERS)], dtype=float)
    revenue = np.array([50.0 + (i * 37) % 200 for i in range(N_CUSTOMERS)])
    quad = np.where(score >= 7, np.where(revenue >= 140, "Model", "Growth"),
                    np.where(revenue >= 140, "At-risk", "Dangling"))
    # as value.quadrant_table saves it: the thresholds travel in the table's attrs
    out = c.assign(score=score, revenue_pre=revenue, quadrant=quad, active=True)
    out.attrs.update(score_threshold=7.0, revenue_threshold=140.0)
    return out


def revenue_at_risk() -> pd.DataFrame:
    rows = [("At-risk", "region", "North", 45, 9000.0), ("At-risk", "region", "South", 33, 5000.0),
            ("At-risk", "region", "Tiny", 6, 1500.0), ("At-risk", "plan", "basic", 50, 9500.0),
            ("At-risk", "plan", "pro", 34, 6000.0)]
    return pd.DataFrame([{"quadrant": q, "segment_var": v, "segment_value": s, "customers": n,
                          "revenue_at_risk_mean": m, "revenue_at_risk_low": 0.7 * m,
                          "revenue_at_risk_high": 1.4 * m, "currency": "BRL",
                          "horizon_days": 180} for q, v, s, n, m in rows])


def at_risk() -> pd.DataFrame:
    q = quadrants()
    q = q[q["quadrant"] == "At-risk"].copy()
    q["p_leave_mean"] = [0.1 + 0.8 * (k % 10) / 9 for k in range(len(q))]
    q["expected_value_mean"] = q["revenue_pre"] * 1.1
    q["revenue_at_risk_mean"] = q["p_leave_mean"] * q["expected_value_mean"]
    q["issue_1"] = "delivery 3.2 days late"
    q["issue_2"] = "support answer after 30 hours"
    q["issue_3"] = ""
    return q[["customer_id", "region", "channel", "plan", "score", "p_leave_mean",
              "expected_value_mean", "revenue_at_risk_mean", "issue_1", "issue_2", "issue_3"]]


VOICE_TOPICS = pd.DataFrame({
    "topic": [1, 2, 3], "label": ["late delivery", "price", "app crash"],
    "keywords": ["late, delivery, days, parcel", "price, expensive, cheap, value",
                 "app, crash, login, update"]})


def voice_tables(*, previous: bool = False) -> dict[str, pd.DataFrame]:
    """``topics``, ``topic_prevalence`` and ``topic_examples`` made by cxkit.voice itself."""
    from cxkit.voice import example_verbatims, topic_prevalence

    n = 88
    i = np.arange(n)
    late = (i % 4 == 0) if previous else (i % 2 == 0)
    data = pd.DataFrame({
        "has_verbatim": 1, "region": np.where(i < 45, "North", np.where(i < 80, "South", "Tiny")),
        "topic_1": late.astype(int), "topic_2": (i % 3 == 0).astype(int),
        "topic_3": (i % 10 == 0).astype(int)})
    data["verbatim"] = [" and ".join(w for w, f in (
        (f"parcel {k} came {k % 7 + 2} days late", a), (f"price {k} too expensive", b),
        (f"app crashed at login {k}", c)) if f) or f"fine {k}"
        for k, a, b, c in zip(i, data["topic_1"], data["topic_2"], data["topic_3"])]
    return {"tables/topics": VOICE_TOPICS,
            "tables/topic_prevalence": topic_prevalence(data, VOICE_TOPICS,
                                                        segments=["region"], min_n=1),
            "tables/topic_examples": example_verbatims(data, VOICE_TOPICS, min_n=1)}


def manifest(run_id: str, **overrides) -> dict:
    day = run_id[:10]
    return {"run_id": run_id, "name": "cx-test", "status": "succeeded",
            "started_at": f"{day}T06:00:00+00:00", "finished_at": f"{day}T06:20:00+00:00",
            "parameters": {"run": {"name": "cx-test"},
                           "drivers": {"outcome": "nps", "family": "gaussian",
                                       "segments": ["region"]},
                           "journeys": {"gap_segments": ["region", "channel", "plan"]},
                           "value": {"segment": "plan", "segments": ["region", "channel"]}},
            "warnings": [], **overrides}


def make_run_dir(root: Path, run_id: str = RUN_ID, *, skip: tuple[str, ...] = (),
                 nps_all: float = 20.0, manifest_overrides: dict | None = None) -> Path:
    """Write a run folder under ``root``; ``skip`` names tables (or "manifest") to leave out."""
    run_dir = root / run_id
    (run_dir / "tables").mkdir(parents=True)
    (run_dir / "ingest").mkdir()
    draws = initiative_draws()
    imp = driver_importance()
    nps = nps_by_segment()
    nps.loc[nps["segment"] == "All", "nps_mean"] = nps_all
    tables = {"tables/driver_importance": imp,
              "tables/importance_performance": importance_performance(imp),
              "tables/nps_by_segment": nps, "tables/journey_gaps": journey_gaps(),
              "tables/initiatives": initiatives(draws), "tables/initiative_draws": draws,
              "tables/quadrants": quadrants(), "tables/revenue_at_risk": revenue_at_risk(),
              "tables/at_risk": at_risk(), "ingest/events": events(),
              "ingest/customers": customers(), **voice_tables(previous=run_id == PREVIOUS_ID)}
    run = Run(run_dir)
    for name, table in tables.items():
        kind, key = name.rsplit("/", 1)
        if key in skip:
            continue
        if kind == "tables":  # as the notebooks save them: the privacy floor applied
            run.save_table(key, table)
        else:
            table.to_parquet(run.ingest_path(key), index=False)
    if "manifest" not in skip:
        (run_dir / "manifest.json").write_text(
            json.dumps(manifest(run_id, **(manifest_overrides or {}))), encoding="utf-8")
    return run_dir


def make_reports(root: Path) -> Path:
    """A reports folder with the previous run (NPS 15) and the current one (NPS 20), and
    ``latest`` pointing at the current one."""
    make_run_dir(root, PREVIOUS_ID, nps_all=15.0)
    current = make_run_dir(root, RUN_ID)
    (root / "latest").symlink_to(RUN_ID)
    return current


@pytest.fixture
def run_dir(tmp_path) -> Path:
    return make_reports(tmp_path / "reports")


@pytest.fixture
def run_factory(tmp_path):
    def factory(**kwargs) -> Path:
        return make_run_dir(tmp_path / "reports", **kwargs)
    return factory


@pytest.fixture(scope="module")
def module_run_dir(tmp_path_factory) -> Path:
    """One reports folder shared by a module's tests (the browser tests start one server)."""
    return make_reports(tmp_path_factory.mktemp("cx") / "reports")
