"""Axes-level plots of the journey tables (seaborn style).

Each ``plot_x(table, *, ax=None, **kwargs)`` draws one table from
:mod:`cxkit.journeys` (paths, cohorts, gaps) on ``ax`` (default: the current axes) and returns the Axes,
so plots compose into the caller's figures and dashboards.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from cxkit._plots import axes as _axes
from cxkit.journeys.base import END, GAP_STAT_COLUMNS, START, _require
from cxkit.journeys.cohorts import retention_matrix

__all__ = ["plot_funnel", "plot_transition_heatmap", "plot_cohort_retention",
           "plot_gap_by_segment", "plot_sankey"]


def plot_funnel(funnel: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Horizontal bars of customers per stage, first stage on top, labelled with counts
    and share of the first stage.

    Parameters
    ----------
    funnel : DataFrame
        Output of :func:`~cxkit.journeys.stage_funnel`.
    ax : matplotlib Axes, optional
        Where to draw; default the current axes.
    **kwargs
        Passed to ``Axes.barh`` (``color``, ``alpha``, ...).

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = plot_funnel(stage_funnel(events))  # doctest: +SKIP
    """
    _require(funnel, ["stage", "customers", "share_of_first"], "funnel")
    ax = _axes(ax)
    y = np.arange(len(funnel))
    kwargs.setdefault("color", sns.color_palette()[0])
    bars = ax.barh(y, funnel["customers"].to_numpy(), **kwargs)
    labels = [f"{c:,} ({s:.0%})" if pd.notna(s) else f"{c:,}"
              for c, s in zip(funnel["customers"], funnel["share_of_first"])]
    ax.bar_label(bars, labels=labels, padding=3)
    ax.set_yticks(y, funnel["stage"].astype(str).tolist())
    ax.invert_yaxis()  # journey reads top to bottom
    ax.set_xlabel("customers")
    ax.set_ylabel("stage")
    ax.margins(x=0.15)
    return ax


