"""The run-folder accessor (cxkit.rundir): tables, models, ingest outputs, the manifest model
written by the runner and read by everyone, the privacy floor on save, and that no notebook
or dashboard builds a run-folder path by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxkit.config import DASHBOARDS_DIR, NOTEBOOKS_DIR
from cxkit.privacy import TOO_FEW
from cxkit.rundir import Manifest, ManifestError, Run, list_runs


def manifest(run_id: str, started: str, **extra) -> Manifest:
    return Manifest(run_id=run_id, status="succeeded", started_at=started,
                    finished_at=started, **extra)


def test_tables_models_and_ingest_outputs_in_the_layout(tmp_path):
    run = Run(tmp_path / "r1")
    path = run.save_table("scenarios", pd.DataFrame({"scenario": ["a"], "delta": [1.5]}))
    assert path == tmp_path / "r1" / "tables" / "scenarios.parquet"
    assert run.table("scenarios")["delta"].tolist() == [1.5] and run.has_table("scenarios")
    assert run.table_or_none("funnel") is None
    with pytest.raises(FileNotFoundError, match=r"tables in this run: \['scenarios'\]"):
        run.table("funnel")
    assert run.model_dir("drivers") == tmp_path / "r1" / "models" / "drivers"
    assert run.model_dir("drivers").is_dir()
    run.save_model_table("drivers", "fitted_rows", pd.DataFrame({"customer_id": ["C1"]}))
    assert run.model_table("drivers", "fitted_rows")["customer_id"].tolist() == ["C1"]
    with pytest.raises(FileNotFoundError, match="run notebook 20 first"):
        run.model_table("value", "fitted_rows")
    run.ingest_dir.mkdir()
    pd.DataFrame({"event_id": ["e1", "e2"]}).to_parquet(run.ingest_path("events"))
    assert run.ingest("events")["event_id"].tolist() == ["e1", "e2"]
    with pytest.raises(FileNotFoundError, match=r"ingest outputs in this run: \['events'\]"):
        run.ingest("responses")
    assert run.sub("olist").ingest_dir == tmp_path / "r1" / "olist" / "ingest"


def test_save_table_with_csv_writes_the_same_rows(tmp_path):
    at_risk = pd.DataFrame({"customer_id": ["C1", "C2"], "revenue_at_risk_mean": [5.0, 2.5]})
    path = Run(tmp_path).save_table("at_risk", at_risk, csv=True)
    assert pd.read_csv(path.with_suffix(".csv")).equals(at_risk)


def test_manifest_written_and_read_back_unchanged(tmp_path):
    run = Run(tmp_path / "r")
    run.path.mkdir()
    m = manifest("r", "2026-01-01T00:00:00+00:00", name="cx",
                 parameters={"dashboard": {"min_n": 50}}, future_key={"kept": True})
    m.notebooks.append({"notebook": "10_ingest_journeys", "status": "succeeded"})
    m.trend = {"previous_run_id": None, "changes": []}
    run.write_manifest(m)
    raw = json.loads(run.manifest_path.read_text())
    assert raw["future_key"] == {"kept": True} and raw["trend"]["changes"] == []
    assert "alerts" not in raw  # keys never set stay out of the file
    back = Run(run.path).manifest
    assert back.dump() == raw and back.ok and back.run_name == "cx"
    assert Run(run.path).min_n == 50 and Run(tmp_path / "none").min_n == 30


@pytest.mark.parametrize("text, message", [
    (None, "manifest.json is missing; `make run`"),
    ('{"run_id": "x",\n "status": }', "is not valid JSON (line 2"),
    ("[1, 2]", "should hold a JSON object, found list"),
    ('{"run_id": "x", "status": "succeeded"}',
     "lacks keys ['started_at', 'finished_at']; it was not written by `cxkit run`"),
])
def test_a_bad_manifest_is_one_clear_line(tmp_path, text, message):
    if text is not None:
        (tmp_path / "manifest.json").write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as exc:
        Run(tmp_path).manifest
    assert message in str(exc.value) and str(tmp_path) in str(exc.value)
    assert not Run(tmp_path).has_manifest


def test_runs_newest_first_previous_and_latest(tmp_path):
    reports = tmp_path / "reports"
    for run_id, started, status in (("a", "2026-01-01", "succeeded"),
                                    ("b", "2026-02-01", "succeeded"),
                                    ("c", "2026-03-01", "failed")):
        run = Run(reports / run_id)
        run.path.mkdir(parents=True)
        run.write_manifest(manifest(run_id, started).model_copy(update={"status": status}))
    (reports / "latest").symlink_to("b")
    (reports / ".d.tmp").mkdir()
    assert [r.run_id for r in list_runs(reports)] == ["b", "a"]  # failed, tmp, link left out
    assert Run.latest(reports).previous().run_id == "a"
    assert Run(reports / "a").previous() is None
    # a run still being written (the runner's .tmp folder) and a folder with no manifest
    busy = Run(reports / ".e.tmp")
    busy.path.mkdir()
    busy.write_manifest(manifest("e", "2026-01-15").model_copy(update={"status": "running"}))
    assert busy.previous().run_id == "a"
    (reports / "loose").mkdir()
    assert Run(reports / "loose").previous().run_id == "b"
    assert Run.resolve(None, default="dev").path.name == "dev"
    assert Run.resolve(reports / "a") == Run(reports / "a")


def test_save_floors_segment_estimates_and_keeps_counts(tmp_path):
    run = Run(tmp_path / "r")
    run.path.mkdir()
    run.write_manifest(manifest("r", "t", parameters={"dashboard": {"min_n": 40}}))
    gaps = pd.DataFrame({"touchpoint": "delivery", "rule": "on_time",
                         "segment_var": ["overall", "region", "region"],
                         "segment_value": ["all", "North", "Tiny"], "n": [240, 200, 39],
                         "mean_gap": [1.0, 0.8, 9.0], "share_met": [0.8, 0.85, 0.2],
                         "share_met_low": [0.75, 0.8, 0.1], "share_met_high": [0.85, 0.9, 0.4],
                         "unit": "days"})
    run.save_table("journey_gaps", gaps)
    saved = run.table("journey_gaps").set_index("segment_value")
    assert saved.loc["Tiny", "n"] == 39 and saved.loc["Tiny", "note"] == TOO_FEW
    assert saved.loc["Tiny", ["mean_gap", "share_met", "share_met_low",
                              "share_met_high"]].isna().all()
    assert saved.loc["North", "share_met"] == 0.85 and saved.loc["North", "note"] == ""
    # readers that compute with estimates (trend, alerts) leave the floored rows out
    assert run.table("journey_gaps", drop_floored=True)["segment_value"].tolist() == [
        "all", "North"]
    # the headline score table (<kind>_by_segment): every number but n is hidden
    nps = pd.DataFrame({"segment": ["All", "Tiny"], "n": [400, 12], "promoters": [200, 6],
                        "nps_mean": [20.0, 50.0]})
    run.save_table("nps_by_segment", nps)
    t = run.table("nps_by_segment")
    assert t["n"].tolist() == [400, 12] and np.isnan(t.loc[1, "promoters"])
    # per-customer tables and model inputs are not segment estimates: saved as they are
    quad = pd.DataFrame({"customer_id": ["C1"], "score": [3.0], "revenue_pre": [10.0]})
    run.save_table("quadrants", quad)
    pd.testing.assert_frame_equal(run.table("quadrants"), quad)
    with pytest.raises(KeyError, match="needs its count column 'customers'"):
        run.save_table("revenue_at_risk", pd.DataFrame({"revenue_at_risk_mean": [1.0]}))


#: Ways of building a run-folder path or reading a run's file without :class:`Run`.
BY_HAND = re.compile(r"""/\s*["'](tables|models|ingest|manifest\.json)["']"""
                     r"""|read_parquet\(|to_parquet\(|\bRUN_DIR\b|INGEST_DIR"""
                     r"""|from cxkit\.publish import[^\n]*\b(save_table|read_table|model_dir)\b""")


@pytest.mark.parametrize("path", sorted(NOTEBOOKS_DIR.glob("*.py"))
                         + sorted(DASHBOARDS_DIR.glob("*.py"))
                         + sorted((Path(__file__).parents[1] / "cxkit" / "dashboards")
                                  .glob("*.py")), ids=lambda p: p.name)
def test_no_notebook_or_dashboard_builds_a_run_folder_path_by_hand(path):
    text = path.read_text(encoding="utf-8")
    hits = [m.group(0) for m in BY_HAND.finditer(text)]
    assert not hits, (f"{path.name} reaches into the run folder by hand ({hits}); use "
                      f"cxkit.rundir.Run (table, save_table, model_dir, ingest, manifest)")
