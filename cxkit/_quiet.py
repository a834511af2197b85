"""Narrow filters for library noise that would otherwise reach the HTML reports as red
stderr boxes. Each entry names one known message; nothing else is hidden.

Installed once by ``import cxkit`` (cheap: only ``warnings`` and ``logging``), so every
notebook, report and dashboard kernel gets them before PyMC, PyTensor or ArviZ load.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import sys
import warnings

#: (category, message regex) of warnings that say nothing to a report reader.
WARNINGS: tuple[tuple[type[Warning], str], ...] = (
    # pip wheels of PyTensor have no BLAS to link; sampling works, the message is advice
    (UserWarning, r"PyTensor could not link to a BLAS installation"),
    # the driver model's likelihood is a Potential on sufficient statistics by design; the
    # prior predictive check samples only the priors (mu_beta), which Potentials never touch
    (UserWarning, r"The effect of Potentials on other parameters is ignored during prior "
                  r"predictive sampling"),
    # ArviZ 0.x announcing its 1.0 refactor on import
    (FutureWarning, r"\s*ArviZ is undergoing a major refactor"),
    # the gate failure is already the red banner atop every report and the "!!!" block
    # the notebook prints; the Python warning would repeat it as a stderr box
    (UserWarning, r".*failed the convergence gate"),
    (RuntimeWarning, r".*failed the convergence gate"),
)

#: (logger, message prefix) of log records dropped.
LOG_RECORDS: tuple[tuple[str, str], ...] = (
    ("pymc", "Sampling: ["),                       # PyMC listing the variables it samples
    ("pymc.sampling.forward", "Sampling: ["),
)
#: ArviZ logs through a ``Logger("arviz")`` made outside the logging registry, so its filter
#: is added to that object once ArviZ is imported (one-chain smoke runs trigger it).
ARVIZ_RECORDS = ("Shape validation failed",)


class _DropPrefix(logging.Filter):
    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def silence_library_noise() -> None:
    """Install the filters (idempotent)."""
    for category, message in WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)
    for name, prefix in LOG_RECORDS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropPrefix) and f.prefix == prefix for f in logger.filters):
            logger.addFilter(_DropPrefix(prefix))
    if "arviz" in sys.modules:
        _filter_arviz(sys.modules["arviz"])
    elif not any(isinstance(f, _AfterArvizImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterArvizImport())


def _filter_arviz(module) -> None:
    log = getattr(module, "_log", None)
    if isinstance(log, logging.Logger):
        for prefix in ARVIZ_RECORDS:
            if not any(isinstance(f, _DropPrefix) and f.prefix == prefix for f in log.filters):
                log.addFilter(_DropPrefix(prefix))


class _AfterArvizImport(importlib.abc.MetaPathFinder):
    """Filters ArviZ's own logger right after ``import arviz`` (no cost until then)."""

    def find_spec(self, name, path=None, target=None):
        if name != "arviz":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            _filter_arviz(module)

        spec.loader.exec_module = exec_module
        return spec
