"""What a dashboard shows about verbatims, read from saved run tables (no widgets, no fitting).

``voice_view(run_dir)`` returns plain DataFrames: the topics, their prevalence by segment,
example comments and, when an earlier run also has a topic table, the trend of each topic
across the two runs. Topics are refitted each run, so topic numbers do not carry over: a
topic is matched to the earlier run's topic that shares most keywords (Jaccard overlap of
the keyword sets, at least ``min_overlap``); unmatched topics are new, and say so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cxkit.publish import read_table
from cxkit.rundir import Run

TABLES = ("topics", "topic_prevalence", "topic_examples")


def _keywords(s: str) -> set[str]:
    return {w.strip() for w in str(s).split(",") if w.strip()}


def match_topics(topics: pd.DataFrame, previous: pd.DataFrame, *,
                 min_overlap: float = 0.3) -> pd.DataFrame:
    """For each topic, the earlier run's topic with the most shared keywords.

    Returns
    -------
    DataFrame ``topic, previous_topic, overlap`` (``previous_topic`` NaN when no earlier
    topic shares at least ``min_overlap`` of the keywords).

    Examples
    --------
    >>> now = pd.DataFrame({"topic": [1], "keywords": ["late, delivery, parcel"]})
    >>> before = pd.DataFrame({"topic": [4], "keywords": ["delivery, late, courier"]})
    >>> match_topics(now, before)[["topic", "previous_topic", "overlap"]].values.tolist()
    [[1.0, 4.0, 0.5]]
    """
    rows = []
    for _, t in topics.iterrows():
        kw = _keywords(t["keywords"])
        best, score = np.nan, 0.0
        for _, p in previous.iterrows():
            pk = _keywords(p["keywords"])
            j = len(kw & pk) / len(kw | pk) if kw | pk else 0.0
            if j > score:
                best, score = p["topic"], j
        ok = score >= min_overlap
        rows.append({"topic": int(t["topic"]), "previous_topic": float(best) if ok else np.nan,
                     "overlap": round(score, 3)})
    return pd.DataFrame(rows)


def previous_run(run_dir: str | Path) -> Path | None:
    """The latest finished run before ``run_dir`` (same reports folder) with a topic table
    (:meth:`cxkit.rundir.Run.previous`)."""
    prev = Run(run_dir).previous()
    while prev is not None and not prev.has_table("topics"):
        prev = prev.previous()
    return prev.path if prev is not None else None


def topic_trend(run_dir: str | Path, previous_dir: str | Path | None) -> pd.DataFrame:
    """Overall share of each topic now and in ``previous_dir`` (matched by keywords)."""
    cols = ["topic", "label", "share_mean", "share_low", "share_high", "previous_run",
            "previous_topic", "previous_share_mean", "delta", "overlap"]
    now = read_table(run_dir, "topic_prevalence")
    now = now[now["segment_var"] == "all"]
    if previous_dir is None:
        return pd.DataFrame(columns=cols)
    m = match_topics(read_table(run_dir, "topics"), read_table(previous_dir, "topics"))
    prev = read_table(previous_dir, "topic_prevalence")
    prev = prev[prev["segment_var"] == "all"][["topic", "share_mean"]].rename(
        columns={"topic": "previous_topic", "share_mean": "previous_share_mean"})
    out = (now.merge(m, on="topic", how="left")
           .merge(prev.astype({"previous_topic": float}), on="previous_topic", how="left"))
    out["previous_run"] = Path(previous_dir).name
    out["delta"] = out["share_mean"] - out["previous_share_mean"]
    return out[cols].reset_index(drop=True)


def voice_view(run_dir: str | Path, *, previous_dir: str | Path | None | str = "auto"
               ) -> dict[str, pd.DataFrame]:
    """Everything the dashboard's voice view shows, as DataFrames.

    Parameters
    ----------
    run_dir : path
        A published run (``reports/<run_id>``) whose ``15_voice`` notebook wrote
        ``tables/topics``, ``topic_prevalence`` and ``topic_examples``.
    previous_dir : path, None or "auto"
        Run to compare with; ``"auto"`` picks :func:`previous_run`, None skips the trend.

    Returns
    -------
    dict with ``topics`` (topic, label, keywords), ``by_segment`` (the prevalence table,
    "too few responses" rows included), ``examples`` (topic, label, rank, verbatim, note)
    and ``trend`` (empty when there is no earlier run).

    Examples
    --------
    >>> view = voice_view("reports/latest")                     # doctest: +SKIP
    >>> view["by_segment"].query("segment_var == 'region'")       # doctest: +SKIP
    """
    prev = previous_run(run_dir) if isinstance(previous_dir, str) and previous_dir == "auto" \
        else previous_dir
    return {
        "topics": read_table(run_dir, "topics"),
        "by_segment": read_table(run_dir, "topic_prevalence"),
        "examples": read_table(run_dir, "topic_examples"),
        "trend": topic_trend(run_dir, prev),
    }
