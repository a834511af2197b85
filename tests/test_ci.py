"""The CI entry point, the Makefile targets, and the CXKIT_REQUIRE_* skip-to-failure hook."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cxkit.config import PROJECT_ROOT

SKIPPING_TESTS = '''
import pytest

@pytest.mark.olist
def test_needs_olist():
    pytest.skip("no Olist sample here")

@pytest.mark.spark
@pytest.mark.skipif(True, reason="no JDK")
def test_needs_spark():
    pass

@pytest.mark.slow
def test_unrelated_skip():
    pytest.skip("not an environment marker")
'''


def run_pytest(folder: Path, **flags: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXKIT_REQUIRE_")}
    env.update(flags)
    return subprocess.run([sys.executable, "-m", "pytest", str(folder), "-rA", "-p",
                           "no:cacheprovider"],
                          capture_output=True, text=True, env=env, timeout=120, cwd=folder)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("flags")
    shutil.copy(Path(__file__).with_name("conftest.py"), folder / "conftest.py")
    (folder / "test_skips.py").write_text(SKIPPING_TESTS)
    (folder / "pytest.ini").write_text("[pytest]\nmarkers =\n    olist\n    spark\n    slow\n")
    return folder


def test_skips_stay_skips_without_flags(project):
    out = run_pytest(project)
    assert out.returncode == 0, out.stdout
    assert "3 skipped" in out.stdout


def test_require_flags_turn_marked_skips_into_failures(project):
    out = run_pytest(project, CXKIT_REQUIRE_OLIST="1", CXKIT_REQUIRE_SPARK="1")
    assert out.returncode == 1
    # a skip in setup (skipif) becomes a setup error, a skip in the body a failure
    assert "1 failed, 1 skipped, 1 error" in out.stdout
    assert "CXKIT_REQUIRE_OLIST=1 requires it to run" in out.stdout
    assert "no JDK) but CXKIT_REQUIRE_SPARK=1 requires it to run" in out.stdout


def test_ci_script_installs_system_packages_and_runs_make_test():
    script = PROJECT_ROOT / ".ci" / "run"
    text = script.read_text()
    assert os.access(script, os.X_OK)
    assert "set -euo pipefail" in text
    assert text.rstrip().endswith("exec make test")
    for pkg in ("chromium", "chromium-driver", "default-jdk-headless"):
        assert pkg in text
    for flag in ("CXKIT_REQUIRE_BROWSER=1", "CXKIT_REQUIRE_SPARK=1", "CXKIT_REQUIRE_OLIST=1"):
        assert flag in text
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_makefile_targets_and_single_pytest_invocation():
    text = (PROJECT_ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z]+):", text, flags=re.M))
    assert {"run", "test", "lab", "dashboard", "sample", "bench"} <= targets
    test_recipe = text.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert test_recipe.count("pytest") == 1
    assert "pytest tests build/nbval --nbval-lax" in test_recipe
    assert "prepare('params/smoke.yaml', 'build/nbval')" in test_recipe
    assert "ipykernel install --sys-prefix --name cxkit" in text
    assert "cxkit run $(PARAMS)" in text and "PARAMS ?= params/sample.yaml" in text


def test_outputs_are_git_ignored():
    ignored = (PROJECT_ROOT / ".gitignore").read_text().split()
    for path in ("reports/", ".venv/", "build/"):
        assert path in ignored
