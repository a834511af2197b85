"""cxkit.config_load on a small model of its own: it knows no section of the run YAML."""

from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from cxkit import config
from cxkit.config_load import ConfigError, format_errors, merge, path_fields, read_raw


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: Path
    files: list[Path] = []
    label: str = "x"


class _Top(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inner: _Inner | None = None
    source: Path | None = None


def _write(folder: Path, name: str, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(yaml.safe_dump(data), encoding="utf-8")
    return folder / name


def test_path_fields_of_any_model_leave_out_the_top_level_source():
    assert path_fields(_Top) == [("inner", "data"), ("inner", "files")]


def test_read_raw_resolves_paths_per_file_and_merges_extends(tmp_path):
    _write(tmp_path / "base", "b.yaml", {"inner": {"data": "d.csv", "files": ["a", "/abs/b"],
                                                   "label": "base"}})
    child = _write(tmp_path / "child", "c.yaml", {"extends": "../base/b.yaml",
                                                  "inner": {"label": "child"}})
    raw = read_raw(child, _Top, tmp_path)
    assert raw == {"inner": {"data": str(tmp_path / "base" / "d.csv"),
                             "files": [str(tmp_path / "base" / "a"), "/abs/b"],
                             "label": "child"}}
    assert _Top.model_validate(raw).inner.data == tmp_path / "base" / "d.csv"


def test_read_raw_errors_name_the_file_and_the_fix(tmp_path):
    a = _write(tmp_path, "a.yaml", {"extends": "b.yaml"})
    _write(tmp_path, "b.yaml", {"extends": "a.yaml"})
    with pytest.raises(ConfigError, match=r"a.yaml: 'extends' loops back to itself"):
        read_raw(a, _Top, tmp_path)
    with pytest.raises(ConfigError, match=r"nope.yaml: run parameters file not found\. Pass a "
                                          r"YAML from .*params_here"):
        read_raw(tmp_path / "nope.yaml", _Top, tmp_path / "params_here")
    with pytest.raises(ConfigError, match=r"unknown key 'source'. Allowed: extends, inner\."):
        read_raw(_write(tmp_path, "s.yaml", {"source": "x"}), _Top, tmp_path)
    (tmp_path / "l.yaml").write_text("- 1\n")
    with pytest.raises(ConfigError, match=r"expected a mapping with sections inner, got list"):
        read_raw(tmp_path / "l.yaml", _Top, tmp_path)


def test_format_errors_suggest_the_close_key_where_it_stands(tmp_path):
    with pytest.raises(ValidationError) as exc:
        _Top.model_validate({"inner": {"data": "d", "lable": "y"}})
    msg = format_errors(exc.value, tmp_path / "r.yaml", _Top)
    assert msg.splitlines()[0] == f"{tmp_path / 'r.yaml'}: invalid run parameters"
    assert ("unknown key 'inner.lable'. Did you mean 'label'? Allowed here: data, files, label."
            in msg)


def test_names_stay_importable_from_cxkit_config():
    assert config.ConfigError is ConfigError and config.merge is merge
    assert merge({"a": {"x": 1}}, {"a": None}) == {"a": None}  # null removes a section
