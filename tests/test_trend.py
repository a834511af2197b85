"""Trend between runs: metrics read from a run folder, posterior probability of a fall,
trend.parquet accumulating across runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxkit import trend
from cxkit.publish import save_table


def nps_table(counts: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    rows = []
    for seg, (p, m, d) in counts.items():
        n = p + m + d
        nps = 100 * (p - d) / n
        rows.append({"segment": seg, "n": n, "promoters": p, "passives": m, "detractors": d,
                     "nps_observed": nps, "nps_mean": nps, "nps_low": nps - 10,
                     "nps_high": nps + 10})
    return pd.DataFrame(rows)


def write_run(folder, *, nps=None, csat=None, importance=None, gaps=None):
    folder.mkdir(parents=True, exist_ok=True)
    if nps is not None:
        save_table(nps_table(nps), folder, "nps_by_segment")
    if csat is not None:
        (folder / "ingest").mkdir(exist_ok=True)
        csat.to_parquet(folder / "ingest" / "responses.parquet", index=False)
    if importance is not None:
        save_table(importance, folder, "driver_importance")
    if gaps is not None:
        save_table(gaps, folder, "journey_gaps")
    return folder


def gaps_table(share_north: float, n: int = 400) -> pd.DataFrame:
    return pd.DataFrame({
        "touchpoint": "delivery", "rule": "on_time",
        "segment_var": ["region", "region", "overall"],
        "segment_value": ["North", "South", "all"], "n": [n, n, 2 * n],
        "mean_gap": [1.0, 0.2, 0.6], "share_met": [share_north, 0.9, (share_north + 0.9) / 2],
        "share_met_low": 0.0, "share_met_high": 1.0, "unit": "days"})


CSAT = {"score": "csat", "kind": "top_box", "scale_max": 5, "top": 2}


def test_metrics_reads_every_table_with_intervals(tmp_path):
    # N: 30 of 40 answered 4-5; S: 5 of 20 (under the privacy floor of 30); 3 blank
    resp = pd.DataFrame({"csat": [5] * 20 + [4] * 10 + [2] * 10 + [4] * 5 + [1] * 15
                         + [None] * 3, "region": ["N"] * 40 + ["S"] * 20 + ["S"] * 3})
    imp = pd.DataFrame({"segment": "All", "driver": ["speed", "price"],
                        "importance_mean": [2.0, 1.0], "importance_low": [1.0, 0.5],
                        "importance_high": [3.0, 1.5], "n": 400})
    run = write_run(tmp_path / "r", nps={"All": (50, 30, 20)}, csat=resp, importance=imp,
                    gaps=gaps_table(0.8))
    m = trend.metrics(run, segments=["region"], scores=[CSAT]).set_index(["metric", "segment"])
    assert m.loc[("nps", "All"), "value"] == pytest.approx(30.0)
    assert m.loc[("nps", "All"), ["value_low", "value_high"]].tolist() == [20.0, 40.0]
    # CSAT: 35 of 60 answered 4-5 -> Beta(36, 26); N: 30 of 40; S has no estimate (floor)
    assert m.loc[("share:csat", "All"), "value"] == pytest.approx(36 / 62)
    assert m.loc[("share:csat", "All"), "value_low"] == pytest.approx(
        stats.beta.ppf(0.03, 36, 26))
    assert m.loc[("share:csat", "N"), "value"] == pytest.approx(31 / 42)
    assert ("share:csat", "S") not in m.index
    assert m.loc[("importance:speed", "All"), "b"] == pytest.approx(2.0 / (2 * 1.8808))
    assert m.loc[("share_met:delivery/on_time", "region=North"), "value"] == pytest.approx(
        321 / 402)
    assert ("share_met:delivery/on_time", "All") in m.index


def test_followed_scores_come_from_the_run_yaml_not_column_names(tmp_path):
    """No column is read because of its name: a csat column is followed only when the YAML
    says so, and any renamed score (here a yes/no flag mapped to 0/1) is followed the same way."""
    resp = pd.DataFrame({"csat": 5, "happy": [1] * 30 + [0] * 10 + [1] * 5 + [0] * 5,
                         "zone": ["a"] * 40 + ["b"] * 10})
    run = write_run(tmp_path / "r", csat=resp)
    assert trend.metrics(run, segments=["zone"]).empty
    m = trend.metrics(run, segments=["zone"], scores=[{"score": "happy", "kind": "share"}])
    assert sorted(m["metric"].unique()) == ["share:happy"]
    m = m.set_index("segment")
    assert m.loc["All", "value"] == pytest.approx(36 / 52)  # Beta(35 + 1, 15 + 1)
    assert m.loc["a", "value"] == pytest.approx(31 / 42)
    assert "b" not in m.index  # 10 responses: under the privacy floor


def test_followed_scores_are_the_headline_then_trend_scores():
    from cxkit.config import RunConfig

    cfg = RunConfig.model_validate({
        "ingest": {"sources": "s.yaml"},
        "drivers": {"outcome": "sat", "drivers": ["x"], "summary": {"kind": "share"}},
        "trend": {"scores": [{"score": "ltr", "kind": "nps"}, {"score": "csat"}]}})
    scores = trend.followed_scores(cfg)
    assert [(s["score"], s["kind"]) for s in scores] == [
        ("sat", "share"), ("ltr", "nps"), ("csat", "top_box")]
    assert [trend.score_metric(s) for s in scores] == ["share:sat", "nps:ltr", "share:csat"]


def test_p_drop_matches_the_analytic_probability(tmp_path):
    before = trend.metrics(write_run(tmp_path / "a", gaps=gaps_table(0.80)))
    after = trend.metrics(write_run(tmp_path / "b", gaps=gaps_table(0.75)))
    out = trend.compare(after, before, draws=20000).set_index("segment")
    # two Beta posteriors of ~400 trials: normal approximation of P(after < before)
    a1, b1 = 321, 81  # 320 of 400 met
    a2, b2 = 301, 101  # 300 of 400 met
    mean = a2 / (a2 + b2) - a1 / (a1 + b1)
    var = (a1 * b1 / ((a1 + b1) ** 2 * (a1 + b1 + 1))
           + a2 * b2 / ((a2 + b2) ** 2 * (a2 + b2 + 1)))
    expect = stats.norm.cdf(0, loc=mean, scale=np.sqrt(var))
    assert out.loc["region=North", "p_drop"] == pytest.approx(expect, abs=0.015)
    assert out.loc["region=South", "p_drop"] == pytest.approx(0.5, abs=0.03)  # unchanged
    assert out.loc["region=North", "delta"] == pytest.approx(301 / 402 - 321 / 402)


def test_nps_drop_is_near_certain_and_an_unchanged_nps_is_a_coin_flip(tmp_path):
    # X: 100 responses, above the privacy floor (a group under it is saved without estimates)
    x = (50, 30, 20)
    before = trend.metrics(write_run(tmp_path / "a", nps={"All": (500, 300, 200), "X": x}))
    after = trend.metrics(write_run(tmp_path / "b", nps={"All": (300, 300, 400), "X": x}))
    out = trend.compare(after, before).set_index("segment")
    assert out.loc["All", "p_drop"] > 0.999
    assert 0.4 < out.loc["X", "p_drop"] < 0.6
    assert out.loc["All", "delta"] == pytest.approx(-40.0)


def test_trend_table_accumulates_across_runs(tmp_path):
    r1 = write_run(tmp_path / "r1", nps={"All": (50, 30, 20)})
    r2 = write_run(tmp_path / "r2", nps={"All": (30, 30, 40)})
    r3 = write_run(tmp_path / "r3", nps={"All": (31, 30, 39)})
    first = trend.update_trend(r1, None, run_id="r1", run_name="cx", finished_at="t1")
    assert first["previous_run_id"].isna().all() and first["p_drop"].isna().all()
    trend.update_trend(r2, r1, run_id="r2", run_name="cx", finished_at="t2")
    rows = trend.update_trend(r3, r2, run_id="r3", run_name="cx", finished_at="t3")
    table = pd.read_parquet(r3 / "tables" / "trend.parquet")
    assert list(table.columns) == trend.TREND_COLUMNS
    assert table["run_id"].tolist() == ["r1", "r2", "r3"]
    assert table.set_index("run_id").loc["r2", "previous_value"] == pytest.approx(30.0)
    assert table.set_index("run_id").loc["r2", "p_drop"] > 0.99
    assert rows["previous_run_id"].tolist() == ["r2"]


def test_describe_changes_in_plain_words(tmp_path):
    before = trend.metrics(write_run(tmp_path / "a", nps={"All": (500, 300, 200)},
                                     gaps=gaps_table(0.5)))
    after = trend.metrics(write_run(tmp_path / "b", nps={"All": (300, 300, 400)},
                                    gaps=gaps_table(0.9)))
    rows = trend.compare(after, before).assign(previous_run_id="a")
    lines = trend.describe_changes(rows)
    assert "NPS (All) fell from 30.0 to -10.0 (-40.0; probability of a real fall 100%)" in lines
    assert ("Promises kept, delivery on time (%) (region=North) rose from 50.0 to 89.8 "
            "(+39.8 points; probability of a real rise 100%)") in lines
    assert not any("region=South" in line for line in lines)  # unchanged
    html = trend.write_changes(rows, lines, tmp_path / "trend.html").read_text()
    assert "Compared with run a" in html and "NPS (All) fell" in html


def test_a_run_published_before_the_interval_rename_is_still_read(tmp_path):
    new = write_run(tmp_path / "new", nps={"North": (50, 30, 20)})
    old = tmp_path / "old" / "tables"
    old.mkdir(parents=True)
    legacy = nps_table({"North": (50, 30, 20)}).rename(
        columns={"nps_low": "nps_hdi_low", "nps_high": "nps_hdi_high"})
    legacy.to_parquet(old / "nps_by_segment.parquet", index=False)
    pd.testing.assert_frame_equal(trend.metrics(tmp_path / "old"), trend.metrics(new))
