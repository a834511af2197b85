"""environment.yml and pyproject.toml must describe the same environment.

Convention (documented in environment.yml): conda-forge provides ``python>=3.11`` (the
pyproject ``requires-python``), pip and a JDK; the pip section holds ``-e .`` plus, verbatim,
pyproject's ``dependencies`` and the ``spark`` and ``test`` extras. Compared here as parsed
requirements: the same names, extras AND version bounds, nothing more, nothing less.
"""

from __future__ import annotations

import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from cxkit.config import PROJECT_ROOT

EXTRAS = ("spark", "test")


def _key(req: str) -> tuple:
    r = Requirement(req)
    return (r.name.lower().replace("_", "-"), tuple(sorted(r.extras)), str(r.specifier))


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def env() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())


def _pip_section(env: dict) -> list[str]:
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "environment.yml needs exactly one pip section"
    return sections[0]


def test_pip_section_matches_pyproject_names_and_bounds(pyproject, env):
    project = pyproject["project"]
    expected = list(project["dependencies"])
    for extra in EXTRAS:
        expected += project["optional-dependencies"][extra]
    pip = [line for line in _pip_section(env) if line.strip() != "-e ."]
    want, have = sorted(map(_key, expected)), sorted(map(_key, pip))
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    assert not missing and not extra, (
        f"environment.yml pip section drifted from pyproject.toml: missing {missing}, "
        f"not in pyproject {extra}; copy the pyproject strings verbatim")
    assert len(pip) == len(expected), "duplicate requirement lines in environment.yml"


def test_pip_section_installs_the_project_itself(env):
    assert "-e ." in _pip_section(env)


def test_conda_python_matches_requires_python(pyproject, env):
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    python = [d for d in conda if d.startswith("python")]
    assert python == ["python>=3.11"]
    assert SpecifierSet(pyproject["project"]["requires-python"]) == SpecifierSet(">=3.11")
    assert env["channels"] == ["conda-forge"]


def test_key_compares_bounds_not_just_names():
    # the comparison must catch a changed bound, else the consistency test cannot fail
    assert _key("pymc>=5.25,<6") != _key("pymc>=5.25,<7")
    assert _key("ibis-framework[duckdb]>=12,<13") != _key("ibis-framework[pyspark]>=12,<13")
    assert _key("pymc <6, >=5.25") == _key("pymc>=5.25,<6")
