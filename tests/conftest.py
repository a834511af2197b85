"""Project-wide test setup, kept minimal: headless plots, closed figures, a fixed seed, and
``CXKIT_REQUIRE_*`` flags that turn skips of environment-dependent tests into failures.

Subfolders keep their own fixtures in their own ``conftest.py``.
"""

from __future__ import annotations

import os
import random
import sys
import warnings

import pytest

# Set before anything imports pyplot; the env var also reaches papermill / nbval kernels.
os.environ.setdefault("MPLBACKEND", "Agg")

# Under pytest-xdist (make test runs two workers) each worker compiles into its own PyTensor
# cache, so neither waits on the other's compile lock. Set before anything imports pytensor.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER and "base_compiledir" not in os.environ.get("PYTENSOR_FLAGS", ""):
    os.environ["PYTENSOR_FLAGS"] = ",".join(filter(None, [
        os.environ.get("PYTENSOR_FLAGS"),
        f"base_compiledir={os.path.join(os.path.expanduser('~'), '.pytensor', _WORKER)}"]))

# Fixture notebooks are inputs of the runner tests, not notebooks for nbval to execute.
collect_ignore = ["fixtures"]

#: marker -> environment flag. In CI (.ci/run) a test of that kind that would skip (no
#: Chromium, no JDK, no Olist sample) fails instead, so a broken machine cannot pass green.
REQUIRE_FLAGS = {"browser": "CXKIT_REQUIRE_BROWSER", "spark": "CXKIT_REQUIRE_SPARK",
                 "olist": "CXKIT_REQUIRE_OLIST"}


def required_markers(item: pytest.Item, environ=os.environ) -> list[str]:
    """Markers of ``item`` whose CXKIT_REQUIRE_* flag is set to a true value."""
    return [m for m, flag in REQUIRE_FLAGS.items()
            if item.get_closest_marker(m) is not None
            and environ.get(flag, "").strip().lower() in {"1", "true", "yes"}]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """The real notebooks (build/nbval) share one run folder and read each other's outputs:
    one xdist group keeps them on one worker, in order (``--dist loadgroup``). ``tryfirst``:
    xdist turns the marker into the node id's ``@group`` in its own hook, which would
    otherwise run first (this conftest is registered before the worker plugin)."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group("notebooks"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    required = required_markers(item)
    if required:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        flags = ", ".join(f"{REQUIRE_FLAGS[m]}=1" for m in required)
        report.outcome = "failed"
        report.longrepr = (f"test marked {required} was skipped ({reason}) but {flags} "
                           f"requires it to run: install what it needs (see .ci/run).")


@pytest.fixture(autouse=True)
def _seed_and_close_figures():
    random.seed(12345)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(12345)
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


class _MockCompiled:
    """What ``nutpie.compile_pymc_model`` returns under :func:`mock_sampling`."""

    def __init__(self, model, var_names=None):
        self.model = model
        names = var_names or ([v.name for v in model.free_RVs]
                              + [v.name for v in model.deterministics])
        self.var_names = list(names)


def _prior_as_posterior(compiled: _MockCompiled, *, draws: int, chains: int = 2, seed=None,
                        **_ignored):
    """Prior draws of the compiled model's variables, shaped ``(chain, draw, ...)`` like
    nutpie's posterior, with a ``sample_stats.diverging`` of zeros."""
    import arviz as az
    import numpy as np
    import pymc as pm

    chains = chains or 2
    with warnings.catch_warnings():  # Potentials (soft constraints) do not shape prior draws
        warnings.filterwarnings("ignore", "The effect of Potentials", UserWarning)
        prior = pm.sample_prior_predictive(draws=draws * chains, model=compiled.model,
                                           var_names=compiled.var_names, random_seed=seed,
                                           compile_kwargs={"mode": "FAST_COMPILE"}).prior
    posterior, dims = {}, {}
    for name in compiled.var_names:
        values = prior[name].values[0]  # (draw, ...)
        posterior[name] = values.reshape(chains, draws, *values.shape[1:])
        dims[name] = list(prior[name].dims[2:])
    coords = {k: v.values for k, v in prior.coords.items() if k not in ("chain", "draw")}
    return az.from_dict(posterior=posterior, dims=dims, coords=coords,
                        sample_stats={"diverging": np.zeros((chains, draws), dtype=bool)})


def patch_sampling(monkeypatch) -> None:
    """Apply :func:`mock_sampling`'s patches with ``monkeypatch`` (any scope)."""
    import nutpie

    from cxkit.drivers import sampling

    monkeypatch.setattr(nutpie, "compile_pymc_model",
                        lambda model, var_names=None, **_: _MockCompiled(model, var_names))
    monkeypatch.setattr(nutpie, "sample", _prior_as_posterior)
    monkeypatch.setattr(sampling, "time_gradient", lambda compiled, n_evals=10: 1e-4)


@pytest.fixture(scope="session")
def sampling_patcher():
    """:func:`patch_sampling` for fixtures of a wider scope than ``mock_sampling`` (use it
    inside ``pytest.MonkeyPatch.context()``; test files cannot import conftest)."""
    return patch_sampling


@pytest.fixture
def mock_sampling(monkeypatch):
    """Replace nutpie by prior draws for plumbing tests (driver and value models).

    ``fit_drivers`` and ``fit_value_model`` run as usual (data preparation, model building,
    deterministics, result tables, save/load) but ``nutpie.compile_pymc_model`` compiles
    nothing and ``nutpie.sample`` returns ``chains x draws`` prior draws of the model's
    variables: seconds instead of a compile and a real MCMC run. The draws are not a
    posterior, so tests using this fixture check shapes, labels and files, never values;
    the recovery tests sample for real.
    """
    patch_sampling(monkeypatch)
    return _prior_as_posterior


@pytest.fixture(scope="session")
def sample_ingest():
    """The committed sample (``data/sample``) ingested once per session with
    ``params/sources/sample.yaml`` on DuckDB: an ``IngestResult`` shared by every test that
    reads it (read it, never modify it in place). Skips where the sample is missing."""
    from pathlib import Path

    from cxkit.ingest import ingest

    root = Path(__file__).resolve().parents[1]
    if not (root / "data" / "sample" / "truth.json").is_file():
        pytest.skip("sample data not found at data/sample: run `cxkit simulate`")
    return ingest(root / "params" / "sources" / "sample.yaml")


@pytest.fixture(scope="session")
def olist_ingest():
    """The real Olist sample ingested once per session with ``params/sources/olist.yaml``
    (shared like :func:`sample_ingest`); skips where ``../shared/data/olist_sample`` is
    absent."""
    from cxkit.config import OLIST_DIR, PARAMS_DIR
    from cxkit.ingest import ingest

    if not (OLIST_DIR / "olist_orders_dataset.csv").is_file():
        pytest.skip(f"Olist sample not found at {OLIST_DIR} (see its README)")
    return ingest(PARAMS_DIR / "sources" / "olist.yaml")
