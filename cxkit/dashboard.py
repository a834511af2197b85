"""The stakeholder dashboard: an ipywidgets ``App`` over one saved run, served by Voila.

The dashboard only *reads* what a run saved in ``reports/<run_id>/`` (``manifest.json`` and
``tables/*.parquet``). It never imports PyMC and never samples: a page load must be fast and
must not depend on a model that may not converge today. ``dashboards/cx_overview.ipynb`` is
four cells (imports, parameters, ``app = App(...)``, ``app.container``); everything with logic
lives here and is unit-tested without a browser.

``serve`` starts Voila on 127.0.0.1 with token authentication; the run folder reaches the
notebook through the ``CXKIT_RUN_DIR`` environment variable, set by the server process, so
nothing a browser sends (query string, widget messages) can choose a path or run code.
Voila itself only forwards widget ``comm`` messages from the browser to the kernel, never
``execute_request``.
"""

from __future__ import annotations

import html
import io
import ipaddress
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Environment variable through which ``serve`` tells the notebook which run to show.
RUN_DIR_ENV = "CXKIT_RUN_DIR"

#: Tables the four tabs need, with the columns each tab reads (the contracts in
#: docs/ARCHITECTURE.md). Extra columns are fine; missing ones are reported by name.
REQUIRED_TABLES: dict[str, tuple[str, ...]] = {
    "driver_importance": ("segment", "driver", "effect_mean", "effect_hdi_low",
                          "effect_hdi_high", "importance_mean", "importance_hdi_low",
                          "importance_hdi_high", "p_top3", "rank"),
    "scenarios": ("scenario", "driver", "delta", "delta_revenue_mean",
                  "delta_revenue_hdi_low", "delta_revenue_hdi_high", "p_positive", "rank"),
    "quadrants": ("customer_id", "score", "revenue_pre", "quadrant"),
    "journey_gaps": ("touchpoint", "rule", "segment_var", "segment_value", "n", "mean_gap",
                     "share_met", "share_met_low", "share_met_high", "unit"),
}
#: Tables used when present: posterior draws per scenario (for the what-if slider) and NPS.
OPTIONAL_TABLES: dict[str, tuple[str, ...]] = {
    "scenario_draws": ("scenario", "draw", "delta_revenue"),
    "nps_by_segment": (),
}
MANIFEST_KEYS = ("run_id", "status", "started_at", "finished_at")
OK_STATUSES = frozenset({"ok", "success", "succeeded"})
QUADRANT_ORDER = ("Model", "Growth", "At-risk", "Dangling")
#: Segment columns of the quadrant table offered as filters, in this order, when present.
CUSTOMER_FILTERS = ("region", "plan", "channel")
ALL = "All"
HDI_PROB = 0.94
HOW_TO_CREATE = "`make run` (or `cxkit run params/sample.yaml`) creates it"


# --------------------------------------------------------------------------------------
# Loading a run
# --------------------------------------------------------------------------------------

@dataclass
class RunData:
    """What a run folder holds, as far as the dashboard is concerned.

    ``problems`` lists human-readable reasons why parts are missing (file named, fix given);
    the App shows them in its message widget and builds only the tabs it can.
    """

    run_dir: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems


def resolve_run_dir(run_dir: str | Path | None = None) -> Path:
    """The run folder to show: ``run_dir`` if given, else ``$CXKIT_RUN_DIR``, else
    ``reports/latest`` of the project (anchored on the package, not the working directory).

    Examples
    --------
    >>> resolve_run_dir("/tmp/reports/2024-01-01T000000Z")
    PosixPath('/tmp/reports/2024-01-01T000000Z')
    """
    if run_dir:
        return Path(run_dir)
    env = os.environ.get(RUN_DIR_ENV)
    if env:
        return Path(env)
    from cxkit.config import REPORTS_DIR

    return REPORTS_DIR / "latest"


