"""The prevalence plot draws one bar per topic (and segment), floors hidden and named."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cxkit.voice.plots import plot_topic_prevalence  # noqa: E402


def _table():
    rows = []
    for var, val, n in [("all", "all", 300), ("region", "North", 200), ("region", "South", 80),
                        ("region", "East", 20)]:
        for k, share in [(1, 0.4), (2, 0.1)]:
            ok = n >= 30
            rows.append({"topic": k, "label": f"t{k}", "segment_var": var, "segment_value": val,
                         "n": n, "share_mean": share if ok else np.nan,
                         "share_low": share - 0.05 if ok else np.nan,
                         "share_high": share + 0.05 if ok else np.nan})
    return pd.DataFrame(rows)


def test_bars_per_topic_and_segment():
    fig, ax = plt.subplots()
    out = plot_topic_prevalence(_table(), ax=ax)
    assert out is ax and len(ax.patches) == 2
    assert sorted(p.get_width() for p in ax.patches) == pytest.approx([10, 40])
    ax.clear()
    plot_topic_prevalence(_table(), segment_var="region", ax=ax)
    assert len(ax.patches) == 4 and "too few responses to show: East" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["North", "South"]
    plt.close(fig)


def test_unknown_segment_var_is_named():
    with pytest.raises(ValueError, match=r"no rows for segment_var='plan'"):
        plot_topic_prevalence(_table(), segment_var="plan", ax=plt.gca())
    plt.close("all")
