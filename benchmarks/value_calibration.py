"""Coverage of the initiatives' 90% intervals on `cxkit simulate` data, over many seeds.

For each seed: simulate a small sample, fit the driver model (ordinal NPS, segments region x
channel, as the simulator generates it) and the value model (pooled by plan) for real, price
the six shipped initiatives (``params/initiatives/sample.yaml``) and check whether each true
revenue change (``tests/value/_sim.py``: the generative parameters of ``truth.json``, each
customer's noise conditioned on the score they gave) lies inside its 90% interval. A second
pricing uses the true driver model with the fitted value model, which isolates the value
model's part. Printed: coverage per initiative and overall with a 90% binomial interval, and
the mean and spread of ``z = (truth - posterior mean) / posterior sd`` (calibrated: mean 0,
sd 1). The initiatives share the value model's retention slope, so one seed's six checks
are not independent: the coverage of seeds (all six inside) is printed too.

Usage::

    .venv/bin/python benchmarks/value_calibration.py --seeds 1-20 --customers 600 \\
        --out /tmp/calibration.csv
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _seeds(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def one_seed(seed: int, n_customers: int, draws: int, family: str,
             value_only: bool = False) -> pd.DataFrame:
    from cxkit.drivers import fit_drivers
    from cxkit.value.impact import evaluate_initiatives
    from cxkit.value.initiatives import load_initiatives
    from cxkit.value.model import fit_value_model
    from tests.value._sim import TrueOrdinal, simulated_inputs, true_revenue_change

    sim, table = simulated_inputs(seed=seed, n_customers=n_customers)
    defs = load_initiatives([str(ROOT / "params/initiatives/sample.yaml")])
    t0 = time.perf_counter()
    kw = {"categories": list(range(11))} if family == "ordinal" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drv = None if value_only else fit_drivers(
            sim.analysis, outcome="nps", drivers=list(sim.truth["drivers"]),
            segments=["region", "channel"], family=family, draws=draws, tune=draws, chains=2,
            seed=seed, gate="off", **kw)
        val = fit_value_model(table, segment="plan", draws=draws, tune=draws, chains=2,
                              seed=seed, gate="off")
    fit_s = time.perf_counter() - t0
    rows = []
    drivers = [("true", TrueOrdinal(sim.truth, n_draws=2 * draws))]
    if drv is not None:
        drivers.insert(0, ("fitted", drv))
    for driver_kind, driver in drivers:
        out, d = evaluate_initiatives(defs, driver, val, sim.analysis, table,
                                      max_samples=2 * draws, seed=seed)
        out = out.set_index("initiative")
        sd = d.groupby("initiative")["revenue_change"].std()
        for dfn in defs:
            name = dfn["name"]
            true_rev, _ = true_revenue_change(sim, table, dfn)
            r = out.loc[name]
            rows.append({"seed": seed, "driver_model": driver_kind, "initiative": name,
                         "truth": true_rev, "mean": r["revenue_change_mean"],
                         "low": r["revenue_change_low"], "high": r["revenue_change_high"],
                         "inside": bool(r["revenue_change_low"] < true_rev
                                        < r["revenue_change_high"]),
                         "z": (true_rev - r["revenue_change_mean"]) / sd[name],
                         "fit_s": fit_s})
    return pd.DataFrame(rows)


def binomial_interval(k: int, n: int, prob: float = 0.90) -> tuple[float, float]:
    """Equal-tailed Jeffreys interval of a share ``k / n``."""
    from cxkit.stats import beta_equal_tailed

    lo, hi = beta_equal_tailed(k + 0.5, n - k + 0.5, prob)
    return float(lo), float(hi)


def report(res: pd.DataFrame) -> None:
    for kind, part in res.groupby("driver_model", sort=False):
        k, n = int(part["inside"].sum()), len(part)
        lo, hi = binomial_interval(k, n)
        seeds = part.groupby("seed")["inside"].all()
        print(f"\ndriver model {kind}: {k}/{n} true effects inside their 90% interval "
              f"({k / n:.0%}, 90% interval {lo:.0%}-{hi:.0%}); seeds with all six inside: "
              f"{int(seeds.sum())}/{len(seeds)}; z mean {part['z'].mean():+.2f}, "
              f"sd {part['z'].std():.2f}")
        by = part.groupby("initiative", sort=False).agg(
            inside=("inside", "mean"), z_mean=("z", "mean"), z_sd=("z", "std"),
            truth_over_mean=("truth", "sum"))
        by["truth_over_mean"] = (part.groupby("initiative", sort=False)["truth"].sum()
                                 / part.groupby("initiative", sort=False)["mean"].sum())
        print(by.round(2).to_string())


def main(argv=None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1-20", help="e.g. 1-20 or 1,2,5-9")
    ap.add_argument("--customers", type=int, default=600)
    ap.add_argument("--draws", type=int, default=400, help="draws = tune, per chain (2 chains)")
    ap.add_argument("--family", default="ordinal", choices=["ordinal", "gaussian"])
    ap.add_argument("--value-only", action="store_true",
                    help="skip the driver fit: price with the true driver model only")
    ap.add_argument("--out", default=None, help="CSV of every check, appended seed by seed")
    args = ap.parse_args(argv)
    frames = []
    for seed in _seeds(args.seeds):
        t0 = time.perf_counter()
        part = one_seed(seed, args.customers, args.draws, args.family, args.value_only)
        frames.append(part)
        counts = ", ".join(f"{int(p['inside'].sum())}/{len(p)} inside ({k} driver model)"
                           for k, p in part.groupby("driver_model", sort=False))
        print(f"seed {seed}: {counts}; {time.perf_counter() - t0:.0f} s", flush=True)
        if args.out:
            pd.concat(frames).to_csv(args.out, index=False)
    res = pd.concat(frames, ignore_index=True)
    report(res)
    return res


if __name__ == "__main__":
    main()
