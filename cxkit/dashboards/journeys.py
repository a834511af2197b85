"""Journeys dashboard: funnel with fall-out, a drawn Sankey of the top paths, time between
stages and the service promises kept by touchpoint, filtered by segment.

All numbers and plots come from :mod:`cxkit.journeys` (``stage_funnel``, ``sankey_links``,
``stage_durations``, ``plot_funnel``, ``plot_sankey``, ``plot_gap_by_segment``).
"""

from __future__ import annotations

import pandas as pd

from cxkit.dashboards.page import ALL, Page, note, table_html



class JourneysApp(Page):
    """The journeys page over one run (``ingest/events``, ``ingest/customers`` and
    ``tables/journey_gaps``).

    Examples
    --------
    >>> app = JourneysApp("reports/latest")  # doctest: +SKIP
    >>> app.segment_var.value, app.segment_value.value = "region", "North"  # doctest: +SKIP
    >>> app.funnel_table.customers.iloc[0]  # doctest: +SKIP
    """

    title = "Customer journeys"
    key = "journeys"
    required = {
        "ingest/events": ("customer_id", "event_id", "event_ts", "stage", "touchpoint"),
        "ingest/customers": ("customer_id",),
        "journey_gaps": ("touchpoint", "rule", "segment_var", "segment_value", "n",
                         "share_met", "share_met_low", "share_met_high", "unit"),
    }

    def build(self) -> list:
        from cxkit.journeys import stage_funnel

        w = self._w
        customers = self.tables["customers"]
        self.segment_var = w.Dropdown(options=[ALL, *self.segment_columns(customers)], value=ALL,
                                      description="Segment by")
        self.segment_value = w.Dropdown(options=[ALL], value=ALL, description="Segment")
        all_stages = stage_funnel(self.tables["events"])["stage"].tolist()
        present = list(dict.fromkeys(self.tables["events"]["stage"].dropna().astype(str)))
        self.stages = w.SelectMultiple(options=all_stages + [s for s in present
                                                            if s not in all_stages],
                                       value=tuple(all_stages), description="Funnel steps",
                                       rows=min(8, len(present)))
        self.level = w.ToggleButtons(options=["stage", "touchpoint"], value="stage",
                                     description="Paths by")
        self.steps = w.IntSlider(value=4, min=2, max=6, description="Steps")
        self.funnel_plot, self.sankey_plot, self.gaps_plot = (self.image(), self.image(),
                                                              self.image())
        self.funnel_html, self.durations_html, self.gaps_html = w.HTML(), w.HTML(), w.HTML()
        self.segment_var.observe(self._on_segment_var, names="value")
        for widget in (self.segment_value, self.stages):
            widget.observe(lambda _: self.update(), names="value")
        for widget in (self.level, self.steps):
            widget.observe(lambda _: self._update_sankey(), names="value")
        self._sankey_png: dict[tuple, tuple] = {}
        self.update()
        # the page is built before anyone asks (Voila's kernel pool): draw the other path
        # level now, so the first toggle shows a ready picture
        self._prepare_other_level()
        return [
            w.HBox([self.segment_var, self.segment_value]),
            w.HTML("<h3>Funnel</h3>" + note(
                "A step counts customers with events in that stage and in every step above "
                "it, so no step exceeds the one before; fall-out is who stopped there. "
                "'Reached' counts everyone with an event in the stage (some join mid-way).")),
            w.HBox([self.funnel_plot, self.stages]), self.funnel_html,
            w.HTML("<h3>Most common paths</h3>"), w.HBox([self.level, self.steps]),
            self.sankey_plot,
            w.HTML("<h3>Time between stages</h3>" + note(
                "From a customer's first event in one step to their first event in the next "
                "(median and middle half, in days).")), self.durations_html,
            w.HTML("<h3>Promises kept by touchpoint</h3>" + note(
                "Share of service promises met (delivery dates, ticket response times) with "
                "94% intervals; groups under the privacy floor show no estimate.")),
            self.gaps_plot, self.gaps_html,
        ]

    # -- filters ----------------------------------------------------------------------
    def _on_segment_var(self, _=None) -> None:
        var = self.segment_var.value
        values = ([] if var == ALL else
                  sorted(self.tables["customers"][var].dropna().astype(str).unique()))
        with self.segment_value.hold_trait_notifications():
            self.segment_value.options = [ALL, *values]
            self.segment_value.value = ALL
        self.update()

    def filtered_events(self) -> pd.DataFrame:
        """The run's events of the chosen segment (all events when no segment is chosen)."""
        events = self.tables["events"]
        var, value = self.segment_var.value, self.segment_value.value
        if var == ALL or value == ALL:
            return events
        cust = self.tables["customers"]
        ids = cust.loc[cust[var].astype(str) == value, "customer_id"]
        return events[events["customer_id"].isin(ids)]

    # -- views ------------------------------------------------------------------------
    def update(self) -> None:
        from cxkit.journeys import plot_funnel, plot_gap_by_segment, stage_durations, stage_funnel

        events = self.filtered_events()
        self.n_customers = int(events["customer_id"].nunique())
        stages = [s for s in self.stages.options if s in self.stages.value] or None
        if self.n_customers < self.min_n:
            self.funnel_table = pd.DataFrame()
            self.too_few(self.funnel_plot, "funnel", f"{self.n_customers} customers")
            self.funnel_html.value = ""
            self.durations_html.value = ""
        else:
            self.funnel_table = stage_funnel(events, stages=stages)
            self.show(self.funnel_plot, "funnel",
                      lambda ax: plot_funnel(self.funnel_table, ax=ax))
            self.funnel_html.value = table_html(self.funnel_table, {
                "stage": "stage", "customers": "customers in step", "reached": "reached",
                "conversion_from_previous": "from previous step", "fallout": "fall-out",
                "fallout_share": "fall-out share"},
                kinds={"conversion_from_previous": "pct", "fallout_share": "pct"})
            self.durations_table = stage_durations(events, stages=stages)
            self.durations_html.value = table_html(self.durations_table, {
                "from_stage": "from", "to_stage": "to", "customers": "customers",
                "median": "median days", "p25": "25th pct", "p75": "75th pct"},
                min_n=self.min_n, n_col="customers")
        self._update_sankey(events)
        gaps = self.tables["journey_gaps"]
        var = self.segment_var.value
        rows = gaps[gaps["segment_var"] == ("overall" if var == ALL else var)]
        if var != ALL and self.segment_value.value != ALL:
            rows = rows[rows["segment_value"].astype(str) == self.segment_value.value]
        shown = rows[rows["n"] >= self.min_n]
        self.gaps_table = rows
        if len(shown):
            self.show(self.gaps_plot, "gaps", lambda ax: plot_gap_by_segment(shown, ax=ax))
        else:
            self.too_few(self.gaps_plot, "gaps", "every group")
        self.gaps_html.value = table_html(rows, {
            "touchpoint": "touchpoint", "rule": "promise", "segment_value": "segment",
            "n": "cases", "mean_gap": "mean gap", "unit": "unit", "share_met": "kept",
            "share_met_low": "kept, low", "share_met_high": "kept, high"},
            kinds={"share_met": "pct", "share_met_low": "pct", "share_met_high": "pct"},
            min_n=self.min_n, n_col="n")

    def _prepare_other_level(self) -> None:
        shown = self.level.value
        other = "touchpoint" if shown == "stage" else "stage"
        with self.level.hold_trait_notifications():
            self.level.value = other
        self._update_sankey()
        with self.level.hold_trait_notifications():
            self.level.value = shown
        self._update_sankey()

    def _update_sankey(self, events: pd.DataFrame | None = None) -> None:
        from cxkit.journeys import plot_sankey, sankey_links

        events = self.filtered_events() if events is None else events
        if events["customer_id"].nunique() < self.min_n:
            self.too_few(self.sankey_plot, "sankey", "customers in this segment")
            return
        key = (self.segment_var.value, self.segment_value.value, self.level.value,
               self.steps.value)
        if key not in self._sankey_png:
            self.links = sankey_links(events, level=self.level.value,
                                      max_steps=self.steps.value)
            self.show(self.sankey_plot, "sankey",
                      lambda ax: plot_sankey(self.links, ax=ax, top=6), size=(9, 4.2))
            self._sankey_png[key] = (self.links, self.sankey_plot.value)
        else:  # drawn before on this page: the same picture, at once
            self.links, self.sankey_plot.value = self._sankey_png[key]