def load_run(run_dir: str | Path) -> RunData:
    """Read ``manifest.json`` and the dashboard's tables from a run folder.

    Never raises for a missing or broken file: each problem is recorded in
    ``RunData.problems`` with the file and what to do, so the dashboard can say so.

    Examples
    --------
    >>> run = load_run("reports/latest")  # doctest: +SKIP
    >>> run.manifest["run_id"], sorted(run.tables)  # doctest: +SKIP
    ('2024-05-01T060000Z', ['driver_importance', 'journey_gaps', 'quadrants', 'scenarios'])
    """
    run_dir = Path(run_dir)
    data = RunData(run_dir=run_dir)
    if not run_dir.is_dir():
        data.problems.append(f"Run folder {run_dir} does not exist; {HOW_TO_CREATE}.")
        return data

    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        data.problems.append(f"{manifest_path} is missing; {HOW_TO_CREATE}.")
    else:
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            data.problems.append(f"{manifest_path} is not valid JSON (line {exc.lineno}, "
                                 f"column {exc.colno}: {exc.msg}); re-run `make run`.")
        else:
            if not isinstance(manifest, dict):
                data.problems.append(f"{manifest_path} should hold a JSON object, found "
                                     f"{type(manifest).__name__}; re-run `make run`.")
            else:
                data.manifest = manifest
                lacking = [k for k in MANIFEST_KEYS if k not in manifest]
                if lacking:
                    data.problems.append(f"{manifest_path} lacks keys {lacking}; it was not "
                                         f"written by `cxkit run`, re-run `make run`.")

    for name, columns in {**REQUIRED_TABLES, **OPTIONAL_TABLES}.items():
        path = run_dir / "tables" / f"{name}.parquet"
        if not path.is_file():
            if name in REQUIRED_TABLES:
                data.problems.append(f"{path} is missing; {HOW_TO_CREATE}.")
            continue
        try:
            table = pd.read_parquet(path)
        except Exception as exc:  # a truncated or foreign file: say which, keep going
            data.problems.append(f"{path} cannot be read ({type(exc).__name__}: {exc}); "
                                 f"re-run `make run`.")
            continue
        lacking = [c for c in columns if c not in table.columns]
        if lacking:
            data.problems.append(f"{path} lacks columns {lacking} (has {list(table.columns)}); "
                                 f"it was written by an older cxkit, re-run `make run`.")
            continue
        data.tables[name] = table
    return data


def run_warnings(run: RunData) -> list[str]:
    """Messages for the red banner: a status other than ok, an overridden convergence gate,
    and any warning the run recorded (``manifest["warnings"]`` or ``warnings.json``)."""
    manifest = run.manifest
    out: list[str] = []
    status = manifest.get("status")
    if status is not None and str(status).lower() not in OK_STATUSES:
        out.append(f"Run status is {status!r}, not ok: treat these results with care.")
    items = list(manifest.get("warnings") or [])
    if not items and (run.run_dir / "warnings.json").is_file():
        try:
            items = json.loads((run.run_dir / "warnings.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            items = [{"kind": "warning",
                      "message": f"{run.run_dir / 'warnings.json'} is not valid JSON."}]
    gate_flagged = bool(manifest.get("gate_overridden"))
    for item in items:
        if isinstance(item, dict):
            gate_flagged |= item.get("kind") == "gate_failed"
            out.append(str(item.get("message", item)))
        else:
            out.append(str(item))
    if gate_flagged:
        out.insert(0, "The convergence gate FAILED and was overridden "
                      "(allow_failed_gate): the driver estimates may be unreliable.")
    return out


# --------------------------------------------------------------------------------------
# Pure table logic behind the widgets (unit-tested directly)
# --------------------------------------------------------------------------------------

def hdi(values: np.ndarray, prob: float = HDI_PROB) -> tuple[float, float]:
    """Shortest interval holding ``prob`` of the draws (same definition as ArviZ's HDI).

    Examples
    --------
    >>> hdi(np.arange(101.0), prob=0.5)
    (0.0, 50.0)
    """
    x = np.sort(np.asarray(values, dtype=float).ravel())
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (float("nan"), float("nan"))
    k = max(int(np.floor(prob * x.size)), 1)
    if k >= x.size:
        return (float(x[0]), float(x[-1]))
    widths = x[k:] - x[: x.size - k]
    i = int(np.argmin(widths))
    return (float(x[i]), float(x[i + k]))


