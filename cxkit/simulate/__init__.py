"""Synthetic CX data with known truth: multi-source sample files and driver-level responses.

``simulate`` / ``write_sample`` build the multi-source sample in ``data/sample/``;
``simulate_responses`` is a fast response-level generator for driver-model recovery tests.
"""

from cxkit.simulate.responses import simulate_responses
from cxkit.simulate.sources import SimulatedData, simulate, write_sample

__all__ = ["SimulatedData", "simulate", "simulate_responses", "write_sample"]
