"""Run the sampler on a built driver model: nutpie (default) or PyMC, with a time estimate.

Before sampling, nutpie's compiled log-density gradient is timed on a few evaluations; with
the typical number of gradients per iteration of the model's family that gives the
expected sampling time, which decides whether progress is shown (``progress=None``) and is
printed with it. The estimate is recorded in the result's timings (``expected_s``).
"""

from __future__ import annotations

import time

import numpy as np

# Typical leapfrog steps per iteration after tuning (benchmarks/README.md, driver model):
# the gaussian sufficient-statistics posterior is nearly Gaussian (tree depth 2-3); the
# logit families with a dense-ish correlation structure need depth 3-4.
_STEPS_PER_ITERATION = {"gaussian": 7, "bernoulli": 15, "ordinal": 15}
# Show progress (progress=None) when the fit is expected to take longer than this.
PROGRESS_AFTER_S = 20.0
# Extra nutpie arguments per family: none. Its low-rank modified mass matrix was measured on
# the 14-rating survey case and needed about twice the gradients per draw of the diagonal
# one (benchmarks/README.md, driver model on survey shapes).
_NUTPIE_SETTINGS = {"gaussian": {}, "bernoulli": {}, "ordinal": {}}

_PROGRESS_TEMPLATE = (
    "<p>Sampling {{ num_chains }} chains: {{ total_finished_draws }} of {{ total_draws }} "
    "iterations after {{ time_sampling }}, about {{ time_remaining_estimate }} left.</p>"
)


def one_blas_thread():
    """Context: BLAS runs single-threaded, as each chain already has its own core.

    OpenBLAS's own threads on top of nutpie's chain threads oversubscribe the cores: a
    gradient of the 120k-cell bernoulli benchmark took 19 ms of CPU with them, 5.5 without.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} minutes"


def time_gradient(compiled, n_evals: int = 10) -> float:
    """Seconds per log-density-and-gradient evaluation of a nutpie-compiled model."""
    x = np.zeros(compiled.n_dim)
    compiled.logp_func(x)  # first call pays one-off costs
    t0 = time.perf_counter()
    for _ in range(n_evals):
        compiled.logp_func(x)
    return (time.perf_counter() - t0) / n_evals


def expected_seconds(grad_s: float, *, family: str, chains: int, tune: int, draws: int,
                     cores: int) -> float:
    """Rough sampling time: iterations x typical gradients each x gradient time / parallel chains."""
    rounds = -(-chains // max(1, min(cores, chains)))
    return rounds * (tune + draws) * _STEPS_PER_ITERATION[family] * grad_s


def sample_model(model, *, sampler, draws, tune, chains, seed, cores, target_accept, progress,
                 family="gaussian"):
    """Sample ``model``; returns ``(idata, timings)`` with the free variables only."""
    timings: dict[str, float] = {}
    if sampler == "nutpie":
        import nutpie

        t0 = time.perf_counter()
        # Store the free variables only; the Deterministics are added in numpy afterwards
        # (model.add_deterministics), which saves compiling a second function.
        compiled = nutpie.compile_pymc_model(model, var_names=[v.name for v in model.free_RVs])
        timings["compile_s"] = time.perf_counter() - t0
        with one_blas_thread():
            grad_s = time_gradient(compiled)
        timings["gradient_ms"] = grad_s * 1e3
        timings["expected_s"] = expected_seconds(grad_s, family=family, chains=chains, tune=tune,
                                                 draws=draws, cores=cores)
        show = timings["expected_s"] > PROGRESS_AFTER_S if progress is None else bool(progress)
        if show:
            print(f"Sampling {chains} chains x {tune + draws:,} iterations on {cores} cores: "
                  f"about {_seconds(timings['expected_s'])} expected "
                  f"({grad_s * 1e3:.2f} ms per gradient).", flush=True)
        t0 = time.perf_counter()
        with one_blas_thread():
            idata = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, seed=seed,
                                  cores=cores, progress_bar=show, save_warmup=False,
                                  target_accept=target_accept,
                                  progress_template=_PROGRESS_TEMPLATE, progress_rate=1000,
                                  **_NUTPIE_SETTINGS[family])
        timings["sample_s"] = time.perf_counter() - t0
        if show:
            print(f"Sampled in {_seconds(timings['sample_s'])}.", flush=True)
    elif sampler == "pymc":
        import pymc as pm

        t0 = time.perf_counter()
        idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=cores, random_seed=seed,
                          var_names=[v.name for v in model.free_RVs],
                          target_accept=target_accept, progressbar=bool(progress), model=model,
                          compute_convergence_checks=False)
        timings["sample_s"] = time.perf_counter() - t0
    else:
        raise ValueError(f"sampler must be 'nutpie' or 'pymc', got {sampler!r}")
    return idata, timings