def importance_for(driver_importance: pd.DataFrame, segment: str) -> pd.DataFrame:
    """The driver-importance rows of one segment, ranked (rank 1 first).

    Examples
    --------
    >>> importance_for(table, "North").driver.tolist()  # doctest: +SKIP
    ['delivery', 'app', 'price']
    """
    rows = driver_importance[driver_importance["segment"].astype(str) == str(segment)]
    if rows.empty:
        have = sorted(driver_importance["segment"].astype(str).unique())
        raise KeyError(f"segment {segment!r} not in driver_importance; segments: {have}")
    cols = ["driver", "importance_mean", "importance_hdi_low", "importance_hdi_high",
            "p_top3", "effect_mean", "effect_hdi_low", "effect_hdi_high", "rank"]
    return rows.sort_values(["rank", "driver"])[cols].reset_index(drop=True)


def what_if(scenarios: pd.DataFrame, scenario: str, scale: float = 1.0,
            draws: pd.DataFrame | None = None, prob: float = HDI_PROB) -> pd.DataFrame:
    """Revenue change of ``scenario`` with its driver change multiplied by ``scale``.

    A linear approximation: the saved revenue change is assumed proportional to the driver
    change, which holds for small deltas. With ``draws`` (``tables/scenario_draws.parquet``:
    ``scenario, draw, delta_revenue``) the posterior draws are scaled and the mean, 94% HDI
    and P(> 0) recomputed; without them only ``scale == 1`` (the saved summary) is allowed.

    Returns a one-row DataFrame: ``scenario, driver, delta, scale, delta_revenue_mean,
    delta_revenue_hdi_low, delta_revenue_hdi_high, p_positive, source``.

    Examples
    --------
    >>> what_if(scenarios, "faster delivery", 0.5, draws=draws)  # doctest: +SKIP
    """
    rows = scenarios[scenarios["scenario"].astype(str) == str(scenario)]
    if rows.empty:
        raise KeyError(f"scenario {scenario!r} not in scenarios; have "
                       f"{sorted(scenarios['scenario'].astype(str).unique())}")
    row = rows.iloc[0]
    out = {"scenario": row["scenario"], "driver": row["driver"],
           "delta": float(row["delta"]) * scale, "scale": float(scale)}
    d = None
    if draws is not None:
        d = draws.loc[draws["scenario"].astype(str) == str(scenario), "delta_revenue"]
        d = d.to_numpy(dtype=float) if len(d) else None
    if d is not None:
        scaled = d * scale
        low, high = hdi(scaled, prob)
        out |= {"delta_revenue_mean": float(scaled.mean()), "delta_revenue_hdi_low": low,
                "delta_revenue_hdi_high": high, "p_positive": float((scaled > 0).mean()),
                "source": "draws"}
    else:
        if not np.isclose(scale, 1.0):
            raise ValueError(f"scenario {scenario!r}: no draws in tables/scenario_draws.parquet"
                             f", so only the saved summary (scale=1) can be shown, not "
                             f"scale={scale}; re-run with scenario draws saved.")
        out |= {k: float(row[k]) for k in ("delta_revenue_mean", "delta_revenue_hdi_low",
                                           "delta_revenue_hdi_high", "p_positive")}
        out["source"] = "summary"
    return pd.DataFrame([out])


def quadrant_summary(quadrants: pd.DataFrame, **filters: str) -> pd.DataFrame:
    """Customers and pre-period revenue per quadrant, after equality filters on segment
    columns (``region="North"``; the value ``"All"`` or None means no filter).

    Returns ``quadrant, n_customers, share_customers, revenue_pre, revenue_pre_mean`` with
    every quadrant present (zeros where empty), in the order Model, Growth, At-risk, Dangling.

    Examples
    --------
    >>> quadrant_summary(quadrants, region="North", plan="All")  # doctest: +SKIP
    """
    rows = quadrants
    for column, value in filters.items():
        if value is None or value == ALL:
            continue
        if column not in rows.columns:
            raise KeyError(f"quadrants has no column {column!r} to filter on; "
                           f"columns: {list(quadrants.columns)}")
        rows = rows[rows[column].astype(str) == str(value)]
    order = list(QUADRANT_ORDER) + sorted(set(quadrants["quadrant"].astype(str))
                                          - set(QUADRANT_ORDER))
    grouped = rows.groupby(rows["quadrant"].astype(str))
    out = pd.DataFrame({"n_customers": grouped.size(),
                        "revenue_pre": grouped["revenue_pre"].sum()}).reindex(order)
    out = out.fillna(0.0).astype({"n_customers": int})
    total = out["n_customers"].sum()
    out["share_customers"] = out["n_customers"] / total if total else 0.0
    out["revenue_pre_mean"] = np.where(out["n_customers"] > 0,
                                       out["revenue_pre"] / out["n_customers"].clip(lower=1),
                                       np.nan)
    out = out.rename_axis("quadrant").reset_index()
    return out[["quadrant", "n_customers", "share_customers", "revenue_pre",
                "revenue_pre_mean"]]


