"""Periodic measurement: what changed since the previous successful run of the same name.

Each run's headline metrics are compared with the previous run's, with the posterior
probability that the metric went down (``p_drop``):

- ``nps``: NPS per segment from ``tables/nps_by_segment`` (the counts of promoters,
  passives and detractors give the exact Dirichlet posterior the table was made with);
- ``share:<column>``: share satisfied (top box of a 1-``scale_max`` score, or the 1s of a
  yes/no score) per segment from ``ingest/responses.parquet``, for the run's headline
  (``drivers.summary``) and each ``trend.scores`` entry of the run YAML (Beta posterior,
  as :func:`cxkit.features.score_by_segment`); an NPS score gives ``nps`` (Dirichlet);
- ``importance:<driver>``: driver importance per segment from ``tables/driver_importance``
  (normal approximation from its 94% HDI: the draws are not saved in the table);
- ``share_met:<touchpoint>/<rule>``: share of promises kept per segment from
  ``tables/journey_gaps`` (Beta posterior from ``n`` and ``share_met``).

Runs are treated as independent samples, so ``p_drop`` = P(metric now < metric before),
from 4,000 draws of each posterior. ``tables/trend.parquet`` accumulates: each run copies
the previous run's rows and adds its own (schema in docs/ARCHITECTURE.md /
CONTRACTS: ``run_id, run_name, finished_at, metric, segment, value, value_low, value_high,
previous_run_id, previous_value, delta, p_drop``; intervals are 94%).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from cxkit._checks import MISSING_SEGMENT
from cxkit.publish import save_table
from cxkit.rundir import Run
from cxkit.stats import HDI_PROB, beta_equal_tailed

if TYPE_CHECKING:
    from cxkit.config import RunConfig

__all__ = ["TREND_COLUMNS", "followed_scores", "score_metric", "metrics", "compare",
           "update_trend", "describe_changes"]

TREND_COLUMNS = ["run_id", "run_name", "finished_at", "metric", "segment", "value",
                 "value_low", "value_high", "previous_run_id", "previous_value", "delta",
                 "p_drop"]
#: Interval probability of value_low / value_high.
PROB = 0.94
_Z94 = 1.8808  # standard normal quantile of 0.97
DRAWS = 4000
_METRIC_COLUMNS = ["metric", "segment", "value", "value_low", "value_high", "kind", "a", "b",
                   "c"]


def _read(run: Run, name: str) -> pd.DataFrame | None:
    """A run's table with today's column names, without the rows under the privacy floor
    (:meth:`cxkit.rundir.Run.table`); None when the run has none."""
    return run.table_or_none(name, drop_floored=True)


def _interval(t: pd.DataFrame, stat: str) -> tuple[pd.Series, pd.Series]:
    low, high = f"{stat}_low", f"{stat}_high"
    if low in t and high in t:
        return t[low], t[high]
    raise KeyError(f"no interval columns for {stat!r} ({stat}_low/_high) in {list(t.columns)}")


def _beta_rows(metric: str, segment: pd.Series, k: pd.Series, n: pd.Series) -> pd.DataFrame:
    k, n = k.astype(float).to_numpy(), n.astype(float).to_numpy()
    a, b = k + 1, n - k + 1
    low, high = beta_equal_tailed(a, b, HDI_PROB)
    return pd.DataFrame({"metric": metric, "segment": segment.astype(str).to_numpy(),
                         "value": a / (a + b), "value_low": low,
                         "value_high": high, "kind": "beta", "a": a,
                         "b": b, "c": np.nan})


def _segment_labels(data: pd.DataFrame, segments: Sequence[str]) -> pd.Series:
    return data[list(segments)].astype("string").fillna(MISSING_SEGMENT).agg("|".join, axis=1)


def followed_scores(cfg: RunConfig) -> list[dict[str, Any]]:
    """The scores a run follows: its headline (``drivers.summary``, the driver model's
    outcome unless ``summary.score`` names another column), then ``trend.scores``."""
    out = []
    summary = cfg.drivers.summary
    if summary.kind != "none":
        out.append({"score": summary.score or cfg.drivers.outcome, "kind": summary.kind,
                    "scale_max": summary.scale_max, "top": summary.top})
    out += [sc.model_dump() for sc in cfg.trend.scores]
    return out


def score_metric(score: Mapping[str, Any]) -> str:
    """The trend's metric name of a followed score: ``nps`` or ``nps:<column>`` for NPS,
    ``share:<column>`` for a top-box share or a yes/no share."""
    if score["kind"] == "nps":
        return "nps" if score["score"] == "nps" else f"nps:{score['score']}"
    return f"share:{score['score']}"


def _score_rows(resp: pd.DataFrame, score: Mapping[str, Any], segments: Sequence[str],
                *, nps_named: bool, min_n: int) -> pd.DataFrame:
    """Posterior rows of one followed score, computed as notebook 20 computes its headline
    (:func:`cxkit.features.score_by_segment`); segments under the privacy floor
    (``min_n`` responses) are left out, as from the saved tables."""
    from cxkit.features import score_by_segment

    segment = [s for s in segments if s in resp] or None
    kw = {k: score[k] for k in ("scale_max", "top") if k in score}
    table = score_by_segment(resp, kind=score["kind"], score=score["score"], segment=segment,
                             **kw)
    table = table[table["n"] >= min_n]
    if score["kind"] == "nps":
        low, high = _interval(table, "nps")
        return pd.DataFrame({
            "metric": "nps" if nps_named else score_metric(score),
            "segment": table["segment"].astype(str), "value": table["nps_mean"],
            "value_low": low, "value_high": high, "kind": "dirichlet",
            "a": table["promoters"], "b": table["passives"], "c": table["detractors"]})
    return _beta_rows(score_metric(score), table["segment"], table["satisfied"], table["n"])


def metrics(run_dir: str | Path, *, segments: Sequence[str] = (),
            scores: Sequence[Mapping[str, Any]] = ()) -> pd.DataFrame:
    """The comparable metrics of one run folder, one row per metric and segment.

    Parameters
    ----------
    run_dir : str or Path
        A run folder (``reports/<run_id>`` or the run's temporary folder).
    segments : sequence of str
        Segment columns of the responses table for the followed scores (as in the driver
        model; ``"All"`` is always added).
    scores : sequence of mappings
        Responses scores to follow (``score`` column, ``kind`` "nps" / "top_box" / "share",
        ``scale_max``, ``top``): the run's headline (``drivers.summary``) and
        ``trend.scores`` (:func:`followed_scores`). An NPS headline already saved in
        ``tables/nps_by_segment`` is read from there.

    Returns
    -------
    DataFrame
        ``metric, segment, value, value_low, value_high`` plus how to draw the posterior
        (``kind`` "dirichlet" / "beta" / "normal" and its parameters ``a, b, c``). Tables the
        run did not write are skipped.

    Examples
    --------
    >>> metrics("reports/latest", segments=["region"],
    ...         scores=[{"score": "csat", "kind": "top_box"}])  # doctest: +SKIP
    """
    run = Run(run_dir)
    parts = []
    nps = _read(run, "nps_by_segment")
    if nps is not None and len(nps):
        low, high = _interval(nps, "nps")
        parts.append(pd.DataFrame({
            "metric": "nps", "segment": nps["segment"].astype(str), "value": nps["nps_mean"],
            "value_low": low, "value_high": high, "kind": "dirichlet",
            "a": nps["promoters"], "b": nps["passives"], "c": nps["detractors"]}))
    # The first NPS score is the headline: read from its saved table when there is one,
    # else computed below and still named "nps".
    scores = list(scores)
    headline = next((i for i, sc in enumerate(scores) if sc["kind"] == "nps"), None)
    if parts and headline is not None:
        scores.pop(headline)
        headline = None
    resp = run.ingest_or_none("responses") if scores else None
    if resp is not None:
        parts += [_score_rows(resp, sc, segments, nps_named=(i == headline), min_n=run.min_n)
                  for i, sc in enumerate(scores) if sc["score"] in resp]
    imp = _read(run, "driver_importance")
    if imp is not None and len(imp):
        low, high = _interval(imp, "importance")
        parts.append(pd.DataFrame({
            "metric": "importance:" + imp["driver"].astype(str),
            "segment": imp["segment"].astype(str), "value": imp["importance_mean"],
            "value_low": low, "value_high": high, "kind": "normal",
            "a": imp["importance_mean"], "b": (high - low) / (2 * _Z94), "c": np.nan}))
    gaps = _read(run, "journey_gaps")
    if gaps is not None and len(gaps):
        g = gaps[gaps["n"] > 0]
        seg = np.where(g["segment_var"] == "overall", "All",
                       g["segment_var"].astype(str) + "=" + g["segment_value"].astype(str))
        for (tp, rule), idx in g.groupby(["touchpoint", "rule"]).groups.items():
            sub = g.loc[idx]
            k = (sub["share_met"] * sub["n"]).round()
            parts.append(_beta_rows(f"share_met:{tp}/{rule}", pd.Series(seg[g.index.get_indexer(idx)]),
                                    k, sub["n"]))
    if not parts:
        return pd.DataFrame(columns=_METRIC_COLUMNS)
    return pd.concat(parts, ignore_index=True)[_METRIC_COLUMNS]


def _draw(kind: str, a: float, b: float, c: float, rng: np.random.Generator,
          n: int) -> np.ndarray:
    if kind == "dirichlet":
        share = rng.dirichlet(np.array([a, b, c], dtype=float) + 1.0, size=n)
        return 100 * (share[:, 0] - share[:, 2])
    if kind == "beta":
        return rng.beta(a, b, size=n)
    return rng.normal(a, max(float(b), 1e-12), size=n)


def compare(current: pd.DataFrame, previous: pd.DataFrame | None, *, seed: int = 0,
            draws: int = DRAWS) -> pd.DataFrame:
    """Join two runs' :func:`metrics` and add ``previous_value, delta, p_drop``.

    ``p_drop`` = P(now < before) from independent posterior draws of both runs (NaN where
    the previous run lacks the metric/segment). Seeded: the same runs give the same table.

    Examples
    --------
    >>> compare(metrics(new_dir), metrics(old_dir))[["metric", "segment", "p_drop"]]  # doctest: +SKIP
    """
    keys = ["metric", "segment"]
    if previous is None or previous.empty:
        return current.assign(previous_value=np.nan, delta=np.nan, p_drop=np.nan)
    prev = previous.drop_duplicates(keys)[keys + ["value", "kind", "a", "b", "c"]]
    out = current.merge(prev, on=keys, how="left", suffixes=("", "_prev"))
    rng = np.random.default_rng(seed)
    p_drop = np.full(len(out), np.nan)
    for i, row in enumerate(out.itertuples(index=False)):
        if pd.isna(row.value_prev):
            continue
        now = _draw(row.kind, row.a, row.b, row.c, rng, draws)
        before = _draw(row.kind_prev, row.a_prev, row.b_prev, row.c_prev, rng, draws)
        p_drop[i] = float((now < before).mean())
    out = out.rename(columns={"value_prev": "previous_value"})
    out["delta"] = out["value"] - out["previous_value"]
    out["p_drop"] = p_drop
    return out.drop(columns=["kind_prev", "a_prev", "b_prev", "c_prev"])


def update_trend(run_dir: str | Path, previous_dir: str | Path | None, *, run_id: str,
                 run_name: str, finished_at: str, segments: Sequence[str] = (),
                 scores: Sequence[Mapping[str, Any]] = ()) -> pd.DataFrame:
    """Compare ``run_dir`` with ``previous_dir`` and write the accumulated
    ``tables/trend.parquet`` (the previous run's rows + this run's). Returns this run's rows.

    Examples
    --------
    >>> update_trend(tmp, Path("reports/20261101T000000Z"), run_id="x", run_name="cx",
    ...              finished_at="2026-11-26T03:00:00+00:00")  # doctest: +SKIP
    """
    previous = metrics(previous_dir, segments=segments, scores=scores) if previous_dir else None
    rows = compare(metrics(run_dir, segments=segments, scores=scores), previous)
    rows = rows.assign(run_id=run_id, run_name=run_name, finished_at=finished_at,
                       previous_run_id=Path(previous_dir).name if previous_dir else None)
    rows = rows[TREND_COLUMNS]
    history = _read(Run(previous_dir), "trend") if previous_dir else None
    table = rows if history is None or history.empty else pd.concat(
        [history[history["run_id"] != run_id][TREND_COLUMNS], rows], ignore_index=True)
    table.attrs["interval"] = f"value_low/value_high: {PROB:.0%} posterior intervals"
    save_table(table, run_dir, "trend")
    return rows


def describe_changes(rows: pd.DataFrame, *, p: float = 0.9, limit: int = 10) -> list[str]:
    """Plain-words lines for the metrics that changed with probability above ``p``.

    Examples
    --------
    >>> describe_changes(rows)  # doctest: +SKIP
    ['NPS (All) fell from 32.0 to 25.1 (-6.9; probability of a real fall 97%)']
    """
    if rows.empty or rows["p_drop"].isna().all():
        return []
    r = rows.dropna(subset=["p_drop"])
    moved = r[(r["p_drop"] > p) | (r["p_drop"] < 1 - p)].copy()
    moved["certainty"] = np.maximum(moved["p_drop"], 1 - moved["p_drop"])
    moved = moved.sort_values("certainty", ascending=False, kind="stable").head(limit)
    lines = []
    for row in moved.itertuples(index=False):
        pct = row.metric.startswith(("share:", "share_met:"))
        scale, unit = (100, " points") if pct else (1, "")
        name = _label(row.metric)
        fell = row.p_drop > 0.5
        lines.append(f"{name} ({row.segment}) {'fell' if fell else 'rose'} from "
                     f"{row.previous_value * scale:.1f} to {row.value * scale:.1f} "
                     f"({row.delta * scale:+.1f}{unit}; probability of a real "
                     f"{'fall' if fell else 'rise'} {row.certainty:.0%})")
    return lines


def _label(metric: str) -> str:
    if metric.startswith("share_met:"):
        tp, _, rule = metric.removeprefix("share_met:").partition("/")
        return f"Promises kept, {tp} {rule.replace('_', ' ')} (%)"
    if metric.startswith("importance:"):
        return f"Importance of {metric.removeprefix('importance:')}"
    if metric.startswith("share:"):
        return f"Share satisfied, {metric.removeprefix('share:')} (%)"
    if metric.startswith("nps:"):
        return f"NPS of {metric.removeprefix('nps:')}"
    return {"nps": "NPS"}.get(metric, metric)


def write_changes(rows: pd.DataFrame, lines: list[str], out: str | Path) -> Path:
    """A small HTML page, ``trend.html`` in the run folder: what changed in words, then the
    table of this run's metrics against the previous run's."""
    import html

    previous = rows["previous_run_id"].dropna()
    head = (f"Compared with run {html.escape(str(previous.iloc[0]))}" if len(previous)
            else "First run of this name: nothing to compare with yet")
    items = "".join(f"<li>{html.escape(x)}</li>" for x in lines) or (
        "<li>No metric changed with probability above 90%.</li>" if len(previous) else "")
    table = rows[["metric", "segment", "previous_value", "value", "delta", "p_drop"]].rename(
        columns={"previous_value": "before", "value": "now",
                 "p_drop": "probability it fell"})
    out = Path(out)
    out.write_text(f"<html><head><meta charset='utf-8'><title>What changed</title></head>"
                   f"<body><h1>What changed</h1><p>{head}.</p><ul>{items}</ul>"
                   f"{table.to_html(index=False, float_format=lambda v: f'{v:.3g}', na_rep='-')}"
                   f"</body></html>", encoding="utf-8")
    return out
