"""Benchmark pricing initiatives (issue #10, criterion 6).

20 initiatives x 4,000 posterior draws x 100,000 customers through
:func:`cxkit.value.evaluate_initiatives` (target: at most 10 s on 2 cores, vectorised, no
Python loop per customer), printed beside a plain pandas loop over the same work: for each
initiative, ``iterrows`` over the customers, the driver change and the value change computed
per customer over the draws. The loop is far too slow to run in full, so it runs on
``--loop-customers`` customers (default 300, with all 20 initiatives so every change kind
counts) and is extrapolated linearly to the full work (customers x initiatives); both sides
are first checked to give the same draws on that subsample.

Inputs are synthetic and fixed (seeded): 3 plans x 4 regions x 3 channels (36 value cells),
NPS 0-10, ratings 1-5, delivery gaps in whole days, breach counts 0-3, support flags. The
driver posterior is a gaussian driver model's (``alpha, beta`` per region, 4,000 draws) with
the ``expected_outcome`` contract of :class:`cxkit.drivers.DriverResult`; the value posterior
is a :class:`cxkit.value.ValueResult` with 4,000 draws per cell.

Usage::

    .venv/bin/python benchmarks/value.py
    .venv/bin/python benchmarks/value.py --customers 20000 --draws 1000 --loop-customers 500
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cxkit.value import ValueResult, evaluate_initiatives, resolve  # noqa: E402

PLANS, REGIONS, CHANNELS = ("basic", "plus", "premium"), ("N", "S", "E", "W"), ("web", "app",
                                                                              "store")
DRIVERS = ["rating_delivery", "rating_app", "gap_delivery", "breach_support_ticket",
           "had_support_ticket"]


class LinearDrivers:
    """Gaussian driver posterior: ``E[score] = alpha[region] + x . beta[region]`` per draw."""

    def __init__(self, n_draws: int, rng: np.random.Generator):
        self.config = SimpleNamespace(family="gaussian", drivers=DRIVERS, segments=["region"])
        mean = np.array([0.45, 0.3, -0.25, -0.9, -0.5])
        self.beta = mean + 0.05 * rng.normal(size=(n_draws, len(REGIONS), len(DRIVERS)))
        self.alpha = 5.0 + 0.1 * rng.normal(size=(n_draws, len(REGIONS)))

    def expected_outcome(self, data: pd.DataFrame, *, max_samples: int = 1000) -> np.ndarray:
        n = min(max_samples, len(self.alpha))
        seg = pd.Categorical(data["region"], categories=REGIONS).codes
        x = data[DRIVERS].to_numpy(float)
        return self.alpha[:n, seg] + np.einsum("nj,dnj->dn", x, self.beta[:n, seg])


def make_inputs(n_customers: int, n_draws: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = n_customers
    table = pd.DataFrame({"customer_id": [f"C{i:07d}" for i in range(n)],
                          "plan": rng.choice(PLANS, n, p=[0.5, 0.3, 0.2]),
                          "region": rng.choice(REGIONS, n), "channel": rng.choice(CHANNELS, n),
                          "score": rng.integers(0, 11, n).astype(float)})
    table.attrs.update({"score_name": "nps", "horizon_days": 365,
                        "cutoff": "2025-01-01T00:00:00+00:00"})
    latest = table[["customer_id", "plan", "region", "channel"]].assign(
        responded_at=pd.Timestamp("2024-06-01", tz="UTC"), nps=table["score"],
        rating_delivery=rng.integers(1, 6, n).astype(float),
        rating_app=rng.integers(1, 6, n).astype(float),
        gap_delivery=np.clip(rng.poisson(1.0, n) - 1, -3, 10).astype(float),
        breach_support_ticket=rng.binomial(3, 0.15, n).astype(float))
    latest["had_support_ticket"] = (latest["breach_support_ticket"] > 0).astype(float)
    cells = [f"{p}|{r}|{c}" for p in PLANS for r in REGIONS for c in CHANNELS]
    import arviz as az

    k = len(cells)
    post = {"a": 0.6 + 0.3 * rng.normal(size=(1, n_draws, k)),
            "b": 0.25 + 0.02 * rng.normal(size=(1, n_draws, 1)) + np.zeros((1, 1, k)),
            "c": 5.5 + 0.4 * rng.normal(size=(1, n_draws, k)),
            "d": 0.04 + 0.005 * rng.normal(size=(1, n_draws, 1)) + np.zeros((1, 1, k)),
            "sigma": 0.3 + 0.01 * rng.normal(size=(1, n_draws))}
    idata = az.from_dict(posterior=post, coords={"segment": cells},
                         dims={p: ["segment"] for p in "abcd"})
    config = {"score": "score", "segment": "plan", "segment_columns": ["plan", "region",
                                                                        "channel"],
              "segments": cells, "score_ref": 7.0, "score_min": 0.0, "score_max": 10.0,
              "horizon_days": 365}
    value = ValueResult(idata=idata, config=config)
    return table, latest, LinearDrivers(n_draws, rng), value


def initiatives(n: int = 20) -> list[dict]:
    base = [
        {"changes": [{"driver": "rating_delivery", "by": 1}]},
        {"changes": [{"driver": "rating_app", "by": 1}], "segments": {"channel": ["app"]}},
        {"changes": [{"driver": "gap_delivery", "close_gap": 0.5}]},
        {"changes": [{"driver": "gap_delivery", "by": -1}], "segments": {"region": ["S", "W"]}},
        {"changes": [{"driver": "breach_support_ticket", "close_gap": 1.0}]},
        {"changes": [{"driver": "had_support_ticket", "by": -1}]},
        {"changes": [{"score_band": {"from": [0, 6], "to": 7}}]},
        {"changes": [{"score_band": {"from": [7, 8], "to": 9}}], "segments": {"plan": ["premium"]}},
        {"changes": [{"driver": "rating_delivery", "by": 1},
                     {"driver": "gap_delivery", "close_gap": 1.0}]},
        {"changes": [{"driver": "rating_app", "by": 2}]},
    ]
    items = []
    for i in range(n):
        spec = dict(base[i % len(base)])
        items.append({"name": f"initiative {i + 1:02d}", **spec,
                      "cost": {"one_off": 1000.0 * (i + 1), "per_customer": 0.5}})
    return resolve({"currency": "EUR", "horizon_days": 365, "initiatives": items})


def loop_baseline(defs, table, latest, drivers, value, n_draws, seed=0):
    """Plain pandas: per initiative, per customer (iterrows), over the draws."""
    rng = np.random.default_rng(seed)
    n_value = value.draws()["sigma"].shape[0]
    pair = rng.choice(n_value, size=n_draws, replace=n_value < n_draws)
    d = {k: v[pair] for k, v in value.draws().items()}
    ranges = {c: (latest[c].min(), latest[c].max()) for c in DRIVERS}
    lookup = {s: i for i, s in enumerate(value.segments)}
    beta = drivers.beta[:n_draws]
    out = {}
    for ini in defs:
        total = np.zeros(n_draws)
        for (_, t), (_, r) in zip(table.iterrows(), latest.iterrows()):
            targeted = False
            ds = np.zeros(n_draws)
            new_score = t["score"]
            for changes, segs in ini["parts"]:
                if not all(str(t[c]) in v for c, v in segs.items()):
                    continue
                targeted = True
                for ch in changes:
                    if ch.kind == "score_band":
                        lo, hi = ch.score_band.band_from
                        if lo <= t["score"] <= hi:
                            new_score += ch.score_band.to - t["score"]
                        continue
                    x = r[ch.driver]
                    x1 = x + ch.by if ch.kind == "by" else x - ch.close_gap * max(x, 0.0)
                    x1 = min(max(x1, ranges[ch.driver][0]), ranges[ch.driver][1])
                    j = DRIVERS.index(ch.driver)
                    ds = ds + beta[:, REGIONS.index(r["region"]), j] * (x1 - x)
            if not targeted:
                continue
            g = lookup[f"{t['plan']}|{t['region']}|{t['channel']}"]

            def ev(s):
                x = s - 7.0
                p = 1 / (1 + np.exp(-(d["a"][:, g] + d["b"][:, g] * x)))
                return p * np.exp(d["c"][:, g] + d["d"][:, g] * x + 0.5 * d["sigma"] ** 2)

            total += ev(np.clip(new_score + ds, 0, 10)) - ev(t["score"])
        out[ini["name"]] = total
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--draws", type=int, default=4_000)
    ap.add_argument("--initiatives", type=int, default=20)
    ap.add_argument("--loop-customers", type=int, default=300)
    ap.add_argument("--loop-initiatives", type=int, default=20)
    args = ap.parse_args(argv)

    table, latest, drivers, value = make_inputs(args.customers, args.draws)
    defs = initiatives(args.initiatives)
    load = os.getloadavg()

    # correctness on the loop's subsample: same draws from both sides
    m, k = args.loop_customers, args.loop_initiatives
    sub_t, sub_l = table.iloc[:m].reset_index(drop=True), latest.iloc[:m].reset_index(drop=True)
    sub_t.attrs.update(table.attrs)
    t0 = time.perf_counter()
    loop = loop_baseline(defs[:k], sub_t, sub_l, drivers, value, args.draws)
    loop_s = time.perf_counter() - t0
    _, vec_draws = evaluate_initiatives(defs[:k], drivers, value, sub_l, sub_t,
                                        max_samples=args.draws, seed=0)
    for name, total in loop.items():
        got = vec_draws.loc[vec_draws["initiative"] == name, "revenue_change"].to_numpy()
        np.testing.assert_allclose(got, total, rtol=1e-7, atol=1e-6)

    t0 = time.perf_counter()
    summary, draws = evaluate_initiatives(defs, drivers, value, latest, table,
                                          max_samples=args.draws, seed=0)
    cx_s = time.perf_counter() - t0
    loop_full = loop_s * (args.customers / m) * (args.initiatives / k)
    res = {"customers": args.customers, "draws": args.draws, "initiatives": args.initiatives,
           "cxkit_s": round(cx_s, 2), "loop_subsample_s": round(loop_s, 2),
           "loop_subsample": f"{k} initiatives x {m} customers",
           "loop_extrapolated_s": round(loop_full, 1),
           "speedup": round(loop_full / cx_s, 1), "target_s": 10.0,
           "passed": cx_s <= 10.0, "load_1min_before": round(load[0], 2),
           "cpus": os.cpu_count(), "draw_rows": len(draws)}
    print(f"cxkit  {args.initiatives} initiatives x {args.draws} draws x {args.customers} "
          f"customers: {cx_s:7.2f} s   (target <= 10 s: {'ok' if res['passed'] else 'MISSED'})")
    print(f"pandas loop on {k} x {m}: {loop_s:.2f} s -> full work extrapolated "
          f"{loop_full:,.0f} s   ratio {res['speedup']:,.0f}x   (same draws on the subsample)")
    print(json.dumps(res))
    return res


if __name__ == "__main__":
    main()
