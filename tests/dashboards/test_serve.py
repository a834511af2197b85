"""Serving: one clear line for a bad or busy port, the kernel policy on the command line,
an offline template, and SIGTERM stopping Voila and every kernel it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cxkit.dashboards.serve import (TEMPLATE_ROOT, check_port, process_tree, serve,
                                    voila_command, voila_env)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_busy_port_is_one_line_and_nothing_starts(run_dir, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert serve(run_dir, port=port, token="t") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: port {port} on 127.0.0.1 is already in use (another dashboard or "
                   f"program): stop it or pass --port with a free port."]


def test_bad_port_and_remote_address_are_one_line(run_dir, capsys):
    assert serve(run_dir, port=70000, token="t") == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert serve(run_dir, port=8866, token="t", ip="0.0.0.0") == 2
    assert "refusing to serve the dashboard on non-loopback" in capsys.readouterr().err
    assert check_port("abc").startswith("port 'abc' is not a number")


def test_command_line_states_the_kernel_policy_and_template(run_dir):
    cmd = voila_command("dashboards", port=8866)
    for flag in ("--MappingKernelManager.cull_idle_timeout=60",
                 "--MappingKernelManager.cull_interval=10",
                 "--MappingKernelManager.cull_connected=False",
                 "--KernelManager.transport=ipc", "--template=cxkit", "--Voila.port_retries=0",
                 "--Voila.auto_token=True", "--Voila.log_level=WARN",
                 "--preheat_kernel=True", "--pool_size=1"):
        assert flag in cmd
    assert not any("token=" in part.lower() and "auto" not in part.lower() for part in cmd)
    env = voila_env(run_dir, "secret", base={})
    assert env["JUPYTER_PATH"].split(os.pathsep)[0] == str(TEMPLATE_ROOT)
    with pytest.raises(ValueError, match="must not be empty"):
        voila_env(run_dir, " ")


def test_template_loads_nothing_from_the_internet():
    files = list((TEMPLATE_ROOT / "voila" / "templates" / "cxkit").iterdir())
    assert {f.name for f in files} >= {"index.html.j2", "page.html", "conf.json"}
    for f in files:
        text = f.read_text()
        assert "cdn.jsdelivr.net" not in text and "cdnjs" not in text, f


def test_sigterm_stops_voila_and_every_kernel(run_dir, tmp_path):
    port = _free_port()
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "cxkit.cli", "dashboard", "--run-dir",
                             str(run_dir), "--port", str(port), "--token", "tk"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.3)
        url = f"http://127.0.0.1:{port}/voila/render/drivers.ipynb?token=tk"
        with urllib.request.urlopen(url, timeout=120) as resp:  # starts a kernel
            assert resp.status == 200
            resp.read()
        tree = process_tree(proc.pid)
        kernels = [p for p in tree if b"ipykernel" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert kernels, f"no kernel found in the process tree {tree}"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        time.sleep(0.5)
        alive = [p for p in tree if Path(f"/proc/{p}").exists()
                 and b"Z" not in Path(f"/proc/{p}/stat").read_bytes().split(b")")[-1][:3]]
        assert alive == [], f"still running after SIGTERM: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
