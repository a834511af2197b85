"""Project-wide test setup, kept minimal: headless plots, closed figures, a fixed seed, and
``CXKIT_REQUIRE_*`` flags that turn skips of environment-dependent tests into failures.

Subfolders keep their own fixtures in their own ``conftest.py``.
"""

from __future__ import annotations

import os
import random
import sys

import pytest

# Set before anything imports pyplot; the env var also reaches papermill / nbval kernels.
os.environ.setdefault("MPLBACKEND", "Agg")

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
