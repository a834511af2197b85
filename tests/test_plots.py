"""cxkit._plots.axes: the Axes every plot function draws on."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cxkit._plots import axes  # noqa: E402


def test_axes_returns_given_or_current():
    fig, (a, b) = plt.subplots(1, 2)
    try:
        assert axes(a) is a
        plt.sca(b)
        assert axes() is b and axes(None) is b
    finally:
        plt.close(fig)
