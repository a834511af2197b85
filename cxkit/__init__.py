"""cxkit: a notebook-first customer-experience workbench.

Pipeline map (see docs/ARCHITECTURE.md):

``simulate`` -> ``ingest`` -> ``drivers`` -> ``value`` -> ``runner`` / ``dashboard``.

Nothing is imported eagerly here: ``import cxkit`` stays cheap, and each step is
imported where it is used (``from cxkit.drivers import fit_drivers``).
"""

__version__ = "0.1.0"
