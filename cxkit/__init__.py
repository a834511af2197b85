"""cxkit: a notebook-first customer-experience workbench.

Pipeline map (see docs/ARCHITECTURE.md):

``simulate`` -> ``ingest`` -> ``drivers`` -> ``value`` -> ``runner`` / ``dashboard``.

Nothing is imported eagerly here: ``import cxkit`` stays cheap, and each step is
imported where it is used (``from cxkit.drivers import fit_drivers``).
"""

import warnings as _warnings

__version__ = "0.1.0"

# ArviZ 0.23 prints a daily FutureWarning about its coming 1.0 refactor on import (pymc and
# nutpie import it); it says nothing about the user's results, so reports must not show it.
# Narrow: this one message, from arviz's own module, nothing else.
_warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing a major refactor",
                         category=FutureWarning, module="arviz")
