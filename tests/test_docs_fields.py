"""Every field of every YAML is documented: sources YAML and catalog in docs/SOURCES.md, run
YAMLs in the README table (tests/test_parameters.py) and the walk-through in
docs/YOUR_DATA.md names every example."""

from __future__ import annotations

import pytest

from cxkit.config import PARAMS_DIR, PROJECT_ROOT
from cxkit.ingest import config as ic

SOURCES_DOC = (PROJECT_ROOT / "docs" / "SOURCES.md").read_text(encoding="utf-8")
YOUR_DATA = (PROJECT_ROOT / "docs" / "YOUR_DATA.md").read_text(encoding="utf-8")
MODELS = [ic.SourcesSpec, ic.IdentitySpec, ic.SourceSpec, ic.TimestampSpec, ic.TouchpointSpec,
          ic.LookupStep, ic.EnrichSpec, ic.ScoreSpec, ic.CohortSpec, ic.Catalog,
          ic.TouchpointDef, ic.Rule]
NOT_YAML = {"base_dir", "file"}  # set by the loader, not in a YAML


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_sources_and_catalog_field_is_in_sources_md(model):
    missing = [f for f in model.model_fields if f not in NOT_YAML and f"`{f}`" not in SOURCES_DOC]
    assert not missing, f"docs/SOURCES.md does not document {model.__name__} fields {missing}"


def test_your_data_walks_through_every_example():
    examples = sorted(p.name for p in (PARAMS_DIR / "examples").glob("*.yaml"))
    assert examples
    for name in examples:
        assert f"params/examples/{name}" in YOUR_DATA, name
    for shape in ("journeys", "survey", "snapshot", "orders_flat"):
        assert f"params/examples/sources/{shape}.yaml" in YOUR_DATA or shape == "journeys"
