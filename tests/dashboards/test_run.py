"""Loading runs for the dashboards: tables by name, problems named, the runs next door."""

import pandas as pd

from cxkit.dashboards.run import list_runs, load_run, previous_run, resolve_run_dir, run_warnings
from tests.dashboards.conftest import PREVIOUS_ID, RUN_ID


def test_load_named_tables_and_ingest_tables(run_dir):
    run = load_run(run_dir, {"quadrants": ("customer_id",), "ingest/events": ("stage",)},
                   {"nope": ()})
    assert run.problems == []
    assert set(run.tables) == {"quadrants", "events"}
    assert run.manifest.run_id == RUN_ID and run.manifest.ok


def test_missing_table_and_columns_and_bad_manifest_are_named(run_factory):
    run_dir = run_factory(skip=("quadrants",))
    pd.DataFrame({"x": [1]}).to_parquet(run_dir / "tables" / "journey_gaps.parquet")
    (run_dir / "manifest.json").write_text('{"run_id": "x",\n "status": }', encoding="utf-8")
    problems = load_run(run_dir, {"quadrants": (), "journey_gaps": ("share_met",)}).problems
    assert any("quadrants.parquet is missing" in p and "make run" in p for p in problems)
    assert any("journey_gaps.parquet lacks columns ['share_met']" in p for p in problems)
    assert any("manifest.json is not valid JSON (line 2" in p for p in problems)


def test_runs_newest_first_and_previous(run_dir, tmp_path):
    runs = list_runs(run_dir.parent)
    assert [r.run_id for r in runs] == [RUN_ID, PREVIOUS_ID]   # latest link left out
    assert runs[0].manifest.run_name == "cx-test"
    assert previous_run(run_dir).name == PREVIOUS_ID
    assert previous_run(run_dir.parent / PREVIOUS_ID) is None
    assert resolve_run_dir(None).name == "latest" or resolve_run_dir(None).exists()


def test_failed_gate_is_the_first_warning(run_factory):
    run_dir = run_factory(manifest_overrides={"gate_failed": True, "warnings": [
        {"kind": "gate_failed", "message": "drivers model: r_hat 1.2"}]})
    msgs = run_warnings(load_run(run_dir, {}))
    assert msgs[0].startswith("The convergence gate FAILED") and "r_hat 1.2" in msgs[1]


def test_a_run_published_before_the_interval_rename_loads_with_todays_names(tmp_path):
    tables = tmp_path / "old" / "tables"
    tables.mkdir(parents=True)
    pd.DataFrame({"segment": ["All"], "n": [10], "nps_mean": [20.0], "nps_hdi_low": [5.0],
                  "nps_hdi_high": [35.0]}).to_parquet(tables / "nps_by_segment.parquet")
    run = load_run(tmp_path / "old", {"nps_by_segment": ("segment", "nps_low", "nps_high")})
    assert not [p for p in run.problems if "nps" in p]
    assert run.tables["nps_by_segment"]["nps_low"].tolist() == [5.0]
