"""Customers dashboard: the quadrant scatter, revenue at risk with its intervals, and the
at-risk list with filters and a CSV download.

Plots and summaries are :mod:`cxkit.value` (``plot_quadrants``, ``quadrant_summary``) and
:mod:`cxkit.value.roi` (``plot_revenue_at_risk``).
"""

from __future__ import annotations

import pandas as pd

from cxkit.dashboards.page import ALL, Page, download_link, note, table_html

AT_RISK_COLUMNS = {"customer_id": "customer", "score": "score", "p_leave_mean": "P(leave)",
                   "expected_value_mean": "expected value",
                   "revenue_at_risk_mean": "revenue at risk", "issue_1": "main issue",
                   "issue_2": "second issue", "issue_3": "third issue"}


class CustomersApp(Page):
    """The customers page over one run (``tables/quadrants``; ``revenue_at_risk`` and
    ``at_risk`` when the run has them).

    Examples
    --------
    >>> app = CustomersApp("reports/latest")  # doctest: +SKIP
    >>> app.filters["region"].value = "North"  # doctest: +SKIP
    >>> len(app.at_risk_view)  # doctest: +SKIP
    """

    title = "Customers: who to keep"
    key = "customers"
    required = {"quadrants": ("customer_id", "score", "revenue_pre", "quadrant")}
    optional = {
        "revenue_at_risk": ("quadrant", "segment_var", "segment_value", "customers",
                            "revenue_at_risk_mean", "revenue_at_risk_low",
                            "revenue_at_risk_high"),
        "at_risk": ("customer_id", "p_leave_mean", "revenue_at_risk_mean"),
    }

    def build(self) -> list:
        w = self._w
        q = self.tables["quadrants"]
        self.filters = {}
        for col in self.segment_columns(q):
            values = sorted(q[col].dropna().astype(str).unique())
            dd = w.Dropdown(options=[ALL, *values], value=ALL,
                            description=col.capitalize(), layout=w.Layout(width="220px"))
            dd.observe(lambda _: self.update(), names="value")
            self.filters[col] = dd
        self.quadrant_plot, self.quadrant_html = self.image(), w.HTML()
        parts = [w.HBox(list(self.filters.values())), w.HTML("<h3>Experience vs revenue</h3>"
                 + note("Each dot is a customer: latest score across, revenue before the "
                        "cut-off up. At-risk = valuable but unhappy.")),
                 self.quadrant_plot, self.quadrant_html]
        self.rar_plot, self.rar_html = self.image(), w.HTML()
        if "revenue_at_risk" in self.tables:
            rar = self.tables["revenue_at_risk"]
            self.rar_var = w.Dropdown(options=list(dict.fromkeys(rar["segment_var"])),
                                      description="Revenue by")
            self.rar_var.observe(lambda _: self._update_rar(), names="value")
            parts += [w.HTML("<h3>Revenue at risk</h3>" + note(
                "Expected revenue lost over the horizon from customers likely to leave, with "
                "90% intervals; groups under the privacy floor show no estimate.")),
                      self.rar_var, self.rar_plot, self.rar_html]
        self.p_min = w.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05,
                                   description="P(leave) ≥", readout_format=".0%")
        self.top = w.IntSlider(value=25, min=5, max=200, step=5, description="Show top")
        self.at_risk_html, self.download_html = w.HTML(), w.HTML()
        if "at_risk" in self.tables:
            for widget in (self.p_min, self.top):
                widget.observe(lambda _: self._update_list(), names="value")
            parts += [w.HTML("<h3>Customers at risk</h3>" + note(
                "Active customers most likely to leave, by revenue at risk; the filters "
                "above apply. The download holds every customer in the filter, not only "
                "those shown.")), w.HBox([self.p_min, self.top]), self.download_html,
                      self.at_risk_html]
        self._quadrant_png: dict[tuple, tuple] = {}
        self.update()
        self._prepare_first_filter()
        return parts

    def _prepare_first_filter(self) -> None:
        """Draw the scatter for each value of the first filter while the page is pre-heated
        (Voila's kernel pool), so picking one shows a ready picture."""
        from cxkit.value import plot_quadrants

        if not self.filters:
            return
        col, dd = next(iter(self.filters.items()))
        q = self.tables["quadrants"]
        for value in dd.options[1:]:
            part = q[q[col].astype(str) == value]
            key = ((col, value),)
            if len(part) >= self.min_n and key not in self._quadrant_png:
                self._quadrant_png[key] = self.render(
                    lambda ax, part=part: plot_quadrants(part, ax=ax), size=(7.5, 4.0))

    def chosen(self) -> dict[str, str]:
        return {k: dd.value for k, dd in self.filters.items() if dd.value != ALL}

    def _filter(self, table: pd.DataFrame) -> pd.DataFrame:
        for col, value in self.chosen().items():
            if col in table.columns:
                table = table[table[col].astype(str) == value]
        return table

    def update(self) -> None:
        from cxkit.value import plot_quadrants, quadrant_summary

        q = self._filter(self.tables["quadrants"])
        self.quadrant_view = q
        if len(q) < self.min_n:
            self.too_few(self.quadrant_plot, "quadrants", f"{len(q)} customers")
            self.quadrant_table = pd.DataFrame()
            self.quadrant_html.value = ""
        else:
            self.quadrant_table = quadrant_summary(q)
            key = tuple(sorted(self.chosen().items()))
            if key not in self._quadrant_png:
                self._quadrant_png[key] = self.render(
                    lambda ax: plot_quadrants(q, ax=ax), size=(7.5, 4.0))
            self.figures["quadrants"], self.quadrant_plot.value = self._quadrant_png[key]
            self.quadrant_html.value = table_html(self.quadrant_table, {
                "quadrant": "quadrant", "n_customers": "customers",
                "share_customers": "share of customers", "revenue": "revenue",
                "share_revenue": "share of revenue"},
                kinds={"share_customers": "pct", "share_revenue": "pct", "revenue": "money"})
        if "revenue_at_risk" in self.tables:
            self._update_rar()
        if "at_risk" in self.tables:
            self._update_list()

    def _update_rar(self) -> None:
        from cxkit.value.roi import plot_revenue_at_risk

        rar = self.tables["revenue_at_risk"]
        rows = rar[rar["segment_var"] == self.rar_var.value]
        chosen = self.chosen()
        if self.rar_var.value in chosen:
            rows = rows[rows["segment_value"].astype(str) == chosen[self.rar_var.value]]
        self.rar_table = rows
        shown = rows[rows["customers"] >= self.min_n]
        label = "segment_value" if shown["quadrant"].nunique() <= 1 else "label"
        shown = shown.assign(label=shown["segment_value"].astype(str) + " / "
                             + shown["quadrant"].astype(str))
        if len(shown):
            self.show(self.rar_plot, "revenue_at_risk",
                      lambda ax: plot_revenue_at_risk(shown, ax=ax, label=label))
        else:
            self.too_few(self.rar_plot, "revenue_at_risk", "every group")
        self.rar_html.value = table_html(rows, {
            "segment_value": "group", "quadrant": "quadrant", "customers": "customers",
            "revenue_at_risk_mean": "revenue at risk", "revenue_at_risk_low": "low (90%)",
            "revenue_at_risk_high": "high (90%)"},
            kinds={"revenue_at_risk_mean": "money", "revenue_at_risk_low": "money",
                   "revenue_at_risk_high": "money"}, min_n=self.min_n, n_col="customers")

    def _update_list(self) -> None:
        t = self._filter(self.tables["at_risk"])
        t = t[t["p_leave_mean"] >= self.p_min.value]
        self.at_risk_view = t.sort_values("revenue_at_risk_mean", ascending=False)
        cols = {c: label for c, label in AT_RISK_COLUMNS.items() if c in t.columns}
        self.at_risk_html.value = table_html(
            self.at_risk_view, cols, kinds={"p_leave_mean": "pct",
                                            "expected_value_mean": "money",
                                            "revenue_at_risk_mean": "money"},
            max_rows=self.top.value)
        self.download_html.value = download_link(
            self.at_risk_view, "at_risk.csv",
            f"Download these {len(self.at_risk_view):,} customers as CSV")
