"""What every dashboard page shares: the header (run picker, run name, date and status,
headline KPIs with the change since the previous run, links to the other dashboards), the
warning banner, figures as PNG widgets, readable tables and CSV downloads.

A page subclass declares the tables it needs and builds its body in ``build()``; picking
another run in the header rebuilds the body from that run. Numbers shown for a group below
the privacy floor go through :func:`cxkit.privacy.apply_min_n` ("too few responses").
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from cxkit.dashboards.run import RunData, list_runs, load_run, previous_run, run_warnings
from cxkit.privacy import apply_min_n, min_n_of

#: The five dashboards, in the order of the navigation links.
DASHBOARDS = (("journeys", "Journeys"), ("drivers", "Drivers"),
              ("initiatives", "Initiatives"), ("customers", "Customers"), ("voice", "Voice"))
ALL = "All"

CSS = """<style>
.cx-title {font-size: 1.5em; font-weight: 600; margin: 4px 0}
.cx-nav a {margin-right: 14px}
.cx-kpis {display: flex; gap: 12px; flex-wrap: wrap; margin: 6px 0}
.cx-kpi {border: 1px solid #ccc; border-radius: 6px; padding: 6px 12px; min-width: 150px}
.cx-kpi .v {font-size: 1.4em; font-weight: 600}
.cx-kpi .d {color: #555; font-size: 0.85em}
.cx-banner {border: 2px solid #b00020; background: #fde7ea; color: #b00020; padding: 6px 10px}
.cx-message {border: 1px solid #e0a800; background: #fff8e1; padding: 6px 10px}
.cx-table {border-collapse: collapse; font-size: 0.9em; margin: 6px 0}
.cx-table th, .cx-table td {border-bottom: 1px solid #ddd; padding: 3px 9px; text-align: right}
.cx-table th:first-child, .cx-table td:first-child {text-align: left}
.cx-note {color: #444; font-style: italic; margin: 4px 0}
.cx-too-few {color: #777; font-style: italic}
</style>"""


def fmt_value(value: Any, kind: str = "") -> str:
    """One cell as people read it: thousands separators, few decimals, percentages."""
    if isinstance(value, str):
        return html.escape(value)
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if kind == "pct":
        return f"{float(value):.0%}"
    if kind == "money":
        return f"{float(value):,.0f}"
    if kind == "int":
        return f"{int(value):,}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return html.escape(str(value))


def table_html(table: pd.DataFrame, columns: dict[str, str] | None = None, *,
               kinds: dict[str, str] | None = None, min_n: int | None = None,
               n_col: str | None = None, max_rows: int | None = None) -> str:
    """An HTML table without index: ``columns`` maps table columns to headers people read
    (only those are shown, in that order); ``kinds`` picks a format per column ("pct",
    "money", "int"); with ``min_n`` rows under the privacy floor read "too few responses".
    """
    t = table
    if min_n is not None:
        t = apply_min_n(t, n_col, min_n, as_text=True)
    columns = columns or {c: c.replace("_", " ") for c in t.columns}
    kinds = kinds or {}
    if max_rows is not None:
        t = t.head(max_rows)
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    body = []
    for row in t[list(columns)].itertuples(index=False):
        cells = []
        for col, v in zip(columns, row):
            cls = " class='cx-too-few'" if isinstance(v, str) and v == "too few responses" else ""
            cells.append(f"<td{cls}>{fmt_value(v, kinds.get(col, ''))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table class='cx-table'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def download_link(table: pd.DataFrame, filename: str, label: str) -> str:
    """An ``<a download>`` with the table as CSV inside (no server round trip, no JS)."""
    data = base64.b64encode(table.to_csv(index=False).encode("utf-8")).decode("ascii")
    return (f"<a class='cx-download' download='{html.escape(filename)}' "
            f"href='data:text/csv;base64,{data}'>{html.escape(label)}</a>")


def note(text: str) -> str:
    return f"<div class='cx-note'>{html.escape(text)}</div>"


class Page:
    """Base class of the five dashboards (see the module docstring).

    Subclasses set ``title``, ``required`` and ``optional`` ({table: columns}) and
    implement ``build() -> list[widget]``.
    """

    title = "CX dashboard"
    key = ""
    required: dict[str, tuple[str, ...]] = {}
    optional: dict[str, tuple[str, ...]] = {}

    def __init__(self, run_dir: str | Path, *, min_n: int | None = None):
        import ipywidgets as widgets

        self._w = widgets
        self._min_n = min_n
        self.figures: dict[str, Any] = {}
        run_dir = Path(run_dir)
        here = run_dir.resolve() if run_dir.exists() else run_dir
        runs = list_runs(here.parent) if run_dir.exists() else []
        options = [(self._run_label(r.manifest), str(r.path)) for r in runs]
        if str(here) not in [v for _, v in options]:
            options.insert(0, (here.name, str(here)))
        self.picker = widgets.Dropdown(options=options, value=str(here), description="Run",
                                       layout=widgets.Layout(width="460px"))
        self.header = widgets.HTML()
        self.kpis = widgets.HTML()
        self.banner = widgets.HTML()
        self.message = widgets.HTML()
        self.body = widgets.VBox()
        nav = " ".join(f"<a href='./{k}.ipynb'>{t}</a>" if k != self.key else f"<b>{t}</b>"
                       for k, t in DASHBOARDS)
        self.container = widgets.VBox([
            widgets.HTML(CSS + f"<div class='cx-title'>{html.escape(self.title)}</div>"
                         f"<div class='cx-nav'>{nav}</div>"),
            widgets.HBox([self.picker, self.header]), self.kpis, self.banner, self.message,
            self.body])
        self.picker.observe(lambda change: self.load(change["new"]), names="value")
        self.load(here)

    # -- the run ------------------------------------------------------------------------
    @staticmethod
    def _run_label(m) -> str:
        started = str(m.started_at or "")[:16].replace("T", " ")
        return f"{m.run_name or 'run'} · {started} · {m.run_id}"

    def load(self, run_dir: str | Path) -> None:
        """Show ``run_dir``: header, KPIs, banner, then the body built from its tables."""
        self.run: RunData = load_run(run_dir, self.required, self.optional)
        self.run_dir = self.run.run_dir
        self.manifest = self.run.manifest
        self.tables = self.run.tables
        self.min_n = self._min_n if self._min_n is not None else min_n_of(self.manifest)
        m = self.manifest
        name = m.run_name or "run"
        date = str(m.finished_at or m.started_at or "-")[:16].replace("T", " ")
        self.header.value = (f"<div style='margin:4px 12px'>Run <b>{html.escape(str(name))}"
                             f"</b> ({html.escape(str(m.run_id))})"
                             f" &middot; {html.escape(date)} UTC &middot; status "
                             f"<b>{html.escape(str(m.status))}</b></div>")
        self.kpis.value = self._kpi_html()
        warnings = run_warnings(self.run)
        self.banner.value = ("" if not warnings else "<div class='cx-banner'><b>Warning.</b> "
                             + "<br>".join(html.escape(w) for w in warnings) + "</div>")
        self.message.value = (
            "" if self.run.complete else
            "<div class='cx-message'><b>This run is missing parts.</b><ul>"
            + "".join(f"<li>{html.escape(p)}</li>" for p in self.run.problems) + "</ul></div>")
        ready = all(k.rsplit("/", 1)[-1] in self.tables for k in self.required)
        self.body.children = tuple(self.build()) if ready else ()

    def segment_columns(self, table: pd.DataFrame) -> list[str]:
        """Segment columns the run's YAML named (journey breakdowns, value segments, driver
        pooling), in that order, as far as ``table`` has them: never a built-in list."""
        params = self.manifest.parameters or {}
        named = [*((params.get("journeys") or {}).get("gap_segments") or []),
                 *((params.get("value") or {}).get("segments") or []),
                 (params.get("value") or {}).get("segment"),
                 *((params.get("drivers") or {}).get("segments") or [])]
        return [c for c in dict.fromkeys(named) if c and c in table.columns]

    def _kpi_html(self) -> str:
        from cxkit.summary import format_kpi, headline_kpis, kpi_changes

        if not self.run_dir.is_dir():
            return ""
        prev = previous_run(self.run_dir)
        kpis = kpi_changes(headline_kpis(self.run_dir),
                           headline_kpis(prev) if prev is not None else None)
        boxes = []
        for r in kpis.itertuples(index=False):
            change = ("no previous run" if prev is None else
                      f"{format_kpi(r.change, r.unit, change=True)} since previous run"
                      if np.isfinite(r.previous) else "new in this run")
            boxes.append(f"<div class='cx-kpi'><div>{html.escape(r.label)}</div>"
                         f"<div class='v'>{format_kpi(r.value, r.unit)}</div>"
                         f"<div class='d'>{html.escape(change)}</div></div>")
        return f"<div class='cx-kpis'>{''.join(boxes)}</div>"

    def build(self) -> list:
        raise NotImplementedError

    # -- drawing ------------------------------------------------------------------------
    def image(self, width: str = "760px"):
        return self._w.Image(format="png", layout=self._w.Layout(max_width=width))

    def show(self, image, key: str, draw: Callable, size: tuple[float, float] = (7.5, 3.6)
             ) -> None:
        """Draw a fresh figure with ``draw(ax)`` into the PNG of the ``image`` widget.

        A bare ``Figure`` (no pyplot) keeps no global state between callbacks, and an
        ``Image`` widget's value is plain synced state: it updates the same way in Voila and
        in a test without a kernel.
        """
        fig, png = self.render(draw, size)
        self.figures[key] = fig
        image.value = png

    @staticmethod
    def render(draw: Callable, size: tuple[float, float] = (7.5, 3.6)):
        """``(figure, PNG bytes)`` of ``draw(ax)`` on a fresh figure."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=size, layout="tight")  # one layout pass: half the time of "constrained"
        draw(fig.add_subplot())
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        return fig, buf.getvalue()

    def too_few(self, image, key: str, what: str) -> None:
        """Replace a figure by the privacy-floor message."""
        def draw(ax):
            ax.text(0.5, 0.5, f"too few responses\n({what}: under {self.min_n})",
                    ha="center", va="center", fontsize=14, color="#777")
            ax.set_axis_off()
        self.show(image, key, draw, size=(5, 1.6))
