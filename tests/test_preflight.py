"""cxkit.preflight: every problem of a run's YAMLs, files and columns, before any notebook."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from cxkit import runner
from cxkit.config import PARAMS_DIR, ConfigError, load_config
from cxkit.preflight import output_columns, run_problems, validate_run

EXAMPLES = PARAMS_DIR / "examples"


@pytest.mark.parametrize("name", ["sample", "smoke", "olist", "examples/survey",
                                  "examples/snapshot", "examples/orders_flat",
                                  "examples/journeys"])
def test_committed_run_yamls_are_ready(name):
    if name == "olist" and not (PARAMS_DIR.parents[1] / "shared" / "data" / "olist_sample").is_dir():
        pytest.skip("Olist sample not present")
    validate_run(load_config(PARAMS_DIR / f"{name}.yaml"))


def test_output_columns_follow_the_sources_yaml():
    from cxkit.ingest import load_sources
    from cxkit.ingest.config import load_catalog

    spec = load_sources(EXAMPLES / "sources" / "orders_flat.yaml")
    cols = output_columns(spec, load_catalog(spec.resolve(spec.catalog)))
    assert cols["customers"] == ["customer_id", "region", "plan", "cohort"]
    for c in ("recommend", "rating_product", "link", "gap_delivery", "never_delivery"):
        assert c in cols["responses"]


def test_every_problem_is_listed_at_once(tmp_path):
    """Bad columns in the run YAML, a missing data file and a blank header cell: one error."""
    src = tmp_path / "sources"
    shutil.copytree(EXAMPLES / "sources", src)
    shutil.copytree(EXAMPLES / "catalog", tmp_path / "catalog")
    data = tmp_path / "data"
    data.mkdir()
    text = (Path(runner.config.PROJECT_ROOT) / "tests/fixtures/shapes/orders_flat.csv").read_text()
    (data / "orders_flat.csv").write_text("," + text.split(",", 1)[1])  # first header cell blank
    doc = yaml.safe_load((src / "orders_flat.yaml").read_text())
    for s in doc["sources"].values():
        s["path"] = str(data / "orders_flat.csv")
    doc["sources"]["orders"]["path"] = str(data / "nowhere.csv")
    (src / "orders_flat.yaml").write_text(yaml.safe_dump(doc))
    run = yaml.safe_load((EXAMPLES / "orders_flat.yaml").read_text())
    run["drivers"]["drivers"] = ["rating_product", "gap_dellivery"]
    run["drivers"]["segments"] = ["Region"]
    run["value"]["segment"] = "tier"
    run["journeys"]["gap_segments"] = ["plan", "channel"]
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(run))
    problems = run_problems(load_config(path))
    text = "\n".join(problems)
    assert "sources.orders.path: no file matches" in text
    assert "orders_flat.csv: header cell at column 1 is blank" in text
    assert "drivers.drivers: 'gap_dellivery' is not a column of the responses table" in text
    assert "drivers.segments: 'Region' is not a column" in text and "Did you mean 'region'?" in text
    assert "value.segment/segments: 'tier'" in text
    assert "journeys.gap_segments: 'channel'" in text
    assert "value.scenarios.0.driver: 'gap_delivery' is not a driver" in text
    with pytest.raises(ConfigError, match=rf"{len(problems)} problem\(s\) found before running"):
        validate_run(load_config(path))
    # cxkit run stops with exit code 2 before any notebook starts
    assert runner.run(path, run_id="x") == 2
    assert not (tmp_path / ".." / "reports" / "x").exists()


def test_snapshot_and_value_without_revenue(tmp_path):
    run = yaml.safe_load((EXAMPLES / "snapshot.yaml").read_text())
    run["ingest"]["sources"] = str(EXAMPLES / "sources" / "snapshot.yaml")
    run["value"]["snapshot"]["path"] = str(EXAMPLES / run["value"]["snapshot"]["path"])
    run["value"]["snapshot"]["churned"] = "churn"
    run["value"]["segment"] = "segment_geo_x"
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(run))
    text = "\n".join(run_problems(load_config(path)))
    assert "value.snapshot: 'churn' is not a column of the snapshot" in text
    assert "value.segment: 'segment_geo_x' is not one of value.snapshot.segments" in text
    survey = yaml.safe_load((EXAMPLES / "survey.yaml").read_text())
    survey["ingest"]["sources"] = str(EXAMPLES / "sources" / "survey.yaml")
    survey["value"] = {"segment": "region"}
    path.write_text(yaml.safe_dump(survey))
    assert any("no events source" in p and "declares 'value'" in p
               for p in run_problems(load_config(path)))
