"""Plots for the revenue-impact step: initiatives, scenarios, quadrants, retention curve.

All are axes-level: ``plot_x(data, *, ax=None, **kwargs) -> Axes``; ``ax=None`` draws on the
current axes. Extra keyword arguments go to the main matplotlib call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit._plots import axes as _axes
from cxkit.stats import HDI_PROB, equal_tailed
from cxkit.value.quadrants import QUADRANTS

_QUADRANT_COLORS = dict(zip(QUADRANTS, ["#2a9d8f", "#8ab17d", "#e76f51", "#9e9e9e"]))


def plot_scenarios(table: pd.DataFrame, *, ax=None, **kwargs):
    """Ranked horizontal bars of the mean revenue change with the 94% HDI.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`cxkit.value.simulate_scenarios`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> plot_scenarios(simulate_scenarios(...))  # doctest: +SKIP
    """
    ax = _axes(ax)
    t = table.sort_values("rank", ascending=False)  # best at the top of a barh
    y = np.arange(len(t))
    mean = t["delta_revenue_mean"].to_numpy()
    err = np.vstack([mean - t["delta_revenue_low"].to_numpy(),
                     t["delta_revenue_high"].to_numpy() - mean])
    colors = np.where(mean >= 0, "#2a9d8f", "#e76f51")
    ax.barh(y, mean, xerr=err, color=colors, capsize=3, **kwargs)
    ax.set_yticks(y, t["scenario"].tolist())
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("change in expected revenue (mean, 94% HDI)")
    ax.set_title("Initiatives ranked by revenue impact")
    return ax


def plot_initiatives(table: pd.DataFrame, *, ax=None, **kwargs):
    """Net value per initiative (mean, 90% interval), best at the top, cost marked.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`cxkit.value.evaluate_initiatives` (``initiatives.parquet``).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> plot_initiatives(evaluate_initiatives(...)[0])  # doctest: +SKIP
    """
    ax = _axes(ax)
    t = table.sort_values("rank", ascending=False)
    y = np.arange(len(t))
    mean = t["net_value_mean"].to_numpy()
    err = np.vstack([mean - t["net_value_low"].to_numpy(), t["net_value_high"].to_numpy() - mean])
    colors = np.where(t["net_value_low"].to_numpy() > 0, "#2a9d8f",
                      np.where(mean >= 0, "#8ab17d", "#e76f51"))
    ax.barh(y, mean, xerr=err, color=colors, capsize=3, **kwargs)
    ax.scatter(-t["cost"].to_numpy(), y, marker="|", color="black", s=120, label="- cost")
    ax.set_yticks(y, t["initiative"].tolist())
    ax.axvline(0, color="black", lw=0.8)
    cur = ", ".join(sorted(set(t["currency"].astype(str))))
    days = ", ".join(str(d) for d in sorted(set(t["horizon_days"].astype(int))))
    ax.set_xlabel(f"net value = revenue change - cost ({cur}, {days} days; mean, 90% interval)")
    ax.set_title("Initiatives ranked by expected net value")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_quadrants(q: pd.DataFrame, *, ax=None, score: str | None = None,
                   revenue: str | None = None, **kwargs):
    """Scatter of score vs revenue coloured by quadrant, with the threshold lines.

    Parameters
    ----------
    q : DataFrame
        Output of :func:`cxkit.value.assign_quadrants`.
    ax : matplotlib Axes, optional
    score, revenue : str, optional
        Columns; default those used by ``assign_quadrants`` (``score``, ``revenue_pre``).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> plot_quadrants(assign_quadrants(table))  # doctest: +SKIP
    """
    ax = _axes(ax)
    score = score or q.attrs.get("score_column", "score")
    revenue = revenue or q.attrs.get("revenue_column", "revenue_pre")
    # small jitter: integer scores would otherwise stack into a few columns
    rng = np.random.default_rng(0)
    xj = q[score].astype(float) + rng.uniform(-0.15, 0.15, len(q))
    for name in QUADRANTS:
        m = (q["quadrant"] == name).to_numpy()
        ax.scatter(xj[m], q.loc[m, revenue], s=kwargs.pop("s", 12), alpha=0.6,
                   color=_QUADRANT_COLORS[name], label=f"{name} ({int(m.sum())})", **kwargs)
    # assign_quadrants' columns, or the saved quadrants table's attrs (value.quadrant_table)
    s_thr, r_thr = (float(q[c].iloc[0]) if c in q and len(q) else float(q.attrs.get(c, np.nan))
                    for c in ("score_threshold", "revenue_threshold"))
    ax.axvline(s_thr - 0.5 if float(s_thr).is_integer() else s_thr, color="grey", ls="--",
               lw=1)
    ax.axhline(r_thr, color="grey", ls="--", lw=1)
    ax.set_xlabel(score)
    ax.set_ylabel(revenue)
    ax.set_title("Customers by experience and revenue")
    ax.legend(title="quadrant", loc="best", fontsize="small")
    return ax


def plot_retention_curve(value_result, *, ax=None, segments=None, prob: float = HDI_PROB,
                         **kwargs):
    """P(retain) against the score per segment: posterior mean line and a 94% equal-tailed band.

    Parameters
    ----------
    value_result : ValueResult
    ax : matplotlib Axes, optional
    segments : list of str, optional
        Segments to draw (default all).
    prob : float
        Mass of the band (equal-tailed, :func:`cxkit.stats.equal_tailed`).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> plot_retention_curve(fit_value_model(table, segment="plan"))  # doctest: +SKIP
    """
    ax = _axes(ax)
    # the observed score range, so the curve is not extrapolated past the data
    lo_s, hi_s = value_result.config["score_min"], value_result.config["score_max"]
    grid = np.linspace(lo_s, hi_s, 41)
    for seg in segments or value_result.segments:
        p = value_result.retention_probability(grid, [seg] * len(grid))
        line = ax.plot(grid, p.mean(axis=0), label=str(seg), **kwargs)[0]
        lo, hi = equal_tailed(p, prob)
        ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.2)
    ax.set_xlabel(value_result.config.get("score_name") or "score")
    ax.set_ylabel("P(retained)")
    ax.set_ylim(0, 1)
    ax.set_title("Retention by experience score")
    ax.legend(title=value_result.config["segment"], fontsize="small")
    return ax
