"""cxkit.ingest.config: the sources YAML (the catalog: test_catalog.py)."""

import pytest

from cxkit.ingest import ConfigError, ingest, load_sources
from cxkit.ingest.config import expand_env



def test_unknown_key_names_file_and_key(tmp_path, make_world, sources_yaml):
    path = make_world(tmp_path, sources=sources_yaml.replace("    value: revenue", "    valeu: revenue"))
    with pytest.raises(ConfigError) as exc:
        load_sources(path)
    msg = str(exc.value)
    assert str(path) in msg and "sources.orders.valeu" in msg and "unknown key" in msg


def test_unknown_top_level_key(tmp_path, make_world, sources_yaml):
    path = make_world(tmp_path, sources=sources_yaml + "\nwindow: 3\n")
    with pytest.raises(ConfigError, match="unknown key 'window'"):
        load_sources(path)


def test_constant_touchpoint_must_be_in_catalog(tmp_path, make_world, sources_yaml):
    path = make_world(tmp_path, sources=sources_yaml.replace("touchpoint: order", "touchpoint: purchase"))
    with pytest.raises(ConfigError, match=r"sources.orders.touchpoint: 'purchase' is not in the catalog"):
        ingest(path)


def test_rule_touchpoint_source_needs_rule_fields(tmp_path, make_world, sources_yaml):
    src = sources_yaml.replace("      delivered_at: {column: delivered_at}\n", "")
    path = make_world(tmp_path, sources=src)
    with pytest.raises(ConfigError, match=r"sources.deliveries.fields: .*needs fields \['delivered_at'\]"):
        ingest(path)


def test_key_must_be_a_declared_id(tmp_path, make_world, sources_yaml):
    path = make_world(tmp_path, sources=sources_yaml.replace("    key: email", "    key: mail"))
    with pytest.raises(ConfigError, match=r"sources.tickets: .*key 'mail' is not one of the declared ids"):
        load_sources(path)


def test_env_override_and_default(monkeypatch, tmp_path):
    monkeypatch.delenv("CXKIT_TEST_DIR", raising=False)
    assert expand_env("${CXKIT_TEST_DIR:-a/b}/x.csv") == "a/b/x.csv"
    monkeypatch.setenv("CXKIT_TEST_DIR", "/data/full")
    assert expand_env("${CXKIT_TEST_DIR:-a/b}/x.csv") == "/data/full/x.csv"
    monkeypatch.delenv("CXKIT_TEST_DIR")
    with pytest.raises(ConfigError, match="CXKIT_TEST_DIR is not set"):
        expand_env("${CXKIT_TEST_DIR}/x.csv")


def test_paths_resolve_relative_to_yaml(tmp_path, make_world):
    path = make_world(tmp_path)
    spec = load_sources(path)
    assert spec.resolve(spec.sources["orders"].path) == tmp_path / "orders.csv"
    assert spec.resolve(spec.catalog) == tmp_path / "catalog.yaml"


def test_link_only_on_events_and_responses(tmp_path, make_world, sources_yaml):
    bad = sources_yaml.replace("    segments: {region: region}", "    segments: {region: region}\n    link: email", 1)
    assert bad != sources_yaml
    path = make_world(tmp_path, sources=bad)
    with pytest.raises(ConfigError, match="sources.customers.*'link' joins responses to events"):
        load_sources(path)


def test_every_sources_key_is_documented():
    """docs/SOURCES.md names every key a sources YAML accepts (a new field needs a line)."""
    from pathlib import Path

    from cxkit.ingest.config import SourcesSpec, SourceSpec

    doc = (Path(__file__).resolve().parents[2] / "docs" / "SOURCES.md").read_text()
    internal = {"base_dir", "file"}  # set by the loader, not read from YAML
    keys = (set(SourceSpec.model_fields) | set(SourcesSpec.model_fields)) - internal
    missing = sorted(k for k in keys if f"`{k}" not in doc)
    assert not missing, f"not in docs/SOURCES.md: {missing}"


def test_language_must_be_supported_and_on_a_responses_verbatim(tmp_path, make_world,
                                                                sources_yaml):
    path = make_world(tmp_path, sources=sources_yaml.replace(
        "    verbatim: verbatim\n", "    verbatim: verbatim\n    language: xx\n"))
    with pytest.raises(ConfigError, match=r"sources.surveys.language: .*unknown language 'xx'"):
        load_sources(path)
    path = make_world(tmp_path, sources=sources_yaml.replace(
        "    value: revenue\n", "    value: revenue\n    language: pt\n"))
    with pytest.raises(ConfigError, match=r"sources.orders: .*'language' names the language"):
        load_sources(path)
    path = make_world(tmp_path, sources=sources_yaml.replace(
        "    verbatim: verbatim\n", "    verbatim: verbatim\n    language: ' PT'\n"))
    assert load_sources(path).sources["surveys"].language == "pt"
