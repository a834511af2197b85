"""deploy/: the cron line, the systemd service + timer and the Airflow DAG each run
``cxkit run``; each command is executed here.

A real run takes minutes, so every command runs while the test holds the reports folder's
lock: with ``--no-wait`` it must get through the shell, the virtual environment, the
console script, the run YAML, the notebooks' parameters and the lock, then exit 2 naming the
run that holds the folder. That is everything a scheduler adds to a run.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from cxkit.config import PARAMS_DIR, PROJECT_ROOT
from cxkit.runs import hold_lock

DEPLOY = PROJECT_ROOT / "deploy"
INSTALL = "/opt/cxkit"  # where the deploy files expect the checkout


def cron_command() -> tuple[str, str]:
    lines = [ln for ln in (DEPLOY / "cron" / "cxkit.cron").read_text().splitlines()
             if ln.strip() and not ln.startswith("#") and "=" not in ln.split()[0]]
    (line,) = lines
    fields = line.split(None, 5)
    return " ".join(fields[:5]), fields[5]


def systemd_units() -> tuple[configparser.ConfigParser, configparser.ConfigParser]:
    def read(name):
        cp = configparser.ConfigParser(strict=False, interpolation=None)
        cp.optionxform = str
        cp.read(DEPLOY / "systemd" / name)
        return cp

    return read("cxkit-run.service"), read("cxkit-run.timer")


def dag_command() -> str:
    tree = ast.parse((DEPLOY / "airflow" / "cxkit_dag.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "COMMAND":
            return ast.literal_eval(node.value)
    raise AssertionError("deploy/airflow/cxkit_dag.py has no COMMAND")


@pytest.fixture
def busy_params(tmp_path):
    """params/sample.yaml with its reports folder moved to tmp_path, lock held there."""
    doc = yaml.safe_load((PARAMS_DIR / "sample.yaml").read_text())
    doc["ingest"]["sources"] = str((PARAMS_DIR / doc["ingest"]["sources"]).resolve())
    doc.setdefault("run", {})["out_dir"] = str(tmp_path / "reports")
    path = tmp_path / "sample.yaml"
    path.write_text(yaml.safe_dump(doc))
    with hold_lock(tmp_path / "reports", run_id="held-by-test"):
        yield path


def execute(command: str, params: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    if not (PROJECT_ROOT / ".venv" / "bin" / "cxkit").exists():
        pytest.skip("needs the project's .venv (make venv)")
    command = command.replace(INSTALL, str(PROJECT_ROOT)).replace("params/sample.yaml",
                                                                  str(params))
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                          timeout=120, env=os.environ | (env or {}))


def assert_reached_the_lock(out: subprocess.CompletedProcess) -> None:
    assert out.returncode == 2, out.stderr
    assert "is in use by run held-by-test" in out.stderr and "--no-wait" in out.stderr


def test_cron_line_is_weekly_and_its_command_runs(busy_params):
    schedule, command = cron_command()
    assert schedule == "0 6 * * 1"
    assert command.startswith(f"cd {INSTALL} && .venv/bin/cxkit run ")
    assert_reached_the_lock(execute(command, busy_params))


def test_systemd_service_runs_cxkit_and_the_timer_starts_it(busy_params):
    service, timer = systemd_units()
    s = service["Service"]
    assert s["Type"] == "oneshot" and s["SuccessExitStatus"] == "3"
    assert s["KillMode"] == "mixed"  # SIGTERM to cxkit, which stops the kernel itself
    assert timer["Timer"]["OnCalendar"] == "Mon *-*-* 06:00:00"
    assert timer["Install"]["WantedBy"] == "timers.target"
    command = f"cd {s['WorkingDirectory']} && {s['ExecStart']}"
    assert_reached_the_lock(execute(command, busy_params))



def test_systemd_units_verify_with_systemd_analyze(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    if not (PROJECT_ROOT / ".venv" / "bin" / "cxkit").exists():
        pytest.skip("needs the project's .venv (make venv): ExecStart must exist")
    for name in ("cxkit-run.service", "cxkit-run.timer"):  # installed at this checkout
        text = (DEPLOY / "systemd" / name).read_text().replace(INSTALL, str(PROJECT_ROOT))
        (tmp_path / name).write_text(text)
    check = subprocess.run(["systemd-analyze", "verify", "--man=no",
                            str(tmp_path / "cxkit-run.service"),
                            str(tmp_path / "cxkit-run.timer")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    cal = subprocess.run(["systemd-analyze", "calendar", "Mon *-*-* 06:00:00"],
                         capture_output=True, text=True)
    assert "Next elapse: Mon" in cal.stdout


def test_airflow_command_runs_and_maps_exit_codes(busy_params, tmp_path):
    command = dag_command()
    assert_reached_the_lock(execute(command, busy_params, env={"CXKIT_HOME": str(PROJECT_ROOT)}))
    # 3 (alerts fired and delivered) is a success for Airflow; 1 stays a failure
    fake = tmp_path / "home" / ".venv" / "bin"
    fake.mkdir(parents=True)
    for code, expected in ((3, 0), (1, 1), (0, 0)):
        (fake / "cxkit").write_text(f"#!/bin/sh\nexit {code}\n")
        (fake / "cxkit").chmod(0o755)
        out = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                             env=os.environ | {"CXKIT_HOME": str(tmp_path / "home")})
        assert out.returncode == expected


def test_airflow_dag_is_valid_python_everywhere():
    source = (DEPLOY / "airflow" / "cxkit_dag.py").read_text()
    compile(source, "cxkit_dag.py", "exec")
    assert 'dag_id="cxkit_run"' in source and "max_active_runs=1" in source


def test_airflow_dag_imports_when_airflow_is_installed(monkeypatch):
    pytest.importorskip("airflow", reason="the optional `airflow` extra is not installed")
    monkeypatch.setenv("CXKIT_HOME", str(PROJECT_ROOT))
    spec = importlib.util.spec_from_file_location("cxkit_dag", DEPLOY / "airflow" / "cxkit_dag.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag
    assert dag.dag_id == "cxkit_run" and dag.max_active_runs == 1
    (task,) = dag.tasks
    assert task.bash_command == module.COMMAND


def test_readme_documents_the_deploy_files_and_exit_codes():
    readme = (PROJECT_ROOT / "README.md").read_text()
    for name in ("deploy/cron/cxkit.cron", "deploy/systemd/cxkit-run.service",
                 "deploy/systemd/cxkit-run.timer", "deploy/airflow/cxkit_dag.py"):
        assert name in readme
    assert re.search(r"\|\s*`3`\s*\|", readme), "exit code 3 missing from the README table"
