"""Fault tests of unattended runs (issue 12): SIGTERM mid-run, concurrent runs, a full or
read-only disk, simulated write errors, a stale temporary folder.

They execute tiny fixture notebooks (tests/fixtures/notebooks: ``sleeps`` writes its kernel's
pid then sleeps ``$CXKIT_TEST_SLEEP`` seconds; ``fills`` writes until the disk is full).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cxkit import finish, runner, runs
from cxkit.cli import main
from tests.test_runner import FIXTURES, OK, manifest, write_params

SLEEPS, FILLS = FIXTURES / "sleeps.ipynb", FIXTURES / "fills.ipynb"


def start_run(params: Path, run_id: str | None, notebook: Path, *, sleep: float = 30,
              extra: str = "") -> subprocess.Popen:
    """``cxkit.runner.run`` in a child process (so the test can signal it)."""
    code = textwrap.dedent(f"""
        import sys
        from cxkit.runner import run
        sys.exit(run({str(params)!r}, run_id={run_id!r}, notebooks=[{str(notebook)!r}]{extra}))
    """)
    env = os.environ | {"CXKIT_TEST_SLEEP": str(sleep)}
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)  # its own process group, like a shell job


def wait_for(path_glob, folder: Path, timeout: float = 60) -> Path:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        found = list(folder.glob(path_glob))
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"{path_glob} did not appear in {folder} within {timeout} s")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A reports folder with one good run 'good' (latest -> good)."""
    params = write_params(tmp_path_factory.mktemp("faults"))
    assert runner.run(params, run_id="good", notebooks=[OK]) == 0
    return params, params.parent / "reports"


@pytest.mark.parametrize("sig, group", [(signal.SIGTERM, False), (signal.SIGINT, True)],
                         ids=["SIGTERM-to-cxkit", "Ctrl-C-to-the-process-group"])
def test_signal_mid_run_ends_kernel_and_keeps_failed_folder(published, sig, group):
    params, reports = published
    run_id = f"killed-{sig.name}"
    proc = start_run(params, run_id, SLEEPS)
    pid_file = wait_for(f".{run_id}.tmp/kernel.pid", reports)
    time.sleep(0.3)
    kernel_pid = int(pid_file.read_text())
    if group:  # what a terminal does on Ctrl-C: SIGINT to cxkit and its kernel
        os.killpg(proc.pid, sig)
    else:  # what systemd (KillMode=mixed), kill or Airflow do
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert f"RUN FAILED: {run_id}: stopped by {sig.name} during notebook sleeps" in err
    assert "still points at the last good run" in err
    assert "Traceback" not in err and "IPKernelApp" not in err  # the kernel's own stderr ...
    assert "IPKernelApp" in (reports / f"{run_id}.failed" / "kernel.log").read_text()  # ... here
    m = manifest(reports / f"{run_id}.failed")
    assert m["status"] == "failed"
    assert m["reason"] == f"stopped by {sig.name} during notebook sleeps"
    assert m["notebooks"][0]["status"] == "stopped" and m["finished_at"]
    assert not (reports / f".{run_id}.tmp").exists()
    assert (reports / "latest").readlink() == Path("good")
    for _ in range(50):
        if not alive(kernel_pid):
            break
        time.sleep(0.1)
    assert not alive(kernel_pid), "the notebook's kernel outlived the stopped run"


def test_concurrent_runs_wait_or_exit_2_and_never_overlap(published, capsys, monkeypatch):
    params, reports = published
    # the fixture's sources YAML is not a real ingestion; the data checks have their own tests
    monkeypatch.setattr("cxkit.preflight.validate_run", lambda cfg: None)
    first = start_run(params, "holder", SLEEPS, sleep=2)
    wait_for(".holder.tmp/kernel.pid", reports)
    # --no-wait: exit 2 at once, naming the run that holds the folder
    assert main(["run", str(params), "--no-wait"]) == 2
    err = capsys.readouterr().err
    assert "is in use by run holder" in err and "--no-wait" in err
    # waiting: one message, then it runs after the first one finished
    code = runner.run(params, run_id="queued", notebooks=[OK])
    err = capsys.readouterr().err
    assert first.wait(timeout=60) == 0, first.stderr.read()
    assert code == 0
    assert "waiting for it to finish" in err
    held, queued = manifest(reports / "holder"), manifest(reports / "queued")
    assert queued["started_at"] >= held["finished_at"]
    assert (reports / "latest").readlink() == Path("queued")


