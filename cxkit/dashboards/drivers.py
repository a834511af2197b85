"""Drivers dashboard: what moves the score, in plain words with units, two segments side by
side, and importance against performance.

Plots are :mod:`cxkit.drivers.plots` (``plot_driver_effects``,
``plot_importance_performance``, ``plot_nps_by_segment``); sentences are
:func:`cxkit.summary.effect_sentence`.
"""

from __future__ import annotations

import html

from cxkit.dashboards.page import Page, note, table_html


class DriversApp(Page):
    """The drivers page over one run (``tables/driver_importance``, optionally
    ``importance_performance`` and ``nps_by_segment``).

    Examples
    --------
    >>> app = DriversApp("reports/latest")  # doctest: +SKIP
    >>> app.left.value = "North"  # doctest: +SKIP
    """

    title = "What drives the score"
    key = "drivers"
    required = {"driver_importance": ("segment", "driver", "effect_mean", "effect_low",
                                      "effect_high", "importance_mean", "p_top3", "rank")}
    optional = {"importance_performance": ("segment", "driver", "importance_mean",
                                           "performance_norm"),
                "nps_by_segment": ("segment", "n", "nps_mean", "nps_low", "nps_high"),
                "journey_gaps": ("touchpoint", "unit")}

    def build(self) -> list:
        from cxkit.summary import gap_unit, outcome_words

        w = self._w
        table = self.tables["driver_importance"]
        params = (self.manifest.parameters or {}).get("drivers") or {}
        self.outcome = params.get("outcome", "score")
        self.family = params.get("family", "gaussian")
        self.gap_unit = gap_unit(self.tables.get("journey_gaps"))
        what, unit = outcome_words(self.outcome, self.family)
        segments = list(dict.fromkeys(table.sort_values("segment")["segment"].astype(str)))
        if "All" in segments:
            segments.remove("All")
            segments.insert(0, "All")
        self.left = w.Dropdown(options=segments, value=segments[0], description="Segment")
        self.right = w.Dropdown(options=segments, value=segments[min(1, len(segments) - 1)],
                                description="Compare")
        self.value = w.ToggleButtons(options=[("effect per unit", "effect"),
                                              ("importance", "importance")],
                                     value="effect", description="Show")
        self.left_plot, self.right_plot = self.image("520px"), self.image("520px")
        self.left_words, self.right_words = w.HTML(), w.HTML()
        self.ip_plot, self.ip_html = self.image(), w.HTML()
        for widget in (self.left, self.right, self.value):
            widget.observe(lambda _: self.update(), names="value")
        self.update()
        intro = note(
            f"The model explains the {what}. An effect is the change in {unit} for one more "
            f"unit of the driver (a rating point, a day late), other drivers held equal; "
            f"bars are 94% intervals. Importance is the effect times the driver's usual "
            f"spread, so drivers measured in different units can be compared. "
            f"NPS (-100 to 100) is a different scale: the share of promoters minus the "
            f"share of detractors.")
        parts = [w.HTML(intro), w.HBox([self.left, self.right, self.value]),
                 w.HBox([w.VBox([self.left_plot, self.left_words]),
                         w.VBox([self.right_plot, self.right_words])])]
        if "importance_performance" in self.tables:
            parts += [w.HTML("<h3>Importance vs performance</h3>" + note(
                "Up = matters more, right = performs better (0-1, 1 = best). Top left: "
                "important and weak, concentrate here."))
                      , self.ip_plot, self.ip_html]
        if "nps_by_segment" in self.tables:
            parts.append(w.HTML("<h3>NPS by segment (-100 to 100)</h3>" + table_html(
                self.tables["nps_by_segment"], {
                    "segment": "segment", "n": "responses", "nps_mean": "NPS",
                    "nps_low": "NPS, low (94%)", "nps_high": "NPS, high (94%)"},
                min_n=self.min_n, n_col="n")))
        return parts

    def segment_rows(self, segment: str):
        t = self.tables["driver_importance"]
        return t[t["segment"].astype(str) == segment].sort_values("rank")

    def _side(self, segment: str, image, words, key: str) -> None:
        from cxkit.drivers.plots import plot_driver_effects
        from cxkit.summary import effect_sentence

        rows = self.segment_rows(segment)
        n = int(rows["n"].max()) if "n" in rows and len(rows) else None
        if n is not None and n < self.min_n:
            self.too_few(image, key, f"{n} responses in {segment}")
            words.value = f"<p class='cx-too-few'>{segment}: too few responses ({n}).</p>"
            return
        self.show(image, key, lambda ax: plot_driver_effects(
            self.tables["driver_importance"], segment=segment, value=self.value.value, ax=ax),
            size=(5.6, 3.4))
        sentences = [effect_sentence(r, outcome=self.outcome, family=self.family,
                                     gap_unit=self.gap_unit)
                     for _, r in rows.head(5).iterrows()]
        words.value = (f"<b>{html.escape(segment)}</b>"
                       + (f" ({n:,} responses)" if n is not None else "") + ", top drivers:"
                       "<ol>" + "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
                       + "</ol>")

    def update(self) -> None:
        self._side(self.left.value, self.left_plot, self.left_words, "left")
        self._side(self.right.value, self.right_plot, self.right_words, "right")
        ip = self.tables.get("importance_performance")
        if ip is not None:
            from cxkit.drivers.plots import plot_importance_performance

            seg = self.left.value
            rows = ip[ip["segment"].astype(str) == seg]
            n_col = "performance_n" if "performance_n" in rows else None
            if n_col and len(rows) and rows[n_col].max() < self.min_n:
                self.too_few(self.ip_plot, "ip", f"responses in {seg}")
                self.ip_html.value = ""
                return
            self.show(self.ip_plot, "ip",
                      lambda ax: plot_importance_performance(ip, segment=seg, ax=ax),
                      size=(7.5, 4.2))
            cols = {"driver": "driver", "importance_mean": "importance",
                    "performance_norm": "performance (0-1)"}
            if "quadrant" in rows:
                cols["quadrant"] = "advice"
            self.ip_html.value = table_html(rows, cols)
