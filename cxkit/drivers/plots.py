"""Axes-level plots of the driver-model summaries (seaborn style).

Each function takes a table from :mod:`cxkit.drivers.summaries`, draws on ``ax`` (the
current axes when ``None``) and returns the ``Axes``, so figures are composed by the
caller (notebooks, dashboards, the HTML report).

Tables with several segments are plotted one segment at a time: ``segment=None`` picks
``"All"`` when present, or the only segment in the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit._plots import axes as _axes
from cxkit._checks import require_columns
from cxkit.drivers.summaries import ALL, QUADRANTS

# one colour per IPA quadrant, from seaborn's colour-blind palette order
_QUADRANT_COLOURS = dict(zip(QUADRANTS, ["#D55E00", "#009E73", "#999999", "#0072B2"]))


def _require(table: pd.DataFrame, columns: list[str], source: str) -> None:
    require_columns(table, columns, table=source,
                    hint=f"Pass the DataFrame returned by cxkit.drivers.summaries.{source}.")


def _one_segment(table: pd.DataFrame, segment: str | None) -> tuple[pd.DataFrame, str]:
    segments = list(pd.unique(table["segment"]))
    if segment is None:
        if ALL in segments:
            segment = ALL
        elif len(segments) == 1:
            segment = segments[0]
        else:
            raise ValueError(
                f"table has segments {segments} and no {ALL!r}; choose one with segment=..."
            )
    if segment not in segments:
        raise ValueError(f"segment {segment!r} is not in the table; segments are {segments}.")
    rows = table[table["segment"] == segment]
    if rows.empty:
        raise ValueError(f"segment {segment!r} has no rows to plot.")
    return rows, segment


def _hdi_xerr(mean: pd.Series, low: pd.Series, high: pd.Series) -> np.ndarray:
    # errorbar wants distances; an HDI need not be symmetric around the mean
    return np.vstack([(mean - low).to_numpy(float), (high - mean).to_numpy(float)])


def plot_driver_effects(
    table: pd.DataFrame,
    *,
    segment: str | None = None,
    value: str = "effect",
    ax=None,
    **kwargs,
):
    """Forest plot of driver effects (or importances) with 94% HDI bars.

    Parameters
    ----------
    table : DataFrame
        From :func:`~cxkit.drivers.summaries.driver_importance`.
    segment : str, optional
        Segment to draw; default ``"All"`` (or the only segment).
    value : {"effect", "importance"}, default "effect"
        Which column family to draw (``effect_*`` or ``importance_*``).
    ax : matplotlib Axes, optional
        Axes to draw on; the current axes by default.
    **kwargs
        Passed to ``Axes.errorbar``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> plot_driver_effects(driver_importance(result, responses), segment="North")
    ... # doctest: +SKIP
    """
    if value not in ("effect", "importance"):
        raise ValueError(f"value must be 'effect' or 'importance', got {value!r}.")
    cols = [f"{value}_mean", f"{value}_low", f"{value}_high"]
    _require(table, ["segment", "driver", *cols], "driver_importance")
    rows, segment = _one_segment(table, segment)
    # most important at the top: matplotlib draws y = 0 at the bottom
    rows = rows.sort_values(cols[0], key=abs if value == "effect" else None)
    ax = _axes(ax)
    y = np.arange(len(rows))
    kwargs = {"fmt": "o", "color": "C0", "capsize": 3} | kwargs
    ax.errorbar(
        rows[cols[0]], y, xerr=_hdi_xerr(rows[cols[0]], rows[cols[1]], rows[cols[2]]), **kwargs
    )
    ax.axvline(0, color="0.5", linewidth=1, linestyle="--")
    ax.set_yticks(y, rows["driver"].tolist())
    ax.set_xlabel(f"{value} (posterior mean, 94% HDI)")
    ax.set_title(f"Driver {value}s: {segment}")
    return ax


def plot_importance_performance(
    table: pd.DataFrame,
    *,
    segment: str | None = None,
    ax=None,
    **kwargs,
):
    """Importance-performance quadrant plot with error bars and median lines.

    x = normalised performance (0-1, 1 = best) with its 94% interval, y = importance
    with its 94% HDI; the dashed lines are the segment medians that define the quadrants,
    points are coloured by quadrant and labelled with the driver name.

    Parameters
    ----------
    table : DataFrame
        From :func:`~cxkit.drivers.summaries.importance_performance`.
    segment : str, optional
        Segment to draw; default ``"All"`` (or the only segment).
    ax : matplotlib Axes, optional
        Axes to draw on; the current axes by default.
    **kwargs
        Passed to ``Axes.errorbar`` for every point.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> plot_importance_performance(importance_performance(result, responses))
    ... # doctest: +SKIP
    """
    needed = [
        "segment", "driver", "importance_mean", "importance_low", "importance_high",
        "performance_norm", "performance_norm_low", "performance_norm_high", "quadrant",
        "importance_median", "performance_median",
    ]  # fmt: skip
    _require(table, needed, "importance_performance")
    rows, segment = _one_segment(table, segment)
    rows = rows.dropna(subset=["performance_norm", "importance_mean"])
    ax = _axes(ax)
    kwargs = {"fmt": "o", "capsize": 2, "alpha": 0.9} | kwargs
    for quadrant in QUADRANTS:
        part = rows[rows["quadrant"] == quadrant]
        if part.empty:
            continue
        ax.errorbar(
            part["performance_norm"],
            part["importance_mean"],
            xerr=_hdi_xerr(
                part["performance_norm"],
                part["performance_norm_low"],
                part["performance_norm_high"],
            ),
            yerr=_hdi_xerr(
                part["importance_mean"], part["importance_low"], part["importance_high"]
            ),
            color=_QUADRANT_COLOURS[quadrant],
            label=quadrant,
            **kwargs,
        )
    for _, row in rows.iterrows():
        ax.annotate(
            row["driver"],
            (row["performance_norm"], row["importance_mean"]),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize="small",
        )
    ax.axvline(rows["performance_median"].iloc[0], color="0.5", linestyle="--", linewidth=1)
    ax.axhline(rows["importance_median"].iloc[0], color="0.5", linestyle="--", linewidth=1)
    ax.set_xlabel("performance (0 = worst, 1 = best in observed range)")
    ax.set_ylabel("importance (outcome units per 1 SD of driver)")
    ax.set_title(f"Importance vs performance: {segment}")
    ax.legend(title="quadrant", fontsize="small")
    return ax


def plot_nps_by_segment(table: pd.DataFrame, *, ax=None, **kwargs):
    """NPS per segment: posterior mean with 94% HDI, observed NPS as a cross.

    Parameters
    ----------
    table : DataFrame
        From :func:`~cxkit.drivers.summaries.nps_by_segment`.
    ax : matplotlib Axes, optional
        Axes to draw on; the current axes by default.
    **kwargs
        Passed to ``Axes.errorbar``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> plot_nps_by_segment(nps_by_segment(responses, segment="region"))  # doctest: +SKIP
    """
    _require(
        table,
        ["segment", "n", "nps_observed", "nps_mean", "nps_low", "nps_high"],
        "nps_by_segment",
    )
    # "All" on top as the reference, segments below it in table order
    rows = table.iloc[::-1]
    ax = _axes(ax)
    y = np.arange(len(rows))
    kwargs = {"fmt": "o", "color": "C0", "capsize": 3, "label": "posterior (94% HDI)"} | kwargs
    ax.errorbar(
        rows["nps_mean"],
        y,
        xerr=_hdi_xerr(rows["nps_mean"], rows["nps_low"], rows["nps_high"]),
        **kwargs,
    )
    ax.scatter(rows["nps_observed"], y, marker="x", color="C3", label="observed", zorder=3)
    ax.axvline(0, color="0.5", linewidth=1, linestyle="--")
    ax.set_yticks(y, [f"{s} (n={n})" for s, n in zip(rows["segment"], rows["n"])])
    ax.set_xlim(-100, 100)
    ax.set_xlabel("NPS")
    ax.set_title("NPS by segment")
    ax.legend(fontsize="small")
    return ax


def plot_top3_probability(
    table: pd.DataFrame, *, segment: str | None = None, ax=None, **kwargs
):
    """Horizontal bars: probability that each driver is among the top 3 by importance.

    Parameters
    ----------
    table : DataFrame
        From :func:`~cxkit.drivers.summaries.driver_importance`.
    segment : str, optional
        Segment to draw; default ``"All"`` (or the only segment).
    ax : matplotlib Axes, optional
        Axes to draw on; the current axes by default.
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> plot_top3_probability(driver_importance(result, responses))  # doctest: +SKIP
    """
    _require(table, ["segment", "driver", "p_top3"], "driver_importance")
    rows, segment = _one_segment(table, segment)
    rows = rows.sort_values("p_top3", kind="stable")
    ax = _axes(ax)
    kwargs = {"color": "C0"} | kwargs
    ax.barh(rows["driver"].tolist(), rows["p_top3"].to_numpy(float), **kwargs)
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(driver in top 3 by importance)")
    ax.set_title(f"Top-3 probability: {segment}")
    return ax
