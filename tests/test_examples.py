"""The data shapes of params/examples run end to end with `cxkit run` from YAML alone.

Tiny MCMC (a child YAML extends each example with smoke-sized draws and allow_failed_gate):
these tests check the plumbing of each shape, not the fits. The flat order-level shape's
header errors are checked without sampling.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxkit import runner
from cxkit.config import PARAMS_DIR, PROJECT_ROOT

EXAMPLES = PARAMS_DIR / "examples"
SHAPES = PROJECT_ROOT / "tests" / "fixtures" / "shapes"
TINY = {"draws": 40, "tune": 40, "chains": 1, "allow_failed_gate": True}


def tiny_run(tmp_path: Path, example: str, **sections) -> tuple[int, Path]:
    child = {"extends": str(EXAMPLES / f"{example}.yaml"),
             "run": {"out_dir": str(tmp_path / "reports")}, "drivers": TINY, **sections}
    path = tmp_path / f"{example}.yaml"
    path.write_text(yaml.safe_dump(child))
    code = runner.run(path, run_id="r1")
    return code, tmp_path / "reports" / "r1"


@pytest.mark.slow
def test_survey_only_shape_runs_and_skips_what_does_not_apply(tmp_path, capsys):
    code, run = tiny_run(tmp_path, "survey")
    assert code == 0, capsys.readouterr().err[-3000:]
    manifest = json.loads((run / "manifest.json").read_text())
    status = {n["notebook"]: n["status"] for n in manifest["notebooks"]}
    assert status == {"30_revenue_impact": "skipped", "10_ingest_journeys": "succeeded",
                      "15_voice": "skipped", "20_driver_model": "succeeded"}
    skipped = [w["message"] for w in manifest["warnings"] if w["kind"] == "skipped"]
    assert any("30_revenue_impact: no value section" in m for m in skipped)
    assert any("journey analysis" in m and "no timed events" in m for m in skipped)
    assert "Step skipped" in (run / "20_driver_model.html").read_text()
    policy = pd.read_parquet(run / "tables" / "driver_data_policy.parquet").set_index("column")
    # 0 = n/a codes of the delivery rating: not out of range, missing, then the indicator
    n_na = int((pd.read_csv(SHAPES / "survey.csv")["Q2 delivery (1-5, 0=n/a)"] == 0).sum())
    assert policy.loc["rating_delivery", "policy"] == "indicator"
    assert policy.loc["rating_delivery", "rows"] == n_na > 0
    importance = pd.read_parquet(run / "tables" / "driver_importance.parquet")
    overall = importance[importance["segment"] == "All"]
    assert set(overall["driver"]) == {"rating_product", "rating_delivery", "rating_app",
                                      "rating_price", "rating_delivery_missing",
                                      "tier_plus", "tier_premium"}
    assert (overall["n"] == 1264).all()  # rows fitted
    share = pd.read_parquet(run / "tables" / "share_by_segment.parquet").set_index("segment")
    text = pd.read_csv(SHAPES / "survey.csv")["Overall"].str.lower()
    assert share.loc["All", "satisfied"] == int((text == "satisfied").sum())


@pytest.mark.slow
def test_snapshot_shape_reaches_value_model_scenarios_and_quadrants(tmp_path, capsys):
    code, run = tiny_run(tmp_path, "snapshot")
    assert code == 0, capsys.readouterr().err[-3000:]
    tables = run / "tables"
    scen = pd.read_parquet(tables / "scenarios.parquet")
    assert scen["scenario"].tolist() and set(scen["driver"]) == {"rating_delivery",
                                                                 "rating_app"}
    quad = pd.read_parquet(tables / "quadrants.parquet")
    snap = pd.read_csv(SHAPES / "snapshot.csv")
    assert len(quad) == len(snap) and set(quad["customer_id"]) == set(snap["account_no"])
    assert set(quad["quadrant"]) <= {"Model", "Growth", "At-risk", "Dangling"}
    churned = snap.set_index("account_no")["Churned?"].eq("Yes")
    assert (quad.set_index("customer_id")["active"] == ~churned).all()  # contract: active
    assert (run / "models" / "value").is_dir()


@pytest.mark.slow
def test_flat_order_export_runs_end_to_end_from_yaml_alone(tmp_path, capsys):
    """Shape (d): one order-level file read as customers, orders, deliveries and reviews."""
    code, run = tiny_run(tmp_path, "orders_flat", value={"sensitivity": False})
    assert code == 0, capsys.readouterr().err[-3000:]
    manifest = json.loads((run / "manifest.json").read_text())
    status = {n["notebook"]: n["status"] for n in manifest["notebooks"]}
    assert status == {"10_ingest_journeys": "succeeded", "15_voice": "skipped",
                      "20_driver_model": "succeeded", "30_revenue_impact": "succeeded"}
    flat = pd.read_csv(SHAPES / "orders_flat.csv")
    resp = pd.read_parquet(run / "ingest" / "responses.parquet")
    quarantine = pd.read_parquet(run / "ingest" / "quarantine.parquet")
    # every file row is a response or a quarantined row with its reason (nothing dropped)
    assert len(resp) + int((quarantine["source"] == "reviews").sum()) == len(flat)
    assert set(quarantine["reason"]) == {"bad_timestamp", "duplicate_event"}
    reviewed = int(resp["recommend"].notna().sum())
    assert 0 < reviewed < len(resp)
    policy = pd.read_parquet(run / "tables" / "driver_data_policy.parquet").set_index("column")
    assert policy.loc["recommend", ["policy", "rows"]].tolist() == ["drop", len(resp) - reviewed]
    assert policy.loc["gap_delivery", "policy"] == "never_delivery flag"
    importance = pd.read_parquet(run / "tables" / "driver_importance.parquet")
    assert (importance.loc[importance["segment"] == "All", "n"] == reviewed).all()
    nps = pd.read_parquet(run / "tables" / "nps_by_segment.parquet").set_index("segment")
    assert nps.loc["All", "n"] == reviewed
    funnel = pd.read_parquet(run / "tables" / "funnel.parquet")
    assert funnel["customers"].iloc[0] == flat["Buyer"].nunique()
    assert (funnel["reached"].diff().dropna() <= 0).all()  # no step exceeds the one before
    quad = pd.read_parquet(run / "tables" / "quadrants.parquet")
    assert quad["customer_id"].is_unique and set(quad["customer_id"]) <= set(flat["Buyer"])
    assert quad["quadrant"].value_counts().sum() == len(quad)
    at_risk = pd.read_parquet(run / "tables" / "at_risk.parquet")
    assert set(at_risk["customer_id"]) <= set(quad.loc[quad["active"], "customer_id"])
    assert (run / "tables" / "at_risk.csv").is_file()


def test_flat_export_with_blank_or_repeated_header_cells_is_refused_clearly(tmp_path, capsys):
    from cxkit.ingest import run_ingest
    from cxkit.ingest.errors import SchemaMismatchError

    header, rest = (SHAPES / "orders_flat.csv").read_text().split("\n", 1)
    cols = header.split(",")
    cols[0], cols[5] = "", "Plan"  # blank first cell; column 6 repeats column 4
    bad = tmp_path / "orders_flat.csv"
    bad.write_text(",".join(cols) + "\n" + rest)
    doc = yaml.safe_load((EXAMPLES / "sources" / "orders_flat.yaml").read_text())
    for s in doc["sources"].values():
        s["path"] = str(bad)
    doc["catalog"] = str(EXAMPLES / "catalog" / "orders_flat.yaml")
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump(doc))
    expected = (f"{bad}: header cell at column 1 is blank; column 6 'Plan' repeats column 4. "
                f"Give every column a unique name")
    with pytest.raises(SchemaMismatchError) as err:
        run_ingest(sources, tmp_path / "out", progress=False)
    assert str(err.value).startswith(expected)
    # through cxkit run: listed before any notebook, exit code 2, no traceback
    run = yaml.safe_load((EXAMPLES / "orders_flat.yaml").read_text())
    run["ingest"]["sources"] = str(sources)
    run["run"]["out_dir"] = str(tmp_path / "reports")
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(run))
    assert runner.run(path, run_id="x") == 2
    err_text = capsys.readouterr().err
    assert expected in err_text and "Traceback" not in err_text
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_fixtures_are_what_the_generator_writes(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_shapes", SHAPES / "make_shapes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "OUT", tmp_path)
    mod.main()
    for name in ("survey.csv", "snapshot.csv", "orders_flat.csv"):
        assert (tmp_path / name).read_bytes() == (SHAPES / name).read_bytes(), name