def journey_view(journey_gaps: pd.DataFrame, *, segment_var: str | None = None,
                 touchpoint: str | None = None) -> pd.DataFrame:
    """Gap rows for one segment variable (and optionally one touchpoint), worst share met
    first, so the touchpoints most often missing their promise lead the table."""
    rows = journey_gaps
    if segment_var not in (None, ALL):
        rows = rows[rows["segment_var"].astype(str) == str(segment_var)]
    if touchpoint not in (None, ALL):
        rows = rows[rows["touchpoint"].astype(str) == str(touchpoint)]
    return rows.sort_values(["share_met", "touchpoint", "segment_value"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Plots (axes-level, seaborn style)
# --------------------------------------------------------------------------------------

def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


def plot_importance(data: pd.DataFrame, *, segment: str | None = None, ax=None, **kwargs):
    """Horizontal bars of driver importance with 94% HDI whiskers, labelled P(top 3).

    ``data`` is ``driver_importance`` (all segments, then ``segment`` picks one) or the
    output of ``importance_for``. ``kwargs`` go to ``ax.barh``.

    Examples
    --------
    >>> ax = plot_importance(run.tables["driver_importance"], segment="North")  # doctest: +SKIP
    """
    ax = _axes(ax)
    rows = importance_for(data, segment) if segment is not None else data
    rows = rows.sort_values("importance_mean")  # largest on top of a barh
    mean = rows["importance_mean"].to_numpy(float)
    err = np.vstack([mean - rows["importance_hdi_low"].to_numpy(float),
                     rows["importance_hdi_high"].to_numpy(float) - mean])
    kwargs.setdefault("color", "#4C72B0")
    ax.barh(rows["driver"].astype(str), mean, xerr=err, capsize=3, **kwargs)
    for y, (m, hi, p) in enumerate(zip(mean, rows["importance_hdi_high"], rows["p_top3"])):
        ax.annotate(f"P(top 3) {p:.0%}", (max(m, hi), y), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8)
    ax.set_xlabel("importance (94% HDI)")
    ax.set_ylabel("driver")
    if segment is not None:
        ax.set_title(f"Driver importance: {segment}")
    ax.margins(x=0.25)
    return ax


def plot_scenarios(data: pd.DataFrame, *, ax=None, **kwargs):
    """Revenue change per scenario with its 94% HDI, best ranked on top."""
    ax = _axes(ax)
    rows = data.sort_values("rank", ascending=False)
    mean = rows["delta_revenue_mean"].to_numpy(float)
    err = np.vstack([mean - rows["delta_revenue_hdi_low"].to_numpy(float),
                     rows["delta_revenue_hdi_high"].to_numpy(float) - mean])
    kwargs.setdefault("color", "#55A868")
    ax.errorbar(mean, rows["scenario"].astype(str), xerr=err, fmt="o", capsize=3, **kwargs)
    ax.axvline(0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("revenue change (94% HDI)")
    ax.set_ylabel("scenario")
    return ax


def plot_quadrants(data: pd.DataFrame, *, ax=None, **kwargs):
    """Pre-period revenue per quadrant, bars labelled with the number of customers.

    ``data`` is the quadrant table (one row per customer) or ``quadrant_summary`` output.
    """
    ax = _axes(ax)
    summary = data if "n_customers" in data.columns else quadrant_summary(data)
    kwargs.setdefault("color", "#8172B2")
    bars = ax.bar(summary["quadrant"].astype(str), summary["revenue_pre"], **kwargs)
    for bar, n in zip(bars, summary["n_customers"]):
        ax.annotate(f"{n:,} customers", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 3), textcoords="offset points", ha="center", fontsize=8)
    ax.set_xlabel("quadrant")
    ax.set_ylabel("revenue before cutoff")
    return ax


def plot_journey_gaps(data: pd.DataFrame, *, ax=None, **kwargs):
    """Share of promises met per touchpoint (points) and segment value (colour), with
    intervals; ``data`` is ``journey_view`` output for one segment variable."""
    ax = _axes(ax)
    values = sorted(data["segment_value"].astype(str).unique())  # stable colours
    touchpoints = sorted(data["touchpoint"].astype(str).unique())
    width = 0.5 / max(len(values), 1)
    for i, value in enumerate(values):
        rows = data[data["segment_value"].astype(str) == value]
        y = np.array([touchpoints.index(t) for t in rows["touchpoint"].astype(str)], float)
        y = y - 0.25 + width * (i + 0.5)
        share = rows["share_met"].to_numpy(float)
        err = np.vstack([share - rows["share_met_low"].to_numpy(float),
                         rows["share_met_high"].to_numpy(float) - share])
        ax.errorbar(share, y, xerr=err, fmt="o", capsize=2, label=value, **kwargs)
    ax.set_yticks(range(len(touchpoints)), touchpoints)
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("share of promises met")
    if values:
        ax.legend(title=str(data["segment_var"].iloc[0]), fontsize=8, loc="lower left")
    return ax


# --------------------------------------------------------------------------------------
# The widget App
# --------------------------------------------------------------------------------------

def _table_html(data: pd.DataFrame, digits: int = 2) -> str:
    # to_html escapes cell text, so labels from the data cannot inject markup
    return data.to_html(index=False, border=0, classes="cx-table", na_rep="-",
                        float_format=lambda v: f"{v:,.{digits}f}")


_CSS = """<style>
.cx-table {border-collapse: collapse; font-size: 13px; margin: 6px 0;}
.cx-table th {background: #f0f0f0; text-align: right; padding: 3px 8px;}
.cx-table td {text-align: right; padding: 3px 8px; border-bottom: 1px solid #e5e5e5;}
.cx-table td:first-child, .cx-table th:first-child {text-align: left;}
.cx-banner {background: #c62828; color: white; padding: 8px 12px; border-radius: 4px;}
.cx-message {background: #fff3cd; border: 1px solid #e0b100; padding: 8px 12px;}
</style>"""


class App:
    """The CX overview dashboard for one run folder, as ipywidgets.

    Reads ``manifest.json`` and ``tables/*.parquet`` once; filters and the what-if slider
    only re-slice those tables. The current state is exposed for tests and notebooks:
    ``importance_table``, ``scenarios_table``, ``whatif_table``, ``quadrant_table``,
    ``journey_table`` (DataFrames) and ``figures`` (the last matplotlib Figure per tab).

    Parameters
    ----------
    run_dir : path
        ``reports/<run_id>/`` or ``reports/latest``. A missing or incomplete folder gives
        a message naming the missing files instead of an error.

    Examples
    --------
    >>> app = App("reports/latest")  # doctest: +SKIP
    >>> app.segment.value = "North"  # doctest: +SKIP
    >>> app.importance_table.driver.iloc[0]  # doctest: +SKIP
    'delivery'
    >>> app.container  # doctest: +SKIP
    """

    def __init__(self, run_dir: str | Path):
        import ipywidgets as widgets

        self._w = widgets
        self.run = load_run(run_dir)
        self.run_dir = self.run.run_dir
        self.manifest = self.run.manifest
        self.tables = self.run.tables
        self.figures: dict[str, Any] = {}
        self.importance_table = pd.DataFrame()
        self.scenarios_table = pd.DataFrame()
        self.whatif_table = pd.DataFrame()
        self.quadrant_table = pd.DataFrame()
        self.journey_table = pd.DataFrame()
        self.segment = self.scenario = self.scale = None
        self.segment_var = self.touchpoint = None
        self.filters: dict[str, Any] = {}

        self.header = widgets.HTML(self._header_html())
        self.warnings = run_warnings(self.run)
        self.banner = widgets.HTML(
            "" if not self.warnings else
            "<div class='cx-banner'><b>Warning.</b> "
            + "<br>".join(html.escape(w) for w in self.warnings) + "</div>")
        self.message = widgets.HTML(
            "" if self.run.complete else
            "<div class='cx-message'><b>This run is missing parts.</b><ul>"
            + "".join(f"<li>{html.escape(p)}</li>" for p in self.run.problems) + "</ul></div>")

        tabs, titles = [], []
        for title, name, build in (("Drivers", "driver_importance", self._build_drivers),
                                   ("Initiatives", "scenarios", self._build_initiatives),
                                   ("Customers", "quadrants", self._build_customers),
                                   ("Journey", "journey_gaps", self._build_journey)):
            if name in self.tables:
                tabs.append(build())
                titles.append(title)
        self.tabs = widgets.Tab(children=tabs, titles=titles)
        parts = [widgets.HTML(_CSS), self.header, self.banner, self.message]
        self.container = widgets.VBox(parts + ([self.tabs] if tabs else []))

    # -- helpers ---------------------------------------------------------------------
    @property
    def region(self):
        """The region filter of the Customers tab (None if the table has no region)."""
        return self.filters.get("region")

    @property
    def plan(self):
        """The plan filter of the Customers tab (None if the table has no plan)."""
        return self.filters.get("plan")

    def _header_html(self) -> str:
        m = self.manifest
        run_id = m.get("run_id", self.run_dir.name)
        bits = [f"status <b>{html.escape(str(m.get('status', 'unknown')))}</b>",
                f"started {html.escape(str(m.get('started_at', '-')))}",
                f"finished {html.escape(str(m.get('finished_at', '-')))}"]
        return (f"<h2 style='margin:4px 0'>CX overview: run {html.escape(str(run_id))}</h2>"
                f"<div>{' &middot; '.join(bits)}</div>")

    def _show(self, image, key: str, draw) -> None:
        """Draw a fresh figure with ``draw(ax)`` into the PNG of the ``image`` widget.

        A bare ``Figure`` (no pyplot) keeps no global state between callbacks, and an
        ``Image`` widget's value is plain synced state: it updates the same way in Voila and
        in a test without a kernel, unlike an ``Output`` widget's captured display.
        """
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7.5, 3.6), layout="constrained")
        draw(fig.add_subplot())
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        self.figures[key] = fig
        image.value = buf.getvalue()

    def _plot_widget(self):
        return self._w.Image(format="png", layout=self._w.Layout(max_width="760px"))

    # -- Drivers ---------------------------------------------------------------------
    def _build_drivers(self):
        w = self._w
        table = self.tables["driver_importance"]
        segments = sorted(table["segment"].astype(str).unique())
        self.segment = w.Dropdown(options=segments, value=segments[0], description="Segment")
        self.importance_html = w.HTML()
        self.drivers_plot = self._plot_widget()
        self.segment.observe(lambda _: self._update_drivers(), names="value")
        self._update_drivers()
        note = w.HTML("<i>Importance: how much the outcome moves per typical change of the "
                      "driver; whiskers are 94% HDIs; P(top 3) is the posterior probability "
                      "that the driver is among the three most important.</i>")
        parts = [self.segment, note, self.drivers_plot, self.importance_html]
        if "nps_by_segment" in self.tables:
            parts += [w.HTML("<h4>NPS by segment</h4>"
                             + _table_html(self.tables["nps_by_segment"]))]
        return w.VBox(parts)

    def _update_drivers(self) -> None:
        segment = self.segment.value
        self.importance_table = importance_for(self.tables["driver_importance"], segment)
        self._show(self.drivers_plot, "drivers",
                   lambda ax: plot_importance(self.importance_table, ax=ax)
                   .set_title(f"Driver importance: {segment}"))
        self.importance_html.value = _table_html(self.importance_table, digits=3)

    # -- Initiatives -----------------------------------------------------------------
    def _build_initiatives(self):
        w = self._w
        self.scenarios_table = self.tables["scenarios"].sort_values("rank").reset_index(
            drop=True)
        self.draws = self.tables.get("scenario_draws")
        names = list(dict.fromkeys(self.scenarios_table["scenario"].astype(str)))
        self.scenario = w.Dropdown(options=names, value=names[0], description="Scenario")
        self.scale = w.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.1,
                                   description="Delta x", readout_format=".1f",
                                   disabled=self.draws is None)
        self.whatif_html = w.HTML()
        self.initiatives_plot = self._plot_widget()
        if self.draws is None:
            note = ("<i>What-if: tables/scenario_draws.parquet is not in this run, so only the "
                    "saved summary is shown (slider disabled).</i>")
        else:
            note = ("<i>What-if: scales the scenario's driver change and its revenue draws "
                    "linearly (a first-order approximation, fine for small changes).</i>")
        for widget in (self.scenario, self.scale):
            widget.observe(lambda _: self._update_whatif(), names="value")
        self._update_whatif()
        self._show(self.initiatives_plot, "initiatives",
                   lambda ax: plot_scenarios(self.scenarios_table, ax=ax))
        return w.VBox([self.initiatives_plot, w.HTML(_table_html(self.scenarios_table)),
                       w.HTML("<h4>What if</h4>" + note),
                       w.HBox([self.scenario, self.scale]), self.whatif_html])

    def _update_whatif(self) -> None:
        scale = self.scale.value if self.draws is not None else 1.0
        self.whatif_table = what_if(self.scenarios_table, self.scenario.value, scale,
                                    draws=self.draws)
        self.whatif_html.value = _table_html(self.whatif_table)

    # -- Customers -------------------------------------------------------------------
    def _build_customers(self):
        w = self._w
        table = self.tables["quadrants"]
        for column in CUSTOMER_FILTERS:
            if column in table.columns:
                values = sorted(table[column].dropna().astype(str).unique())
                dd = w.Dropdown(options=[ALL, *values], value=ALL,
                                description=column.capitalize())
                dd.observe(lambda _: self._update_customers(), names="value")
                self.filters[column] = dd
        self.quadrant_html = w.HTML()
        self.customers_plot = self._plot_widget()
        self._update_customers()
        return w.VBox([w.HBox(list(self.filters.values())), self.customers_plot,
                       self.quadrant_html])

    def _update_customers(self) -> None:
        chosen = {k: dd.value for k, dd in self.filters.items()}
        self.quadrant_table = quadrant_summary(self.tables["quadrants"], **chosen)
        self._show(self.customers_plot, "customers",
                   lambda ax: plot_quadrants(self.quadrant_table, ax=ax))
        self.quadrant_html.value = _table_html(self.quadrant_table)

    # -- Journey ---------------------------------------------------------------------
    def _build_journey(self):
        w = self._w
        table = self.tables["journey_gaps"]
        seg_vars = list(dict.fromkeys(table["segment_var"].astype(str)))
        touchpoints = list(dict.fromkeys(table["touchpoint"].astype(str)))
        self.segment_var = w.Dropdown(options=seg_vars, value=seg_vars[0],
                                      description="Segment by")
        self.touchpoint = w.Dropdown(options=[ALL, *touchpoints], value=ALL,
                                     description="Touchpoint")
        for widget in (self.segment_var, self.touchpoint):
            widget.observe(lambda _: self._update_journey(), names="value")
        self.journey_html = w.HTML()
        self.journey_plot = self._plot_widget()
        self._update_journey()
        return w.VBox([w.HBox([self.segment_var, self.touchpoint]), self.journey_plot,
                       self.journey_html])

    def _update_journey(self) -> None:
        self.journey_table = journey_view(self.tables["journey_gaps"],
                                          segment_var=self.segment_var.value,
                                          touchpoint=self.touchpoint.value)
        self._show(self.journey_plot, "journey",
                   lambda ax: plot_journey_gaps(self.journey_table, ax=ax))
        self.journey_html.value = _table_html(self.journey_table)


