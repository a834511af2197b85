"""cxkit: a notebook-first customer-experience workbench.

Pipeline map (see docs/ARCHITECTURE.md):

``simulate`` -> ``ingest`` -> ``drivers`` -> ``value`` -> ``runner`` / ``dashboard``.

Nothing is imported eagerly here: ``import cxkit`` stays cheap, and each step is
imported where it is used (``from cxkit.drivers import fit_drivers``).
"""

__version__ = "0.1.0"

from cxkit._quiet import silence_library_noise as _silence_library_noise

_silence_library_noise()