def test_runs_started_in_the_same_second_get_distinct_ids(published, monkeypatch):
    params, reports = published
    monkeypatch.setattr("cxkit.runs.datetime", _FrozenClock)
    assert runner.run(params, notebooks=[OK]) == 0
    assert runner.run(params, notebooks=[OK]) == 0
    assert (reports / "20261126T030000Z").is_dir() and (reports / "20261126T030000Z-2").is_dir()
    assert (reports / "latest").readlink() == Path("20261126T030000Z-2")


class _FrozenClock:
    @staticmethod
    def now(tz=None):
        from datetime import datetime

        return datetime(2026, 11, 26, 3, 0, 0, tzinfo=tz)


def test_stale_tmp_of_a_killed_run_is_reported_and_cleaned(published, capsys):
    params, reports = published
    stale = reports / ".crashed.tmp"
    stale.mkdir()
    (stale / "manifest.json").write_text(json.dumps({"run_id": "crashed", "status": "running",
                                                     "started_at": "2026-11-25T01:00:00+00:00"}))
    assert runner.run(params, run_id="after", notebooks=[OK]) == 0
    err = capsys.readouterr().err
    assert "found .crashed.tmp left by a killed run" in err
    assert not stale.exists()
    m = manifest(reports / "crashed.failed")
    assert m["status"] == "failed" and "cleaned by run after" in m["reason"]


def test_manifest_write_error_gives_clean_message_and_keeps_latest(published, monkeypatch,
                                                                   capsys):
    params, reports = published
    before = (reports / "latest").readlink()
    real = runs.write_json
    calls = []

    def failing(path, data):
        calls.append(path)
        if data.get("status") != "running":  # the final manifest: disk is full by then
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(runs, "write_json", failing)  # Manifest.write's one writer
    assert runner.run(params, run_id="nospace", notebooks=[OK]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "free space on the disk" in err
    assert "Traceback" not in err
    assert (reports / "latest").readlink() == before
    assert (reports / "nospace.failed").is_dir() and not (reports / "nospace").exists()


def test_latest_swap_failure_never_half_publishes(published, monkeypatch, capsys):
    params, reports = published
    before = (reports / "latest").readlink()

    def no_symlink(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(reports / ".latest.x.tmp"))

    monkeypatch.setattr(finish.os, "symlink", no_symlink)
    assert runner.run(params, run_id="nolink", notebooks=[OK]) == 1
    err = capsys.readouterr().err
    assert "Read-only file system" in err and "make" in err and "writable" in err
    assert (reports / "latest").readlink() == before
    assert not (reports / "nolink").exists()
    m = manifest(reports / "nolink.failed")
    assert m["status"] == "failed" and "Read-only file system" in m["reason"]


# --------------------------------------------------------------------------- real filesystems
@contextlib.contextmanager
def tiny_fs(folder: Path, *, size: str = "2m", read_only: bool = False):
    """A small tmpfs at ``folder`` (root only; skips where mounting is not allowed)."""
    folder.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if read_only else "")
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_full_filesystem_fails_cleanly_with_the_notebook_error(tmp_path, capsys):
    params = write_params(tmp_path / "p")
    out = tmp_path / "disk"
    with tiny_fs(out, size="3m"):
        params.write_text(params.read_text().replace("out_dir: reports", f"out_dir: {out}"))
        assert runner.run(params, run_id="good", notebooks=[OK]) == 0
        capsys.readouterr()
        assert runner.run(params, run_id="full", notebooks=[FILLS]) == 1
        err = capsys.readouterr().err
        assert "RUN FAILED: full: notebook fills: OSError" in err
        assert "No space left on device" in err and "Traceback" not in err
        assert (out / "latest").readlink() == Path("good")
        assert (out / "good" / "manifest.json").is_file()
        assert (out / "full.failed").is_dir() and not list(out.glob(".*.tmp"))


def test_read_only_output_exits_2_with_one_line(tmp_path, capsys, monkeypatch):
    params = write_params(tmp_path / "p")
    monkeypatch.setattr("cxkit.preflight.validate_run", lambda cfg: None)  # see above
    out = tmp_path / "ro"
    with tiny_fs(out, size="1m", read_only=True):
        params.write_text(params.read_text().replace("out_dir: reports", f"out_dir: {out}"))
        assert main(["run", str(params)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cxkit run: cannot write") and "Read-only file system" in err
    assert "writable" in err and "Traceback" not in err and len(err.splitlines()) == 1
