"""run_ingest / load_ingest / the CLI, and the committed sample against the simulator's truth."""

import json

import numpy as np
import pandas as pd
import pytest

from cxkit.cli import main
from cxkit.ingest import TABLES, load_ingest, run_ingest

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"


def test_run_ingest_writes_every_table_and_reads_back(world, tmp_path, world_result):
    out = tmp_path / "out"
    report = run_ingest(world, out, progress=False)
    for t in TABLES:
        assert (out / f"{t}.parquet").is_file(), t
    saved = json.loads((out / "ingest_report.json").read_text())
    assert saved["sources"]["orders"] == {
        "rows_in": 9, "kept": 3, "quarantined": 6, "role": "events",
        "by_reason": {"bad_timestamp": 1, "duplicate_event": 1, "future_timestamp": 1,
                      "malformed_row": 1, "missing_id": 1, "orphan": 1},
        "files": [str(world.parent / "orders.csv")]}
    assert saved["ok"] is False and report.outputs["events"] == len(world_result.events)
    back = load_ingest(out)
    for t in TABLES:
        a = getattr(back, t)
        b = getattr(world_result, t)
        assert list(a.columns) == list(b.columns), t
        assert len(a) == len(b), t
    key = ["event_id"]
    pd.testing.assert_frame_equal(back.events.sort_values(key).reset_index(drop=True),
                                  world_result.events.sort_values(key).reset_index(drop=True),
                                  check_dtype=False)
    assert back.report.sources["web"].by_reason == world_result.report.sources["web"].by_reason


def test_load_ingest_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="events.parquet"):
        load_ingest(tmp_path)


def test_cli_ingest_prints_summary_and_exit_code(world, tmp_path, capsys):
    code = main(["ingest", str(world), "--out", str(tmp_path / "o"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1  # the fixture world quarantines 6/9 orders: not ok
    assert "orders" in out and "duplicate_event=1" in out and "status: PROBLEMS" in out
    assert (tmp_path / "o" / "ingest_report.json").is_file()


@pytest.fixture
def sample_result(sample_ingest):
    return sample_ingest  # ingested once per session (tests/conftest.py)


def test_sample_report_matches_simulator_truth(sample_result):
    truth = json.loads((SAMPLE / "truth.json").read_text())
    rep = sample_result.report
    assert rep.ok
    for name, exp in truth["expected_counts"].items():
        got = rep.sources[name]
        assert (got.rows_in, got.kept, got.quarantined) == (
            exp["rows_in"], exp["kept"], exp["quarantined"]), name
        assert got.by_reason == truth["injected"][name], name
    conflicts = {(c["value"], c["owner"], c["claimed_by"]) for c in rep.identity_conflicts}
    assert conflicts == {(c["device_id"], c["owner"], c["intruder"]) for c in truth["identity_conflicts"]}


def test_sample_responses_match_simulator_analysis(sample_result):
    from cxkit.simulate import simulate

    truth = json.loads((SAMPLE / "truth.json").read_text())
    a = simulate(truth["seed"], truth["n_customers"]).analysis
    r = sample_result.responses
    a = a.sort_values("response_id").reset_index(drop=True)
    r = r.sort_values("response_id").reset_index(drop=True)
    assert r.response_id.tolist() == a.response_id.tolist()
    for col in ["customer_id", "region", "channel", "plan", "cohort", "verbatim"]:
        assert r[col].fillna("").tolist() == a[col].fillna("").tolist(), col
    assert (r.responded_at == a.responded_at).all()
    for col in [c for c in a.columns if c.split("_")[0] in ("had", "n", "gap", "breach")] + [
            "nps", "csat", "ces", "rating_product", "rating_delivery", "rating_app", "rating_price"]:
        np.testing.assert_allclose(r[col].astype(float), a[col].astype(float), err_msg=col)
