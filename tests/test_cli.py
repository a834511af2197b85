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
