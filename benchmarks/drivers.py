"""Benchmark the driver model (issue #4, criterion 9).

1. Scale: 1,000,000 simulated responses, 10 drivers, 20 segments, gaussian family. Times
   ``fit_drivers`` end to end (data reduction, model build, nutpie compile, sampling with the
   default 4 chains x (1000 tune + 1000 draws)) and checks the convergence gate.
   Target: at most 30 s on 2 cores.
2. Speed-up at 20,000 rows: the same hierarchical model written naively (one likelihood
   term per respondent, default ``pm.sample``) against ``fit_drivers``. Target: >= 10x.

The naive side is expensive (NOTES.md: 679 s at 20k rows x 8 drivers x 12 segments), so
``--naive-draws/--naive-tune/--naive-chains`` shrink it. The ratio is then computed per
sampler iteration, so both sides are compared at the same amount of work:

    naive_equiv = naive_setup_s + naive_sampling_s * fast_iterations / naive_iterations
    speed-up    = naive_equiv / fast_total_s

with iterations = chains x (tune + draws), setup = the naive model build (``pm.sample``'s
own compile and initialisation count as sampling). Scaling a short naive run up tends to
overstate it (early tuning has the longest trajectories), so the raw wall-time ratio is
printed too: with the naive side doing fewer iterations it is a lower bound.

3. Survey shape (issue #9): 120,000 respondents, 14 ratings 1-5, 6 segments from two
   crossed levels, one driver separated (quasi-complete) in one segment, simulated with
   ``cxkit.simulate.simulate_responses`` (truth kept). Bernoulli target <= 120 s, ordinal
   (1-5 outcome) <= 180 s on 2 cores including compilation, passing the gate. Printed side
   by side in the same run: the gaussian fit of the same shape, and per-segment
   maximum-likelihood fits (statsmodels ``Logit`` / ``OrderedModel``) as the floor; plus
   coverage of the true effects by the 94% HDIs (the separated one excluded), the
   separation found against the truth, and each segment's top driver against the MLE's.

Every figure comes with the load average and the process CPU time: on a shared machine
wall time inflates, CPU time much less.

Usage::

    .venv/bin/python benchmarks/drivers.py                    # scale + speedup, full size
    .venv/bin/python benchmarks/drivers.py --part scale
    .venv/bin/python benchmarks/drivers.py --part speedup --naive-draws 200 --naive-tune 200
    .venv/bin/python benchmarks/drivers.py --part survey      # bernoulli, gaussian, MLE floor
    .venv/bin/python benchmarks/drivers.py --part survey --family ordinal
    .venv/bin/python benchmarks/drivers.py --part survey --target-accept 0.9
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run from a checkout without relying on how (or whether) cxkit was pip-installed.
sys.path.insert(0, str(ROOT))

DRIVERS = {
    "rating_product": 0.6, "rating_delivery": 0.4, "rating_app": 0.2, "rating_price": 0.3,
    "rating_support": 0.25, "rating_returns": 0.15, "gap_delivery": -0.25, "gap_refund": -0.1,
    "had_support_ticket": -0.5, "had_promo": 0.2,
}


def _data(n: int, n_segments: int, seed: int):
    from cxkit.simulate import simulate_responses

    return simulate_responses(n, n_segments=n_segments, drivers=DRIVERS, family="gaussian",
                              seed=seed)


def run_scale(n: int, n_segments: int, seed: int) -> dict:
    from cxkit.drivers import fit_drivers

    df, _ = _data(n, n_segments, seed)
    t0 = time.perf_counter()
    result = fit_drivers(df, outcome="y", drivers=list(DRIVERS), segments="segment", gate="off",
                         seed=seed)
    total = time.perf_counter() - t0
    d = result.diagnostics
    out = {"part": "scale", "rows": n, "drivers": len(DRIVERS), "segments": n_segments,
           "chains": result.config.chains, "draws": result.config.draws, "tune": result.config.tune,
           "parametrization": result.config.parametrization, "fit_s": round(total, 2),
           "timings": {k: round(v, 2) for k, v in result.config.timings.items()},
           "gate_passed": d["passed"], "max_r_hat": d["max_r_hat"], "min_ess_bulk": d["min_ess_bulk"],
           "min_ess_tail": d["min_ess_tail"], "divergences": d["divergences"], "min_bfmi": d["min_bfmi"],
           "target_s": 30, "met": bool(total <= 30 and d["passed"])}
    return out


def naive_model(df, drivers, segments="segment"):
    """The same hierarchy and priors, one likelihood term per respondent (the slow way)."""
    import numpy as np
    import pymc as pm

    x = df[drivers].to_numpy(float)
    z = (x - x.mean(0)) / x.std(0)
    y = df["y"].to_numpy(float)
    ys = (y - y.mean()) / y.std()
    seg_codes, seg_labels = df[segments].factorize(sort=True)
    coords = {"segment": list(seg_labels), "driver": drivers, "obs_id": np.arange(len(df))}
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu_beta_std", 0, 1, dims="driver")
        tau = pm.HalfNormal("tau_beta", 0.5)
        zb = pm.Normal("beta_std_z", 0, 1, dims=("segment", "driver"))
        beta = mu + tau * zb
        alpha = pm.Normal("alpha_std", 0, 1.5, dims="segment")
        sigma = pm.HalfNormal("sigma_std", 1)
        eta = alpha[seg_codes] + (beta[seg_codes] * z).sum(axis=1)
        pm.Normal("y", eta, sigma, observed=ys, dims="obs_id")
    return model


def run_speedup(n: int, n_segments: int, seed: int, naive_draws: int, naive_tune: int,
                naive_chains: int | None) -> dict:
    import pymc as pm

    from cxkit.drivers import fit_drivers

    df, _ = _data(n, n_segments, seed)
    t0 = time.perf_counter()
    fast = fit_drivers(df, outcome="y", drivers=list(DRIVERS), segments="segment", gate="off",
                       seed=seed)
    fast_s = time.perf_counter() - t0
    c = fast.config
    fast_iter = c.chains * (c.tune + c.draws)

    t0 = time.perf_counter()
    model = naive_model(df, list(DRIVERS))
    setup_s = time.perf_counter() - t0
    kwargs = {"draws": naive_draws, "tune": naive_tune, "random_seed": seed, "progressbar": False}
    if naive_chains:
        kwargs["chains"] = naive_chains
    t0 = time.perf_counter()
    with model:
        idata = pm.sample(**kwargs)
    naive_sampling_s = time.perf_counter() - t0
    n_chains = idata.posterior.sizes["chain"]
    naive_iter = n_chains * (naive_tune + naive_draws)
    naive_equiv = setup_s + naive_sampling_s * fast_iter / naive_iter
    return {"part": "speedup", "rows": n, "drivers": len(DRIVERS), "segments": n_segments,
            "fast_s": round(fast_s, 2), "fast_iterations": fast_iter,
            "fast_gate_passed": fast.diagnostics["passed"],
            "naive_setup_s": round(setup_s, 2), "naive_sampling_s": round(naive_sampling_s, 2),
            "naive_chains": n_chains, "naive_draws": naive_draws, "naive_tune": naive_tune,
            "naive_iterations": naive_iter, "naive_equivalent_s": round(naive_equiv, 2),
            "speedup": round(naive_equiv / fast_s, 1),
            "raw_ratio_lower_bound": round((setup_s + naive_sampling_s) / fast_s, 1), "target": 10,
            "met": bool(naive_equiv / fast_s >= 10)}


SURVEY_DRIVERS = {
    "rating_product": 0.6, "rating_delivery": 0.45, "rating_app": 0.2, "rating_price": 0.35,
    "rating_support": 0.3, "rating_returns": 0.1, "rating_packaging": 0.05,
    "rating_website": 0.15, "rating_payment": 0.1, "rating_tracking": 0.25, "rating_staff": 0.4,
    "rating_speed": 0.3, "rating_range": 0.2, "rating_communication": 0.15,
}
SURVEY_SEPARATED = {"segment": "S1|b", "driver": "rating_delivery"}
SURVEY_SEGMENTS = ["segment", "subsegment"]
SURVEY_TARGET_S = {"bernoulli": 120, "ordinal": 180}


def survey_data(n: int, family: str, seed: int):
    """The issue #9 shape: 2 x 3 crossed segments, 14 ratings, one separated driver."""
    from cxkit.simulate import simulate_responses

    separate = SURVEY_SEPARATED if family != "gaussian" else None
    return simulate_responses(n, n_segments=2, two_levels=True, drivers=SURVEY_DRIVERS,
                              family=family, seed=seed, separate=separate)


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def _cpu_s() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(
        resource.RUSAGE_SELF).ru_stime


