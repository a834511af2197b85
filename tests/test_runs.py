"""Run control helpers: run ids, lock, signals, write errors, history."""

from __future__ import annotations

import errno
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from cxkit import runs


def write_manifest(folder: Path, **fields) -> None:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(fields))


def test_free_run_id_adds_a_counter_when_the_second_is_taken(tmp_path):
    assert runs.free_run_id(tmp_path, "20261126T030000Z") == "20261126T030000Z"
    (tmp_path / "20261126T030000Z").mkdir()
    (tmp_path / "20261126T030000Z-2.failed").mkdir()
    (tmp_path / ".20261126T030000Z-3.tmp").mkdir()
    assert runs.free_run_id(tmp_path, "20261126T030000Z") == "20261126T030000Z-4"


def test_sigint_and_sigterm_raise_run_stopped_once_then_handlers_are_restored():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(runs.RunStopped, match="stopped by SIGINT") as exc:
        with runs.stop_on_signals():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
    assert exc.value.signum == signal.SIGINT and isinstance(exc.value, KeyboardInterrupt)
    with pytest.raises(runs.RunStopped, match="stopped by SIGTERM"):
        with runs.stop_on_signals():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
            finally:  # a second signal while cleaning up is ignored
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.2)
    assert signal.getsignal(signal.SIGTERM) is before


def test_lock_no_wait_names_the_holder_and_wait_queues(tmp_path):
    held, release = threading.Event(), threading.Event()

    def holder():
        with runs.hold_lock(tmp_path, run_id="first", say=lambda m: None):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(10)
    with pytest.raises(runs.RunBusyError) as exc:
        with runs.hold_lock(tmp_path, run_id="second", wait=False):
            pass
    assert f"{tmp_path} is in use by run first (pid {os.getpid()}" in str(exc.value)
    said = []
    threading.Timer(0.5, release.set).start()
    with runs.hold_lock(tmp_path, run_id="second", say=said.append, poll=0.05):
        assert release.is_set()
    t.join()
    assert len(said) == 1 and "waiting for it to finish" in said[0]
    assert not (tmp_path / ".cxkit.lock.json").exists()


def test_write_json_leaves_the_old_file_when_the_disk_is_full(tmp_path, monkeypatch):
    path = tmp_path / "manifest.json"
    runs.write_json(path, {"status": "running"})

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OSError):
        runs.write_json(path, {"status": "succeeded"})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"status": "running"}
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


@pytest.mark.parametrize("code, fix", [(errno.ENOSPC, "free space on the disk holding"),
                                       (errno.EROFS, "make /r writable"),
                                       (errno.EIO, "check the disk holding /r")])
def test_describe_os_error_says_what_where_and_what_to_do(code, fix):
    text = runs.describe_os_error(OSError(code, os.strerror(code), "/r/x.json"), Path("/r"))
    assert text.startswith(f"cannot write /r/x.json: {os.strerror(code)}; ") and fix in text


def test_history_lists_runs_with_duration_hash_gate_alerts_and_reason(tmp_path):
    inputs = [{"path": "a.csv", "sha256": "aa"}, {"path": "b.parquet", "sha256": "bb"}]
    write_manifest(tmp_path / "r1", run_id="r1", name="cx", status="succeeded",
                   started_at="2026-11-26T01:00:00+00:00",
                   finished_at="2026-11-26T01:02:30+00:00", inputs=inputs, gate_failed=True,
                   alerts={"fired": [{"rule": "x"}, {"rule": "y"}]})
    write_manifest(tmp_path / "r2.failed", run_id="r2", name="cx", status="failed",
                   started_at="2026-11-26T02:00:00+00:00", finished_at=None,
                   inputs=list(reversed(inputs)) + [{"path": "run.yaml", "sha256": "cc"}],
                   reason="stopped by SIGTERM during notebook a")
    write_manifest(tmp_path / "r3.failed", run_id="r3", name="other", status="failed",
                   started_at="2026-11-26T03:00:00+00:00",
                   finished_at="2026-11-26T03:00:05+00:00",
                   error={"notebook": "20", "ename": "ValueError", "evalue": "bad"})
    (tmp_path / "latest").symlink_to("r1")
    table = runs.history(tmp_path)
    assert table["run_id"].tolist() == ["r1", "r2", "r3"]
    assert table["seconds"].tolist()[0] == 150 and table["seconds"].isna().tolist()[1]
    assert table["data_hash"].iloc[0] == table["data_hash"].iloc[1] != ""
    assert table["gate_failed"].tolist() == [True, False, False]
    assert table["alerts"].tolist() == [2, 0, 0]
    assert table["reason"].tolist()[1:] == ["stopped by SIGTERM during notebook a",
                                            "20: ValueError: bad"]
    text = runs.format_history(table)
    assert "150 s" in text and "FAILED" in text and "stopped by SIGTERM" in text
    assert runs.previous_success(tmp_path, "cx") == tmp_path / "r1"  # gate failed, but alone
    write_manifest(tmp_path / "r0", run_id="r0", name="cx", status="succeeded",
                   started_at="2026-11-26T00:30:00+00:00", gate_failed=False)
    assert runs.previous_success(tmp_path, "cx") == tmp_path / "r0"  # the gate passed there
    assert runs.previous_success(tmp_path, "other") is None
    assert runs.previous_success(tmp_path, "cx", before="2026-11-26T00:00:00") is None
    assert runs.format_history(runs.history(tmp_path / "none")) == "no runs yet"


def test_history_tells_a_running_run_from_a_stale_one(tmp_path):
    write_manifest(tmp_path / ".r4.tmp", run_id="r4", name="cx", status="running",
                   started_at="2026-11-26T04:00:00+00:00")
    (stale,) = runs.history(tmp_path).itertuples()
    assert stale.status == "stale" and "next run keeps it as .failed" in stale.reason
    with runs.hold_lock(tmp_path, run_id="r4", say=lambda m: None):
        (running,) = runs.history(tmp_path).itertuples()
    assert running.status == "running" and running.reason == ""


def test_the_holder_note_names_a_run_id_chosen_after_the_lock(tmp_path):
    with runs.hold_lock(tmp_path, run_id=None, say=lambda m: None):
        runs.note_holder(tmp_path, "20261126T030000Z-2")
        errors = []

        def second():
            try:
                with runs.hold_lock(tmp_path, wait=False):
                    pass
            except runs.RunBusyError as exc:
                errors.append(str(exc))

        t = threading.Thread(target=second)
        t.start()
        t.join()
    assert "in use by run 20261126T030000Z-2 (pid" in errors[0]