#: Alias kept for readers who look for a descriptive name.
CXDashboard = App


# --------------------------------------------------------------------------------------
# Serving with Voila
# --------------------------------------------------------------------------------------

def default_notebook() -> Path:
    """``dashboards/cx_overview.ipynb`` of the project (anchored on the package)."""
    from cxkit.config import DASHBOARDS_DIR

    return DASHBOARDS_DIR / "cx_overview.ipynb"


def _is_loopback(ip: str) -> bool:
    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def voila_command(notebook: str | Path, *, port: int, ip: str = "127.0.0.1",
                  allow_remote: bool = False) -> list[str]:
    """The Voila command line ``serve`` runs (the token travels in the environment).

    The token is not on the command line, where ``ps`` would show it to every local user:
    ``--Voila.auto_token=True`` makes Voila require a token and read it from
    ``$JUPYTER_TOKEN`` (see ``voila_env``). ``port_retries=0`` so Voila fails rather than
    quietly moving to another port than the URL printed.

    Examples
    --------
    >>> voila_command("dashboards/cx_overview.ipynb", port=8866)[-6:]  # doctest: +SKIP
    """
    if not _is_loopback(ip) and not allow_remote:
        raise ValueError(f"refusing to serve the dashboard on non-loopback address {ip!r}: "
                         f"anyone who can reach it could try the token. Use 127.0.0.1 and an "
                         f"SSH tunnel, or pass allow_remote=True if you really mean it.")
    if not 0 < int(port) < 65536:
        raise ValueError(f"port must be in 1..65535, got {port}")
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser",
            f"--port={int(port)}", "--Voila.port_retries=0", f"--Voila.ip={ip}",
            "--Voila.auto_token=True", "--strip_sources=True", "--show_tracebacks=False"]


