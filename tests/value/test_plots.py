import numpy as np
import pandas as pd

from cxkit.value.plots import plot_quadrants, plot_retention_curve, plot_scenarios
from cxkit.value.quadrants import assign_quadrants

PARAMS = {"a": [0.5, 1.0], "b": [0.3, 0.2], "c": [5.0, 6.0], "d": [0.05, 0.1], "sigma": 0.3}


def test_plot_scenarios_bars_in_rank_order():
    import matplotlib.pyplot as plt

    t = pd.DataFrame({"scenario": ["b", "a", "c"], "delta_revenue_mean": [5.0, 10.0, -2.0],
                      "delta_revenue_low": [1.0, 4.0, -6.0],
                      "delta_revenue_high": [9.0, 15.0, 1.0], "rank": [2, 1, 3]})
    fig, ax = plt.subplots()
    out = plot_scenarios(t, ax=ax)
    assert out is ax
    widths = [p.get_width() for p in ax.patches]
    assert widths == [-2.0, 5.0, 10.0]  # best at the top (last bar)
    assert [tl.get_text() for tl in ax.get_yticklabels()] == ["c", "b", "a"]


def test_plot_quadrants_thresholds_and_legend():
    t = pd.DataFrame({"score": [9, 8, 2, 3, 7], "revenue_pre": [100, 0, 80, 5, 50]})
    t.attrs["score_name"] = "nps"
    q = assign_quadrants(t)
    ax = plot_quadrants(q)
    labels = [tx.get_text() for tx in ax.get_legend().get_texts()]
    assert labels == ["Model (1)", "Growth (2)", "At-risk (1)", "Dangling (1)"]
    hlines = [ln.get_ydata()[0] for ln in ax.lines if ln.get_ydata()[0] == ln.get_ydata()[1]]
    assert 50.0 in hlines
    # integer score: the boundary is drawn between 6 and 7
    assert any(ln.get_xdata()[0] == 6.5 for ln in ax.lines)


def test_plot_retention_curve_one_line_per_segment(value_result_factory):
    vr = value_result_factory(PARAMS, noise=0.05, n_draws=100)
    ax = plot_retention_curve(vr)
    assert len(ax.lines) == 2
    basic = ax.lines[0].get_ydata()
    assert np.all(np.diff(basic) > 0)  # b > 0: retention rises with the score
    assert basic[-1] < 1 and basic[0] > 0


def test_plot_initiatives_net_value_best_on_top():
    from cxkit.value.plots import plot_initiatives

    t = pd.DataFrame({"initiative": ["b", "a"], "rank": [2, 1], "net_value_mean": [-5.0, 20.0],
                      "net_value_low": [-9.0, 4.0], "net_value_high": [1.0, 30.0],
                      "cost": [10.0, 12.0], "currency": "EUR", "horizon_days": 365})
    ax = plot_initiatives(t)
    assert [p.get_width() for p in ax.patches] == [-5.0, 20.0]
    assert [tl.get_text() for tl in ax.get_yticklabels()] == ["b", "a"]
    assert "EUR, 365 days" in ax.get_xlabel() and "90% interval" in ax.get_xlabel()
