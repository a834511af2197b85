"""Plots of the voice tables: topic prevalence with its interval, by segment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit._checks import require_columns


def plot_topic_prevalence(table: pd.DataFrame, *, segment_var: str = "all", ax=None,
                          **kwargs):
    """Share of commenting respondents mentioning each topic, with its 94% interval.

    Parameters
    ----------
    table : DataFrame
        :func:`cxkit.voice.topic_prevalence` output.
    segment_var : str
        ``"all"`` for one bar per topic, or a segment column: one bar per topic and segment
        value (segments under the privacy floor are left out and named in the title).
    ax : Axes, optional
        Where to draw (default: the current axes).
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    Axes
    """
    require_columns(table, ["topic", "label", "segment_var", "segment_value", "share_mean",
                            "share_low", "share_high"], table="topic prevalence",
                    hint="Pass the table returned by cxkit.voice.topic_prevalence.")
    if ax is None:
        import matplotlib.pyplot as plt  # slow to import; only when drawing

        ax = plt.gca()
    t = table[table["segment_var"] == segment_var]
    if t.empty:
        raise ValueError(f"plot_topic_prevalence: no rows for segment_var={segment_var!r}; "
                         f"the table has {sorted(table['segment_var'].unique())}.")
    hidden = sorted(t.loc[t["share_mean"].isna(), "segment_value"].unique())
    t = t[t["share_mean"].notna()]
    values = list(dict.fromkeys(t["segment_value"]))
    height = 0.8 / max(len(values), 1)
    topics = t[["topic", "label"]].drop_duplicates().sort_values("topic")
    y0 = np.arange(len(topics))[::-1]
    pos = dict(zip(topics["topic"], y0))
    for i, v in enumerate(values):
        s = t[t["segment_value"] == v]
        y = np.array([pos[k] for k in s["topic"]]) + 0.4 - height * (i + 0.5)
        err = np.vstack([s["share_mean"] - s["share_low"], s["share_high"] - s["share_mean"]])
        ax.barh(y, 100 * s["share_mean"], height=height, xerr=100 * err,
                label=None if segment_var == "all" else v, **kwargs)
    ax.set_yticks(y0, [f"{k}: {lab}" for k, lab in zip(topics["topic"], topics["label"])])
    ax.set_xlabel("% of commenting respondents who mention it (94% interval)")
    title = "Topics in customers' comments" + ("" if segment_var == "all" else
                                               f" by {segment_var}")
    if hidden:
        title += f"\n(too few responses to show: {', '.join(hidden)})"
    ax.set_title(title)
    if segment_var != "all":
        ax.legend(title=segment_var, fontsize="small")
    return ax