def _state_axis_order(transitions: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Rows: ``start`` and states in table order; columns: states then ``end``.

    :func:`~cxkit.journeys.transition_matrix` sorts rows in journey order and every
    visited state has an outgoing move (at least to ``end``), so the ``from`` column alone
    gives the order; states only seen as targets (a filtered table) go last.
    """
    rows = list(pd.unique(transitions["from"].astype(str).to_numpy()))
    targets = list(pd.unique(transitions["to"].astype(str).to_numpy()))
    cols = [s for s in rows if s != START and s in targets]
    cols += [s for s in targets if s not in cols and s != END]
    if END in targets:
        cols.append(END)
    return rows, cols


def plot_transition_heatmap(transitions: pd.DataFrame, *, ax: Axes | None = None,
                            value: str = "prob", annot: bool = True, **kwargs) -> Axes:
    """Heatmap of a transition table: ``from`` states as rows, ``to`` states as columns.

    Parameters
    ----------
    transitions : DataFrame
        Output of :func:`~cxkit.journeys.transition_matrix`.
    ax : matplotlib Axes, optional
        Where to draw; default the current axes.
    value : {"prob", "count"}
        Which column colours the cells.
    annot : bool
        Write the value in each cell.
    **kwargs
        Passed to :func:`seaborn.heatmap` (``cmap``, ``vmax``, ...).

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = plot_transition_heatmap(transition_matrix(events))  # doctest: +SKIP
    """
    _require(transitions, ["from", "to", value], "transitions")
    ax = _axes(ax)
    rows, cols = _state_axis_order(transitions)
    grid = (transitions.assign(**{"from": transitions["from"].astype(str),
                                  "to": transitions["to"].astype(str)})
            .pivot(index="from", columns="to", values=value)
            .reindex(index=rows, columns=cols))
    kwargs.setdefault("cmap", "Blues")
    kwargs.setdefault("vmin", 0)  # rare moves stay visible against empty cells
    kwargs.setdefault("fmt", ".2f" if value == "prob" else ".0f")
    kwargs.setdefault("cbar_kws", {"label": value})
    sns.heatmap(grid, ax=ax, annot=annot, **kwargs)
    ax.set_xlabel("to")
    ax.set_ylabel("from")
    return ax


def plot_cohort_retention(retention: pd.DataFrame, *, ax: Axes | None = None,
                          annot: bool = True, **kwargs) -> Axes:
    """Cohort x period heatmap of retention (the classic triangle).

    Parameters
    ----------
    retention : DataFrame
        Tidy output of :func:`~cxkit.journeys.cohort_retention`.
    ax : matplotlib Axes, optional
        Where to draw; default the current axes.
    annot : bool
        Write the percentage in each cell.
    **kwargs
        Passed to :func:`seaborn.heatmap`.

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = plot_cohort_retention(cohort_retention(events, customers))  # doctest: +SKIP
    """
    _require(retention, ["cohort", "period_index", "retention"], "retention")
    ax = _axes(ax)
    grid = retention_matrix(retention)
    kwargs.setdefault("cmap", "Greens")
    kwargs.setdefault("vmin", 0.0)
    kwargs.setdefault("vmax", 1.0)
    kwargs.setdefault("fmt", ".0%")
    kwargs.setdefault("cbar_kws", {"label": "retention",
                                   "format": PercentFormatter(xmax=1.0)})
    # readable at any size: small numbers in wide grids, none once cells get too small
    n_rows, n_cols = grid.shape
    annot = annot and n_cols <= 24 and n_rows <= 30
    kwargs.setdefault("annot_kws", {"fontsize": max(5.0, min(9.0, 140.0 / max(n_cols, 1)))})
    kwargs.setdefault("linewidths", 0.3)
    sns.heatmap(grid, ax=ax, annot=annot, **kwargs)
    ax.tick_params(axis="y", labelrotation=0)
    ax.tick_params(axis="x", labelrotation=0)
    step = max(1, int(np.ceil(n_cols / 12)))  # at most ~12 period labels
    ax.set_xticks(np.arange(0, n_cols, step) + 0.5, [str(c) for c in grid.columns[::step]])
    ax.set_xlabel("periods since each customer's first activity (period 0 = 100%)")
    ax.set_ylabel("cohort")
    return ax


def _segment_labels(table: pd.DataFrame) -> pd.Series:
    """``"touchpoint / rule: segment"`` for a gap_by_segment or journey_gaps table."""
    if "segment_value" in table.columns:
        seg = table["segment_value"].astype(str)
        if "segment_var" in table.columns:
            seg = table["segment_var"].astype(str) + "=" + seg
    else:
        extra = [c for c in table.columns
                 if c not in {"touchpoint", "rule", *GAP_STAT_COLUMNS}]
        if len(extra) != 1:
            raise ValueError(
                "gap table must have a `segment_value` column or exactly one segment column "
                f"besides the gap statistics; found {extra}. Pass the output of "
                "gap_by_segment or journey_gaps_table."
            )
        seg = table[extra[0]].astype(str)
    return table["touchpoint"].astype(str) + " / " + table["rule"].astype(str) + ": " + seg


def plot_gap_by_segment(table: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Share of service targets met per touchpoint and segment, with 94% HDI bars.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`~cxkit.journeys.gap_by_segment` or
        :func:`~cxkit.journeys.journey_gaps_table`.
    ax : matplotlib Axes, optional
        Where to draw; default the current axes.
    **kwargs
        Passed to ``Axes.errorbar`` (``capsize``, ``markersize``, ...).

    Returns
    -------
    Axes
        One y tick per row of ``table``, coloured by touchpoint.

    Examples
    --------
    >>> ax = plot_gap_by_segment(gap_by_segment(gaps, customers, segment="region"))  # doctest: +SKIP
    """
    _require(table, ["touchpoint", "rule", "share_met", "share_met_low", "share_met_high"],
             "gap")
    ax = _axes(ax)
    labels = _segment_labels(table)
    y = np.arange(len(table))
    palette = sns.color_palette(n_colors=max(table["touchpoint"].nunique(), 1))
    kwargs.setdefault("fmt", "o")
    kwargs.setdefault("capsize", 3)
    tps = pd.unique(table["touchpoint"].to_numpy())
    for colour, tp in zip(palette, tps):  # one legend entry per touchpoint
        sel = (table["touchpoint"] == tp).to_numpy()
        mid = table["share_met"].to_numpy(float)[sel]
        err = np.vstack([mid - table["share_met_low"].to_numpy(float)[sel],
                         table["share_met_high"].to_numpy(float)[sel] - mid])
        ax.errorbar(mid, y[sel], xerr=np.clip(err, 0, None), color=colour, label=str(tp),
                    **kwargs)
    ax.set_yticks(y, labels.tolist())
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_xlabel("share of targets met (94% HDI)")
    if len(tps):
        ax.legend(title="touchpoint", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_sankey(links: pd.DataFrame, *, ax: Axes | None = None, top: int | None = 12,
                **kwargs) -> Axes:
    """A drawn Sankey diagram of step-indexed journey links (matplotlib, no JavaScript).

    Nodes are stacked per step (columns, left to right), sized by the customers passing
    through them; each link is a band whose width is the customers following it.

    Parameters
    ----------
    links : DataFrame
        Output of :func:`~cxkit.journeys.sankey_links` (``source, target, value`` with
        labels ``"<step>:<state>"``).
    ax : matplotlib Axes, optional
        Where to draw; default the current axes.
    top : int or None
        Keep the ``top`` largest links per step (None: all), so the picture stays readable.
    **kwargs
        Passed to the link patches (``alpha``, ...).

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = plot_sankey(sankey_links(events, max_steps=4))  # doctest: +SKIP
    """
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path as MPath

    _require(links, ["source", "target", "value"], "links")
    ax = _axes(ax)
    t = links.copy()
    t["_step"] = t["source"].astype(str).str.split(":", n=1).str[0].astype(int)
    if top is not None:
        t = (t.sort_values(["_step", "value"], ascending=[True, False])
             .groupby("_step", sort=True).head(top))
    if t.empty:
        ax.text(0.5, 0.5, "no journeys to draw", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    step_of = {}
    for src, tgt, st in zip(t["source"], t["target"], t["_step"]):
        step_of[src], step_of[tgt] = st, st + 1
    out_sum = t.groupby("source")["value"].sum()
    in_sum = t.groupby("target")["value"].sum()
    size = {n: max(out_sum.get(n, 0), in_sum.get(n, 0)) for n in step_of}
    states = sorted({n.split(":", 1)[1] for n in step_of})
    colors = dict(zip(states, sns.color_palette("tab10", max(len(states), 1)) * 3))
    total = max(sum(v for n, v in size.items() if step_of[n] == s)
                for s in set(step_of.values()))
    gap, width = total * 0.04, 0.12
    y0: dict[str, float] = {}
    for s in sorted(set(step_of.values())):
        nodes = sorted((n for n in step_of if step_of[n] == s), key=lambda n: -size[n])
        y = 0.0
        for n in nodes:
            y0[n] = y
            ax.add_patch(Rectangle((s - width / 2, y), width, size[n],
                                   color=colors[n.split(":", 1)[1]], zorder=3))
            ax.text(s + width / 2 + 0.03, y + size[n] / 2, f"{n.split(':', 1)[1]} ({size[n]:,})",
                    va="center", fontsize=8, zorder=4)
            y += size[n] + gap
    out_y, in_y = dict(y0), dict(y0)
    kwargs.setdefault("alpha", 0.35)
    for src, tgt, v in zip(t["source"], t["target"], t["value"]):
        xa, xb = step_of[src] + width / 2, step_of[tgt] - width / 2
        ya, yb = out_y[src], in_y[tgt]
        out_y[src] += v
        in_y[tgt] += v
        xm = (xa + xb) / 2
        verts = [(xa, ya), (xm, ya), (xm, yb), (xb, yb), (xb, yb + v), (xm, yb + v),
                 (xm, ya + v), (xa, ya + v), (xa, ya)]
        codes = [MPath.MOVETO, MPath.CURVE4, MPath.CURVE4, MPath.CURVE4, MPath.LINETO,
                 MPath.CURVE4, MPath.CURVE4, MPath.CURVE4, MPath.CLOSEPOLY]
        ax.add_patch(PathPatch(MPath(verts, codes), lw=0,
                               color=colors[src.split(":", 1)[1]], **kwargs))
    steps = sorted(set(step_of.values()))
    ax.set_xlim(steps[0] - 0.3, steps[-1] + 0.9)
    ax.set_ylim(max(y0[n] + size[n] for n in y0) + gap, -gap)
    ax.set_xticks(steps, [f"step {s}" for s in steps])
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    return ax