def mle_floor(df, family: str) -> dict:
    """Per-segment maximum likelihood (statsmodels): time and coefficients per segment."""
    import numpy as np
    from statsmodels.discrete.discrete_model import Logit
    from statsmodels.miscmodels.ordinal_model import OrderedModel
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    drivers = list(SURVEY_DRIVERS)
    t0, c0 = time.perf_counter(), _cpu_s()
    coefs = {}
    with warnings.catch_warnings():
        # The separated segment has no finite MLE: statsmodels warns and stops at maxiter.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message=".*[Ss]eparation.*")
        for (a, b), g in df.groupby(SURVEY_SEGMENTS):
            x = g[drivers].to_numpy(float)
            if family == "bernoulli":
                exog = np.column_stack([np.ones(len(x)), x])
                fit = Logit(g["y"].to_numpy(), exog).fit(disp=0, maxiter=100)
                coefs[f"{a}|{b}"] = dict(zip(drivers, fit.params[1:]))
            else:
                fit = OrderedModel(g["y"].to_numpy(), x, distr="logit").fit(
                    method="bfgs", disp=0, maxiter=500)
                coefs[f"{a}|{b}"] = dict(zip(drivers, fit.params[:len(drivers)]))
    return {"mle_s": round(time.perf_counter() - t0, 2), "mle_cpu_s": round(_cpu_s() - c0, 2),
            "coefs": coefs}


