"""Pieces of finishing a run (the whole flow is tested through cxkit.runner.run in
test_runner*.py): the latest swap, error records, ingest warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cxkit import finish
from cxkit.rundir import Manifest
from cxkit.runs import RunStopped, describe_os_error


def test_swap_latest_is_a_relative_symlink_replaced_atomically(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    finish.swap_latest(tmp_path, "a")
    finish.swap_latest(tmp_path, "b")
    assert (tmp_path / "latest").readlink() == Path("b")
    assert not list(tmp_path.glob(".latest.*"))


def test_swap_latest_refuses_a_real_folder_named_latest(tmp_path):
    (tmp_path / "latest").mkdir()
    with pytest.raises(FileExistsError) as exc:
        finish.swap_latest(tmp_path, "a")
    assert describe_os_error(exc.value, tmp_path) == (
        f"cannot write {tmp_path / 'latest'}: exists and is not a symlink (the runner points "
        f"it at the newest good run); move it away and run again")


def test_error_info_and_reason_of_a_stopped_run():
    info = finish.error_info("20_driver_model", RunStopped(15))
    assert info["type"] == "RunStopped" and info["message"] == "stopped by SIGTERM"
    manifest = Manifest(run_id="r", status="running", started_at=None, finished_at=None,
                        error=info)
    reason = finish._reason(manifest, RunStopped(15))
    assert reason == "stopped by SIGTERM during notebook 20_driver_model"


def test_ingest_warnings_come_from_the_run_ingest_report(tmp_path):
    assert finish._ingest_warnings(tmp_path) == []
    (tmp_path / "ingest").mkdir()
    (tmp_path / "ingest" / "ingest_report.json").write_text(json.dumps(
        {"warnings": ["source 'x' has no data rows (x.csv)"]}))
    assert finish._ingest_warnings(tmp_path) == [
        {"kind": "ingest", "message": "source 'x' has no data rows (x.csv)"}]
