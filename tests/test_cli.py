from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cxkit.cli import main


def test_help_lists_the_pipeline_commands():
    out = subprocess.run([sys.executable, "-m", "cxkit.cli", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    for command in ("simulate", "ingest", "run", "dashboard"):
        assert command in out.stdout


def test_console_script_run_on_bad_yaml_exits_2_with_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("ingest: {sources: s.yaml, windw_days: 3}\ndrivers: {drivers: [a]}\n")
    script = Path(sys.executable).with_name("cxkit")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "cxkit.cli"]
    out = subprocess.run([*cmd, "run", str(bad)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert str(bad) in out.stderr
    assert "unknown key 'ingest.windw_days'. Did you mean 'window_days'?" in out.stderr


def test_run_on_missing_yaml_exits_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.yaml")]) == 2
    assert "not found" in capsys.readouterr().err


def _cxkit() -> list[str]:
    script = Path(sys.executable).with_name("cxkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cxkit.cli"]


def test_version():
    out = subprocess.run([*_cxkit(), "--version"], capture_output=True, text=True, timeout=60)
    from cxkit import __version__

    assert out.returncode == 0 and out.stdout.strip() == f"cxkit {__version__}"


def test_help_documents_exit_codes_and_the_runs_command():
    out = subprocess.run([*_cxkit(), "--help"], capture_output=True, text=True, timeout=60)
    assert "runs" in out.stdout
    assert "exit codes: 0 ok, 1 run failed or stopped, 2 bad input or usage, 3 run" in \
        " ".join(out.stdout.split())


def _latin1_world(tmp_path):
    from tests.ingest.conftest import write_world

    path = write_world(tmp_path)
    text = (tmp_path / "surveys.csv").read_text().replace("fine", "ótimo")
    (tmp_path / "surveys.csv").write_bytes(text.encode("latin-1"))
    return path


def test_ingest_bad_encoding_is_one_line_exit_2_and_debug_shows_the_traceback(tmp_path):
    path = _latin1_world(tmp_path)
    out = subprocess.run([*_cxkit(), "ingest", str(path), "--out", str(tmp_path / "o"),
                          "--quiet"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert lines[0].startswith(f"cxkit ingest: {tmp_path / 'surveys.csv'}: line 4: byte 0xf3")
    assert "encoding:" in lines[0]
    debug = subprocess.run([*_cxkit(), "--debug", "ingest", str(path), "--out",
                            str(tmp_path / "o"), "--quiet"], capture_output=True, text=True,
                           timeout=120)
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr
    assert "EncodingError" in debug.stderr


def test_missing_sources_yaml_and_dashboard_run_dir_are_one_line_exit_2(tmp_path, capsys):
    assert main(["ingest", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cxkit ingest: ") and str(tmp_path / "nope.yaml") in err
    assert "Traceback" not in err


def test_unexpected_error_is_one_line_exit_1_with_debug_hint(monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr("cxkit.ingest.run_ingest", boom)
    assert main(["ingest", "x.yaml", "--out", "o"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("cxkit ingest: unexpected RuntimeError: kaput. This is probably a bug in "
                   "cxkit: run again with --debug for the traceback and report it.")
    assert main(["ingest", "x.yaml", "--out", "o", "--debug"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_disk_full_during_ingest_is_one_line_exit_1(monkeypatch, capsys):
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/data/out/events.parquet")

    monkeypatch.setattr("cxkit.ingest.run_ingest", full)
    assert main(["ingest", "x.yaml", "--out", "o"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("cxkit ingest: cannot write /data/out/events.parquet: No space left")
    assert "free space" in err


def test_runs_on_a_missing_reports_folder_exit_2(tmp_path, capsys):
    assert main(["runs", "--reports", str(tmp_path / "none")]) == 2
    assert "no reports folder here" in capsys.readouterr().err


def test_run_errors_show_a_traceback_only_with_debug(tmp_path, capsys):
    missing = str(tmp_path / "missing.yaml")
    assert main(["run", missing]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert main(["--debug", "run", missing]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "ConfigError" in err
    assert err.strip().splitlines()[-1].startswith(f"cxkit run: {missing}: run parameters "
                                                   f"file not found")


def test_ingest_truncated_parquet_is_one_line_exit_2(tmp_path, capsys):
    import pandas as pd

    from tests.ingest.conftest import SOURCES, write_world

    path = write_world(tmp_path, sources=SOURCES.replace("path: web.csv", "path: web.parquet"))
    web = pd.read_csv(tmp_path / "web.csv", dtype=str, keep_default_na=False)
    web.to_parquet(tmp_path / "web.parquet", index=False)
    data = (tmp_path / "web.parquet").read_bytes()
    (tmp_path / "web.parquet").write_bytes(data[:-100])  # the footer is gone
    assert main(["ingest", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"cxkit ingest: {tmp_path / 'web.parquet'}: not a readable Parquet")
