"""Initiatives dashboard: costs you can edit, and the ROI distribution, P(ROI > 0) and the
planned combination's net value recomputed live from the run's saved posterior draws.

The arithmetic and the plots are :mod:`cxkit.value.roi` (``roi_draws``, ``roi_summary``,
``plot_roi_distribution``); no sampling happens here.
"""

from __future__ import annotations

import html

from cxkit.dashboards.page import Page, note, table_html
from cxkit.value.roi import COST_PARTS

COST_LABELS = {"cost_one_off": "One-off cost", "cost_per_customer": "Per customer",
               "cost_per_period": "Per period"}


class InitiativesApp(Page):
    """The initiatives page over one run (``tables/initiatives``, ``initiative_draws``).

    Examples
    --------
    >>> app = InitiativesApp("reports/latest")  # doctest: +SKIP
    >>> app.cost_inputs["cost_one_off"].value = 50_000  # doctest: +SKIP
    >>> app.summary_table.set_index("initiative").p_roi_positive  # doctest: +SKIP
    """

    title = "Initiatives: cost, return and risk"
    key = "initiatives"
    required = {
        "initiatives": ("initiative", "kind", "n_targeted", *COST_PARTS, "periods"),
        "initiative_draws": ("initiative", "draw", "revenue_change"),
    }

    def build(self) -> list:
        w = self._w
        ini = self.tables["initiatives"]
        self.currency = str(ini["currency"].iloc[0]) if "currency" in ini and len(ini) else ""
        self.costs: dict[str, dict[str, float]] = {}
        names = ini["initiative"].astype(str).tolist()
        self.initiative = w.Dropdown(options=names, value=names[0], description="Initiative")
        self.cost_inputs = {
            part: w.FloatText(description=label, step=100.0,
                              style={"description_width": "90px"},
                              layout=w.Layout(width="230px"))
            for part, label in COST_LABELS.items()}
        self.roi_plot = self.image()
        self.p_html, self.summary_html, self.combo_html = w.HTML(), w.HTML(), w.HTML()
        self._syncing = False
        self.initiative.observe(lambda _: self._show_costs(), names="value")
        for part, box in self.cost_inputs.items():
            box.observe(lambda change, part=part: self._on_cost(part, change["new"]),
                        names="value")
        self._show_costs()
        return [
            w.HTML(note(
                f"Costs are editable: type a new cost and the return on investment (net value "
                f"/ cost) is recomputed from the run's {self._n_draws():,} saved posterior "
                f"draws of the revenue change. Money in {self.currency or 'the data currency'}"
                f"; intervals are 90%.")),
            self.initiative, w.HBox(list(self.cost_inputs.values())),
            self.p_html, self.roi_plot, self.combo_html,
            w.HTML("<h3>All initiatives</h3>"), self.summary_html,
        ]

    def _n_draws(self) -> int:
        return int(self.tables["initiative_draws"]["draw"].nunique())

    def _row(self, name: str):
        ini = self.tables["initiatives"]
        return ini[ini["initiative"].astype(str) == name].iloc[0]

    def _show_costs(self) -> None:
        row = self._row(self.initiative.value)
        edited = self.costs.get(self.initiative.value, {})
        self._syncing = True
        try:
            for part, box in self.cost_inputs.items():
                box.value = float(edited.get(part, row.get(part, 0.0)) or 0.0)
        finally:
            self._syncing = False
        self.update()

    def _on_cost(self, part: str, value: float) -> None:
        if self._syncing:
            return
        self.costs.setdefault(self.initiative.value, {})[part] = float(value or 0.0)
        self.update()

    def update(self) -> None:
        from cxkit.value.roi import plot_roi_distribution, roi_draws, roi_summary

        ini = self.tables["initiatives"]
        self.roi = roi_draws(self.tables["initiative_draws"], ini, self.costs)
        summary = roi_summary(self.roi)
        kind = ini.set_index(ini["initiative"].astype(str))["kind"]
        summary["kind"] = summary["initiative"].astype(str).map(kind)
        self.summary_table = summary.sort_values("roi_mean", ascending=False)
        name = self.initiative.value
        mine = self.roi[self.roi["initiative"].astype(str) == name]
        s = summary.set_index(summary["initiative"].astype(str)).loc[name]
        self.p_roi_positive = float(s["p_roi_positive"])
        self.show(self.roi_plot, "roi", lambda ax: plot_roi_distribution(mine, ax=ax))
        cur = html.escape(self.currency)
        self.p_html.value = (
            f"<p><b>{html.escape(name)}</b>: cost {s['cost']:,.0f} {cur}; chance it pays back "
            f"(P(ROI &gt; 0)) <b>{s['p_roi_positive']:.0%}</b>; ROI {s['roi_mean']:.0%} "
            f"(90% interval {s['roi_low']:.0%} to {s['roi_high']:.0%}); net value "
            f"{s['net_value_mean']:,.0f} {cur} ({s['net_value_low']:,.0f} to "
            f"{s['net_value_high']:,.0f}).</p>")
        combo = summary[summary["kind"] == "combination"]
        self.combo_html.value = "".join(
            f"<p><b>Planned combination</b> ({html.escape(str(r.initiative))}): net value "
            f"<b>{r.net_value_mean:,.0f} {cur}</b> (90% interval {r.net_value_low:,.0f} to "
            f"{r.net_value_high:,.0f}), ROI {r.roi_mean:.0%}, P(ROI &gt; 0) "
            f"{r.p_roi_positive:.0%}.</p>" for r in combo.itertuples()) or (
            "<p>No planned combination in this run.</p>")
        self.summary_html.value = table_html(self.summary_table, {
            "initiative": "initiative", "kind": "kind", "cost": f"cost ({self.currency})",
            "net_value_mean": "net value", "net_value_low": "net value, low",
            "net_value_high": "net value, high", "roi_mean": "ROI", "roi_low": "ROI, low",
            "roi_high": "ROI, high", "p_roi_positive": "P(ROI > 0)"},
            kinds={"cost": "money", "net_value_mean": "money", "net_value_low": "money",
                   "net_value_high": "money", "roi_mean": "pct", "roi_low": "pct",
                   "roi_high": "pct", "p_roi_positive": "pct"})
