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
    "value": {"segment": "plan", "scenarios": [{"driver": "rating_delivery", "delta": 1.0,
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
    assert cfg2.value.horizon_days == 365


def test_parameters_dump_is_plain_json(tmp_path):
    dumped = load_config(write(tmp_path, MINIMAL)).to_jsonable()
    assert set(dumped) == {"run", "ingest", "journeys", "drivers", "value", "olist", "alerts",
                           "voice", "trend", "dashboard"}
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
    data["value"] = {"segment": "plan", "scenarios": [{"driver": "x", "delta": 1, "clipp": [0, 1]}]}
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


def test_extends_merges_mappings_replaces_lists_and_resolves_paths_per_file(tmp_path):
    base_dir, child_dir = tmp_path / "base", tmp_path / "child"
    base_dir.mkdir()
    child_dir.mkdir()
    write(base_dir, dict(MINIMAL, journeys={"gap_segments": ["region", "plan"]}), "base.yaml")
    child = {"extends": "../base/base.yaml", "run": {"name": "child"},
             "drivers": {"draws": 7, "segments": []}, "journeys": {"gap_segments": ["plan"]}}
    cfg = load_config(write(child_dir, child, "child.yaml"))
    assert cfg.run.name == "child" and cfg.drivers.draws == 7
    assert cfg.drivers.tune == 50 and cfg.drivers.outcome == "nps"  # kept from the base
    assert cfg.drivers.segments == [] and cfg.journeys.gap_segments == ["plan"]  # replaced
    # the base's relative path stays relative to the base file, not to the child
    assert cfg.ingest.sources == (base_dir / "sources" / "sample.yaml").resolve()
    # null removes an optional section
    cfg2 = load_config(write(child_dir, {"extends": "../base/base.yaml", "value": None}, "n.yaml"))
    assert cfg2.value is None and "30_revenue_impact" in cfg2.skipped_steps()


def test_extends_loop_missing_base_and_errors_name_the_file(tmp_path):
    write(tmp_path, {"extends": "b.yaml"}, "a.yaml")
    write(tmp_path, {"extends": "a.yaml"}, "b.yaml")
    with pytest.raises(ConfigError, match="loops back"):
        load_config(tmp_path / "a.yaml")
    with pytest.raises(ConfigError, match=r"nope.yaml: run parameters file not found \(extended by"):
        load_config(write(tmp_path, {"extends": "nope.yaml"}, "c.yaml"))
    path = write(tmp_path, dict(MINIMAL, drivers={"outcome": "nps"}, value={}), "d.yaml")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)  # every problem at once
    assert "drivers.drivers: Field required" in msg and "value.segment: Field required" in msg


def test_missing_policy_forms_and_snapshot_flag_rule(tmp_path):
    drivers = dict(MINIMAL["drivers"], missing={"a": "drop", "b": "indicator",
                                                "c": {"impute": "median"}, "d": {"impute": 0}})
    cfg = load_config(write(tmp_path, dict(MINIMAL, drivers=drivers)))
    got = {k: (v.action, v.value) for k, v in cfg.drivers.missing.items()}
    assert got == {"a": ("drop", None), "b": ("indicator", None), "c": ("impute", "median"),
                   "d": ("impute", 0.0)}
    bad = dict(MINIMAL, drivers=dict(MINIMAL["drivers"], missing={"a": "fill"}))
    with pytest.raises(ConfigError, match="drivers.missing.a"):
        load_config(write(tmp_path, bad, "bad.yaml"))
    snap = {"path": "s.csv", "customer_id": "id", "score": "s", "revenue": "r"}
    with pytest.raises(ConfigError, match="exactly one of 'churned' or 'retained'"):
        load_config(write(tmp_path, dict(MINIMAL, value={"segment": "p", "snapshot": snap}),
                          "s.yaml"))


def test_one_config_error_catches_run_and_sources_yaml_errors():
    from cxkit.config import ConfigError
    from cxkit.ingest.errors import ConfigError as IngestConfigError, IngestError

    err = IngestConfigError("sources.yaml: unknown key 'colums'; did you mean 'columns'?")
    assert isinstance(err, ConfigError) and isinstance(err, IngestError)
    try:
        raise err
    except ConfigError as caught:
        assert str(caught) == "sources.yaml: unknown key 'colums'; did you mean 'columns'?"
