"""Bayesian hierarchical driver model: which experience drivers move NPS / CSAT, by segment.

Public API::

    from cxkit.drivers import build_driver_model, fit_drivers, DriverResult
    from cxkit.diagnostics import check_convergence, ConvergenceError
    from cxkit.drivers.separation import detect_separation   # also for other logit models
    from cxkit.drivers.priors import Normal, HalfNormal, Exponential, DEFAULT_PRIORS

Submodules are imported lazily so ``import cxkit.drivers`` does not load PyMC.
"""

from __future__ import annotations

import importlib
import warnings

# The driver model samples through nutpie's numba backend, which brings its own BLAS; only
# tiny helper functions (initial points) go through PyTensor's C backend, so its
# "could not link to a BLAS installation" warning says nothing about these fits. Narrow:
# that one message, from PyTensor's C module.
warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS installation",
                        category=UserWarning, module=r"pytensor\.link\.c\.cmodule")

_EXPORTS = {
    "build_driver_model": "cxkit.drivers.model",
    "segment_labels": "cxkit.drivers.model",
    "fit_drivers": "cxkit.drivers.fit",
    "DriverResult": "cxkit.drivers.fit",
    "DriverConfig": "cxkit.drivers.fit",
    "check_convergence": "cxkit.diagnostics",
    "detect_separation": "cxkit.drivers.separation",
    "ConvergenceError": "cxkit.diagnostics",
    "Normal": "cxkit.drivers.priors",
    "HalfNormal": "cxkit.drivers.priors",
    "Exponential": "cxkit.drivers.priors",
    "DEFAULT_PRIORS": "cxkit.drivers.priors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cxkit.drivers' has no attribute {name!r}")