def run_survey(n: int, family: str, seed: int, chains: int | None, draws: int | None,
               tune: int | None, target_accept: float | None = None) -> dict:
    from cxkit.drivers import fit_drivers

    kw = {k: v for k, v in {"chains": chains, "draws": draws, "tune": tune,
                            "target_accept": target_accept}.items() if v}
    out = {"part": f"survey-{family}", "rows": n, "drivers": len(SURVEY_DRIVERS), "segments": 6,
           "load_before": _load(), "settings": kw or "defaults"}
    # Gaussian fit of the same shape (sufficient statistics: the fast case).
    gdf, _ = survey_data(n, "gaussian", seed)
    t0, c0 = time.perf_counter(), _cpu_s()
    g = fit_drivers(gdf, outcome="y", drivers=list(SURVEY_DRIVERS), segments=SURVEY_SEGMENTS,
                    gate="off", seed=seed, progress=False, **kw)
    out["gaussian_s"] = round(time.perf_counter() - t0, 2)
    out["gaussian_cpu_s"] = round(_cpu_s() - c0, 2)
    out["gaussian_gate"] = g.diagnostics["passed"]
    out["gaussian_failures"] = g.diagnostics["failures"]

    df, truth = survey_data(n, family, seed)
    floor = mle_floor(df, family)
    out.update({k: v for k, v in floor.items() if k != "coefs"})
    t0, c0 = time.perf_counter(), _cpu_s()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the separation warning: checked below
        r = fit_drivers(df, outcome="y", drivers=list(SURVEY_DRIVERS), segments=SURVEY_SEGMENTS,
                        family=family, gate="off", seed=seed, progress=False, **kw)
    fit_s = time.perf_counter() - t0
    d = r.diagnostics
    table = r.summary()
    table["true"] = [truth["beta"][s][dr] for s, dr in zip(table["segment"], table["driver"])]
    sep = {(x["segment"], x["driver"]) for x in truth["separated"]}
    keep = [(s, dr) not in sep for s, dr in zip(table["segment"], table["driver"])]
    covered = ((table["hdi_low"] <= table["true"]) & (table["true"] <= table["hdi_high"]))[keep]
    top_model = table.loc[table.groupby("segment")["mean"].idxmax(), ["segment", "driver"]]
    top_mle = {s: max(c, key=c.get) for s, c in floor["coefs"].items()}
    agree = sum(top_mle[s] == dr for s, dr in top_model.itertuples(index=False))
    found = {(x["segment"], x["driver"]) for x in d.get("separation", [])
             if x["issue"].endswith("separation")}
    out.update({
        "fit_s": round(fit_s, 2), "fit_cpu_s": round(_cpu_s() - c0, 2),
        "timings": {k: round(v, 2) for k, v in r.config.timings.items()},
        "parametrization": r.config.parametrization, "n_cells": r.config.n_cells,
        "gate_passed": d["passed"], "max_r_hat": round(d["max_r_hat"], 4),
        "min_ess_bulk": round(d["min_ess_bulk"]), "min_ess_tail": round(d["min_ess_tail"]),
        "divergences": d["divergences"], "min_bfmi": round(d["min_bfmi"], 3),
        "failures": d["failures"],
        "coverage_94": round(float(covered.mean()), 3), "effects_checked": int(covered.size),
        "separation_found": sorted(map(list, found)), "separation_true": sorted(map(list, sep)),
        "top_driver_agrees_with_mle": f"{agree} of {len(top_model)}",
        "ratio_to_gaussian": round(fit_s / out["gaussian_s"], 1),
        "ratio_to_mle": round(fit_s / max(floor["mle_s"], 1e-9), 1),
        "load_after": _load(), "target_s": SURVEY_TARGET_S[family],
    })
    out["met"] = bool(fit_s <= out["target_s"] and d["passed"] and found == sep)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=["scale", "speedup", "all", "survey"], default="all")
    p.add_argument("--family", choices=["bernoulli", "ordinal"], default="bernoulli",
                   help="survey part: outcome family")
    p.add_argument("--survey-rows", type=int, default=120_000)
    p.add_argument("--chains", type=int, default=None, help="survey part: override the default")
    p.add_argument("--draws", type=int, default=None, help="survey part: override the default")
    p.add_argument("--tune", type=int, default=None, help="survey part: override the default")
    p.add_argument("--target-accept", type=float, default=None,
                   help="survey part: override the default (0.8)")
    p.add_argument("--rows", type=int, default=1_000_000, help="rows for the scale part")
    p.add_argument("--speedup-rows", type=int, default=20_000)
    p.add_argument("--segments", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--naive-draws", type=int, default=1000)
    p.add_argument("--naive-tune", type=int, default=1000)
    p.add_argument("--naive-chains", type=int, default=None,
                   help="default: pm.sample's own default (max(2, cores))")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)

    print(f"# driver benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
          "(a shared machine inflates every time below)", flush=True)
    results = []
    if args.part in ("scale", "all"):
        r = run_scale(args.rows, args.segments, args.seed)
        results.append(r)
        print(json.dumps(r), flush=True)
        print(f"scale: {r['rows']:,} rows x {r['drivers']} drivers x {r['segments']} segments: "
              f"fit {r['fit_s']} s (target <= 30 s), gate {'passed' if r['gate_passed'] else 'FAILED'}",
              flush=True)
    if args.part in ("speedup", "all"):
        r = run_speedup(args.speedup_rows, args.segments, args.seed, args.naive_draws,
                        args.naive_tune, args.naive_chains)
        results.append(r)
        print(json.dumps(r), flush=True)
        print(f"speed-up at {r['rows']:,} rows: {r['speedup']}x (naive {r['naive_equivalent_s']} s "
              f"equivalent for {r['fast_iterations']} iterations vs fast {r['fast_s']} s; "
              f"raw ratio {r['raw_ratio_lower_bound']}x with the naive side doing "
              f"{r['naive_iterations']} iterations; target >= 10x)", flush=True)
    if args.part == "survey":
        r = run_survey(args.survey_rows, args.family, args.seed, args.chains, args.draws, args.tune,
                       args.target_accept)
        results.append(r)
        print(json.dumps(r), flush=True)
        print(f"survey {args.family}: {r['rows']:,} rows x {r['drivers']} ratings x 6 segments: "
              f"fit {r['fit_s']} s (CPU {r['fit_cpu_s']} s; target <= {r['target_s']} s), gate "
              f"{'passed' if r['gate_passed'] else 'FAILED'}; side by side: gaussian "
              f"{r['gaussian_s']} s, per-segment MLE {r['mle_s']} s (x{r['ratio_to_mle']}); "
              f"94% HDI coverage {r['coverage_94']:.0%}; separation found "
              f"{r['separation_found']} (true {r['separation_true']}); top driver = MLE's in "
              f"{r['top_driver_agrees_with_mle']} segments; load {r['load_before']} -> "
              f"{r['load_after']}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if all(r["met"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
