"""cxkit.ingest.catalog: the touchpoint catalog YAML, its rules and their errors."""

import pytest

from cxkit.ingest import ConfigError
from cxkit.ingest.catalog import UNITS, load_catalog


def test_catalog_stage_must_be_declared(tmp_path):
    (tmp_path / "c.yaml").write_text("stages: [a]\ntouchpoints:\n  x: {stage: b, channel: web}\n")
    with pytest.raises(ConfigError, match=r"touchpoints.x.stage: 'b' is not one of stages"):
        load_catalog(tmp_path / "c.yaml")


def test_rule_needs_its_fields(tmp_path):
    bad = "stages: [s]\ntouchpoints:\n  t: {stage: s, channel: c, rule: {kind: sla_vs_actual, actual: a}}\n"
    (tmp_path / "c.yaml").write_text(bad)
    with pytest.raises(ConfigError, match=r"rule kind 'sla_vs_actual' needs \['start', 'target'\]"):
        load_catalog(tmp_path / "c.yaml")


def test_sample_catalog_loads_with_rules_in_catalog_order():
    from cxkit.config import PARAMS_DIR
    from cxkit.ingest import config

    cat = load_catalog(PARAMS_DIR / "catalog" / "sample.yaml")
    assert cat.touchpoints["order"].stage == "purchase"
    assert cat.rule_touchpoints == [n for n, t in cat.touchpoints.items() if t.rule is not None]
    assert cat.rule_touchpoints  # delivery and ticket promises
    assert UNITS["hours"] == 3600.0
    assert config.load_catalog is load_catalog  # still importable where it used to live