def voila_env(run_dir: str | Path, token: str, base: dict[str, str] | None = None
              ) -> dict[str, str]:
    """Environment for the Voila process: the token and the run folder for the notebook."""
    if not token or not token.strip():
        raise ValueError("the dashboard token must not be empty: an empty token turns "
                         "Voila's authentication off. Pass token=None for a random one.")
    env = dict(os.environ if base is None else base)
    env["JUPYTER_TOKEN"] = token
    env[RUN_DIR_ENV] = str(Path(run_dir).absolute())
    return env


def serve(run_dir: str | Path, port: int = 8866, token: str | None = None,
          notebook: str | Path | None = None, *, ip: str = "127.0.0.1",
          allow_remote: bool = False) -> int:
    """Serve the dashboard with Voila on ``ip:port`` (127.0.0.1) behind a token; blocks.

    Parameters
    ----------
    run_dir : path
        Run folder to show (``reports/latest`` follows the last good run on each page load).
    port : int
        TCP port; Voila fails if it is taken instead of picking another.
    token : str, optional
        Access token; a random one (``secrets.token_urlsafe``) when None. The full URL with
        the token is printed, since Voila masks it in its own log.
    notebook : path, optional
        Dashboard notebook; default ``dashboards/cx_overview.ipynb``.
    ip, allow_remote
        Bind address; a non-loopback address is refused unless ``allow_remote=True``.

    Returns
    -------
    int
        Voila's exit status (0 after Ctrl-C), or 2 when the run folder or notebook is missing.

    Examples
    --------
    >>> serve("reports/latest")  # doctest: +SKIP
    Dashboard: http://127.0.0.1:8866/?token=...
    """
    run_dir = Path(run_dir)
    notebook = Path(notebook) if notebook else default_notebook()
    if not run_dir.is_dir():
        print(f"error: run folder {run_dir} not found; {HOW_TO_CREATE}.", file=sys.stderr)
        return 2
    if not notebook.is_file():
        print(f"error: dashboard notebook {notebook} not found; pass --notebook or restore "
              f"dashboards/cx_overview.ipynb.", file=sys.stderr)
        return 2
    token = token or secrets.token_urlsafe(24)
    cmd = voila_command(notebook, port=port, ip=ip, allow_remote=allow_remote)
    env = voila_env(run_dir, token)
    host = f"[{ip}]" if ":" in ip else ip
    print(f"Dashboard for {run_dir}: http://{host}:{port}/?token={token}", flush=True)
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 0
