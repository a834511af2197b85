"""What every ``plot_x(data, *, ax=None, **kw) -> Axes`` shares."""

from __future__ import annotations


def axes(ax=None):
    """``ax``, or the current matplotlib Axes when ``ax`` is None.

    pyplot is imported here, on first use: it is slow to import and picks a backend.
    """
    import matplotlib.pyplot as plt

    return plt.gca() if ax is None else ax
