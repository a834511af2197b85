"""Moved to :mod:`cxkit.diagnostics` (the value model uses the same gate); this name stays so
``from cxkit.drivers.diagnostics import check_convergence`` in older notebooks keeps working."""

from cxkit.diagnostics import (  # noqa: F401
    ConvergenceError,
    check_convergence,
    format_failures,
    raise_if_failed,
)
