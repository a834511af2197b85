"""Voice dashboard: what customers write about, by segment, across runs, in their own words.

Tables come from :func:`cxkit.voice.voice_view` (topics, prevalence by segment with 94%
intervals, example comments, trend against the previous run); the figure is
:func:`cxkit.voice.plot_topic_prevalence`. Segments and topics below the privacy floor go
through :func:`cxkit.privacy.apply_min_n`: their shares and example comments are not shown.
"""

from __future__ import annotations

import html

import pandas as pd

from cxkit.dashboards.page import ALL, Page, note, table_html
from cxkit.privacy import apply_min_n

TOO_FEW = "too few responses"


class VoiceApp(Page):
    """The voice page over one run (``tables/topics``, ``topic_prevalence``,
    ``topic_examples``, written by notebook ``15_voice``).

    Examples
    --------
    >>> app = VoiceApp("reports/latest")  # doctest: +SKIP
    >>> app.segment_var.value = "region"  # doctest: +SKIP
    """

    title = "What customers write about"
    key = "voice"
    required = {"topics": ("topic", "label", "keywords"),
                "topic_prevalence": ("topic", "label", "segment_var", "segment_value", "n",
                                     "mentions", "share_mean", "share_low", "share_high"),
                "topic_examples": ("topic", "label", "rank", "verbatim", "note")}

    def build(self) -> list:
        from cxkit.voice import voice_view

        w = self._w
        self.view = voice_view(self.run_dir)
        self.prevalence = self.floored(self.view["by_segment"])
        seg_vars = list(dict.fromkeys(self.prevalence["segment_var"].astype(str)))
        options = [(ALL, "all")] + [(v, v) for v in seg_vars if v != "all"]
        self.segment_var = w.Dropdown(options=options, value="all", description="Segment by")
        self.plot = self.image("820px")
        self.segment_html = w.HTML()
        self.segment_var.observe(lambda _: self.update(), names="value")
        self.update()
        topics = self.view["topics"]
        parts = [w.HTML(note(
            "Each topic is a set of words that tend to appear together in the comments, "
            "named by its top words. A share is the % of respondents who left a comment "
            "and mention the topic; bars and ranges are 94% intervals.")
            + "<h3>Topics and their keywords</h3>"
            + table_html(topics, {"topic": "topic", "label": "name", "keywords": "keywords"})),
            w.HTML("<h3>How often each topic comes up, by segment</h3>"),
            self.segment_var, self.plot, self.segment_html,
            w.HTML("<h3>Change since the previous run</h3>" + self.trend_html()),
            w.HTML("<h3>What customers wrote</h3>" + self.examples_html())]
        return parts

    # -- the privacy floor ----------------------------------------------------------------
    def floored(self, prevalence: pd.DataFrame) -> pd.DataFrame:
        """The prevalence table with shares of groups under this page's floor hidden (NaN,
        ``note`` "too few responses"), on top of the floor the run itself applied."""
        out = apply_min_n(prevalence, "n", self.min_n,
                          estimates=["mentions", "share_mean", "share_low", "share_high"])
        small = out["share_mean"].isna()
        out.loc[small, "note"] = TOO_FEW
        return out

    def hidden_topics(self) -> set[int]:
        """Topics mentioned by fewer than the floor overall: no example comments shown."""
        p = self.prevalence
        overall = p[p["segment_var"] == "all"]
        mentions = pd.to_numeric(overall["mentions"], errors="coerce")
        return set(overall.loc[mentions.isna() | (mentions < self.min_n), "topic"].astype(int))

    # -- parts ------------------------------------------------------------------------------
    def update(self) -> None:
        from cxkit.voice import plot_topic_prevalence

        var = self.segment_var.value
        rows = self.prevalence[self.prevalence["segment_var"] == var]
        shown = rows[rows["share_mean"].notna()]
        n_topics = max(rows["topic"].nunique(), 1)
        if shown.empty:
            self.too_few(self.plot, "prevalence", f"every {var} group")
        else:
            groups = 1 if var == "all" else shown["segment_value"].nunique()
            self.show(self.plot, "prevalence",
                      lambda ax: plot_topic_prevalence(rows, segment_var=var, ax=ax),
                      size=(8.2, 1.4 + 0.45 * n_topics * groups ** 0.5))
        table = rows.assign(share=lambda t: t["share_mean"], low=lambda t: t["share_low"],
                            high=lambda t: t["share_high"])
        self.segment_html.value = table_html(
            table, {"label": "topic", "segment_value": "group", "n": "commenting respondents",
                    "share": "share", "low": "share, low (94%)", "high": "share, high (94%)"},
            kinds={"share": "pct", "low": "pct", "high": "pct", "n": "int"},
            min_n=self.min_n, n_col="n")

    def trend_html(self) -> str:
        t = self.view["trend"]
        if t.empty:
            return note("No earlier run with topics in this reports folder: the trend "
                        "appears from the second run on.")
        prev = html.escape(str(t["previous_run"].iloc[0]))
        t = t.assign(matched=t["previous_topic"].notna(),
                     before=t["previous_share_mean"], now=t["share_mean"],
                     change=t["delta"] * 100)
        return (note(f"Compared with run {prev}. Topics are refitted each run; a topic is "
                     f"matched to the earlier topic sharing most keywords ('-' = new topic). "
                     f"Change is in percentage points.")
                + table_html(t, {"label": "topic", "before": "share before", "now": "share now",
                                 "change": "change (points)", "overlap": "keywords shared"},
                             kinds={"before": "pct", "now": "pct", "overlap": "pct"}))

    def examples_html(self) -> str:
        ex = self.view["examples"].copy()
        hidden = self.hidden_topics()
        ex.loc[ex["topic"].astype(int).isin(hidden), ["verbatim", "note"]] = ["", TOO_FEW]
        out = []
        for (k, label), g in ex.sort_values(["topic", "rank"]).groupby(["topic", "label"],
                                                                       sort=False):
            if (g["note"] == TOO_FEW).any():
                items = f"<li class='cx-too-few'>{TOO_FEW} to quote comments</li>"
            else:
                items = "".join(f"<li>&ldquo;{html.escape(str(v))}&rdquo;</li>"
                                for v in g["verbatim"].head(3))
            out.append(f"<b>{int(k)}: {html.escape(str(label))}</b><ul>{items}</ul>")
        return note("Up to three comments per topic, those weighing most on it.") + "".join(out)
