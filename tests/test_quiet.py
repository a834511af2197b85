"""The library-noise filters: the listed messages are dropped, anything else still shows."""

import logging
import warnings

import cxkit  # noqa: F401  (installs the filters)
from cxkit._quiet import silence_library_noise


def test_known_library_warnings_are_dropped_others_kept():
    silence_library_noise()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        silence_library_noise()
        warnings.warn("PyTensor could not link to a BLAS installation. Operations ...",
                      UserWarning)
        warnings.warn("The effect of Potentials on other parameters is ignored during prior "
                      "predictive sampling. This is likely ...", UserWarning)
        warnings.warn("something else entirely", UserWarning)
    assert [str(w.message) for w in seen] == ["something else entirely"]


def test_pymc_sampling_chatter_is_dropped(caplog):
    silence_library_noise()
    log = logging.getLogger("pymc")
    with caplog.at_level(logging.INFO, logger="pymc"):
        log.info("Sampling: [mu_beta_std]")
        log.info("Auto-assigning NUTS sampler...")
    assert [r.getMessage() for r in caplog.records] == ["Auto-assigning NUTS sampler..."]


def test_arviz_shape_warning_dropped_after_import(capsys):
    import subprocess
    import sys

    code = ("import cxkit, numpy as np, arviz as az; "
            "az.rhat(np.random.default_rng(0).normal(size=(1, 100)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "Shape validation failed" not in out.stderr
