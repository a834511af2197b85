from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cxkit import config
from cxkit.config import ConfigError, load_config

MINIMAL = {
    "ingest": {"sources": "sources/sample.yaml", "window_days": 30},
    "drivers": {"outcome": "nps", "drivers": ["rating_delivery", "rating_app"],
                "segments": ["region"], "draws": 50, "tune": 50, "chains": 1},
    "value": {"scenarios": [{"driver": "rating_delivery", "delta": 1.0,
                             "name": "delivery +1", "clip": [0, 10]}]},
}


def write(tmp_path: Path, data, name="run.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_paths_are_anchored_on_the_package_not_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (config.PROJECT_ROOT / "cxkit" / "config.py").is_file()
    assert config.REPORTS_DIR == config.PROJECT_ROOT / "reports"
    for p in (config.DATA_DIR, config.NOTEBOOKS_DIR, config.DASHBOARDS_DIR, config.PARAMS_DIR):
        assert p.is_absolute() and p.parent == config.PROJECT_ROOT


def test_valid_yaml_resolves_paths_relative_to_the_yaml_file(tmp_path, monkeypatch):
    sub = tmp_path / "params"
    sub.mkdir()
    data = dict(MINIMAL, run={"name": "t", "out_dir": "../out"})
    path = write(sub, data)
    monkeypatch.chdir(tmp_path.parent)  # a different cwd must not matter
    cfg = load_config(path)
    assert cfg.ingest.sources == (sub / "sources" / "sample.yaml").resolve()
    assert cfg.run.out_dir == (tmp_path / "out").resolve()
    assert cfg.source == path.resolve()
    assert cfg.drivers.drivers == ["rating_delivery", "rating_app"]
    assert cfg.value.scenarios[0].clip == (0.0, 10.0)
    assert cfg.drivers.allow_failed_gate is False
    # defaults: out_dir in the project's reports/, value section defaults
    cfg2 = load_config(write(sub, MINIMAL, "b.yaml"))
    assert cfg2.run.out_dir == config.REPORTS_DIR
    assert cfg2.value.horizon_days == 180


def test_parameters_dump_is_plain_json(tmp_path):
    dumped = load_config(write(tmp_path, MINIMAL)).to_jsonable()
    assert set(dumped) == {"run", "ingest", "drivers", "value", "olist", "dashboard"}
    assert isinstance(dumped["ingest"]["sources"], str)


@pytest.mark.parametrize("section, bad, suggestion", [
    ("drivers", "outcom", "outcome"),
    ("ingest", "window_day", "window_days"),
    ("run", "outdir", "out_dir"),
])
def test_unknown_key_names_file_key_and_suggestion(tmp_path, section, bad, suggestion):
    data = {k: dict(v) for k, v in MINIMAL.items()}
    data.setdefault(section, {})[bad] = 1
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert str(path) in msg
    assert f"unknown key '{section}.{bad}'" in msg
    assert f"Did you mean '{suggestion}'?" in msg


def test_unknown_key_in_scenario_list_and_top_level(tmp_path):
    data = {k: dict(v) for k, v in MINIMAL.items()}
    data["value"] = {"scenarios": [{"driver": "x", "delta": 1, "clipp": [0, 1]}]}
    data["driverz"] = {}
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, data))
    msg = str(err.value)
    assert "unknown key 'value.scenarios.0.clipp'. Did you mean 'clip'?" in msg
    assert "unknown key 'driverz'. Did you mean 'drivers'?" in msg


def test_bad_values_and_missing_sections_are_reported(tmp_path):
    data = {k: dict(v) for k, v in MINIMAL.items()}
    data["drivers"]["family"] = "poisson"
    data["drivers"]["draws"] = 0
    del data["ingest"]
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, data))
    msg = str(err.value)
    assert "drivers.family" in msg and "'poisson'" in msg
    assert "drivers.draws" in msg
    assert "ingest: Field required" in msg


@pytest.mark.parametrize("text, needle", [
    ("[1, 2]", "expected a mapping"),
    ("a: [unclosed", "not valid YAML"),
])
def test_not_a_mapping_or_not_yaml(tmp_path, text, needle):
    with pytest.raises(ConfigError, match=needle):
        load_config(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
