"""The runner on tiny fixture notebooks (tests/fixtures/notebooks), papermill-style.

Each run starts one kernel per notebook (~2 s), so runs are shared through module fixtures.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxkit import runner
from cxkit.config import load_config
from cxkit.runner import RunnerError, check_parameters, notebook_parameters

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
OK, FAILS, GATE = (FIXTURES / f"{n}.ipynb" for n in ("ok", "fails", "gate"))


def write_params(folder: Path) -> Path:
    """A run YAML whose sources YAML names a data file (to check the input hashes)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.csv").write_text("customer_id,x\nc1,1\nc2,2\n")
    (folder / "sources.yaml").write_text(yaml.safe_dump(
        {"sources": {"demo": {"path": "data.csv", "format": "csv"}}}))
    params = {"run": {"name": "fixture", "out_dir": "reports"},
              "ingest": {"sources": "sources.yaml"},
              "drivers": {"outcome": "nps", "drivers": ["rating_app"], "draws": 10, "tune": 10,
                          "chains": 1},
              "value": {"segment": "plan", "scenarios": [{"driver": "rating_app", "delta": 1.0}]}}
    path = folder / "run.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """One successful run of ok.ipynb with run id 'first'."""
    params = write_params(tmp_path_factory.mktemp("runner"))
    code = runner.run(params, run_id="first", notebooks=[OK])
    return params, code, params.parent / "reports"


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


def test_success_publishes_run_dir_tables_and_latest(good_run, capsys):
    _, code, reports = good_run
    assert code == 0
    run_dir = reports / "first"
    assert (run_dir / "ok.ipynb").is_file() and (run_dir / "ok.html").is_file()
    table = pd.read_parquet(run_dir / "tables" / "demo.parquet")
    assert table["y"].tolist() == [2, 4, 6]  # executed with the notebook's own default
    latest = reports / "latest"
    assert latest.is_symlink() and latest.readlink() == Path("first")
    assert latest.resolve() == run_dir.resolve()
    assert not list(reports.glob(".*.tmp")), "temporary folder or link left behind"


def test_manifest_records_provenance(good_run):
    params, _, reports = good_run
    m = manifest(reports / "first")
    assert m["run_id"] == "first" and m["status"] == "succeeded" and m["error"] is None
    assert m["name"] == "fixture" and m["params_file"] == str(params.resolve())
    assert m["parameters"]["drivers"]["drivers"] == ["rating_app"]
    assert m["notebook_parameters"]["ok"] == {"run_dir": str(reports / ".first.tmp")}
    assert m["started_at"] <= m["finished_at"]
    assert m["notebooks"][0]["status"] == "succeeded" and m["notebooks"][0]["html"] == "ok.html"
    assert m["versions"]["papermill"] and m["versions"]["python"]
    assert set(m["git"]) == {"commit", "dirty"}
    assert m["gate_failed"] is False and m["warnings"] == []


def test_manifest_sha256_of_inputs(good_run):
    params, _, reports = good_run
    inputs = {Path(i["path"]).name: i for i in manifest(reports / "first")["inputs"]}
    assert set(inputs) == {"run.yaml", "sources.yaml", "data.csv", "ok.ipynb"}
    for item in inputs.values():
        data = Path(item["path"]).read_bytes()
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
        assert item["bytes"] == len(data)
    assert inputs["data.csv"]["sha256"] == hashlib.sha256(
        b"customer_id,x\nc1,1\nc2,2\n").hexdigest()


def test_report_html_hides_code_but_keeps_output(good_run):
    html = (good_run[2] / "first" / "ok.html").read_text()
    assert "visible-output-plugh 12" in html
    assert "code_only_marker_xyzzy" not in html and "save_table" not in html


def test_failed_run_is_kept_and_latest_untouched(good_run, capsys):
    params, _, reports = good_run
    code = runner.run(params, run_id="second", notebooks=[OK, FAILS])
    assert code == 1
    err = capsys.readouterr().err
    assert "RUN FAILED" in err and "deliberate fixture failure" in err
    assert (reports / "latest").readlink() == Path("first")
    assert not (reports / "second").exists()
    failed = reports / "second.failed"
    m = manifest(failed)
    assert m["status"] == "failed"
    assert m["error"]["notebook"] == "fails" and m["error"]["ename"] == "ValueError"
    assert "deliberate fixture failure" in m["error"]["evalue"]
    assert [n["status"] for n in m["notebooks"]] == ["succeeded", "failed"]
    # the partial outputs stay for inspection, the failing notebook included
    assert (failed / "fails.ipynb").is_file() and (failed / "tables" / "demo.parquet").is_file()
    assert "RUN FAILED in fails" in (failed / "fails.html").read_text()


def test_allowed_gate_failure_is_flagged_in_manifest_and_report_top(tmp_path, capsys):
    params = write_params(tmp_path)
    assert runner.run(params, run_id="gated", notebooks=[GATE]) == 0
    run_dir = tmp_path / "reports" / "gated"
    m = manifest(run_dir)
    assert m["gate_failed"] is True
    assert m["warnings"][0]["message"] == "convergence gate failed: r_hat 1.2 > 1.01"
    html = (run_dir / "gate.html").read_text()
    body = html[html.index("<body"):]
    banner = body.index("convergence gate failed: r_hat 1.2")
    assert banner < body.index("GATE FAILED (allowed)"), "banner must come before the outputs"
    assert "FAILED CONVERGENCE GATE" in capsys.readouterr().err


def test_run_refuses_existing_id_and_bad_yaml(good_run, tmp_path, capsys):
    params, _, reports = good_run
    assert runner.run(params, run_id="first", notebooks=[OK]) == 2
    assert "already exists" in capsys.readouterr().err
    assert runner.run(params, run_id="../evil", notebooks=[OK]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("ingest: {sources: s.yaml}\ndrivers: {drivers: [a], outcom: nps}\n")
    assert runner.run(bad, notebooks=[OK]) == 2
    assert "Did you mean 'outcome'?" in capsys.readouterr().err


def test_check_parameters_rejects_names_missing_from_the_parameters_cell():
    check_parameters(OK, {"run_dir": "/x", "factor": 3})
    with pytest.raises(RunnerError, match=r"injects \['nope'\].*declares only \['factor', 'run_dir'\]"):
        check_parameters(OK, {"run_dir": "/x", "nope": 1})


def test_notebook_parameters_map_sections(tmp_path):
    cfg = load_config(write_params(tmp_path))
    p10 = notebook_parameters(cfg, "10_ingest_journeys", "/r")
    assert p10["sources"] == str(tmp_path / "sources.yaml") and p10["run_dir"] == "/r"
    p20 = notebook_parameters(cfg, "20_driver_model", "/r")
    assert p20["drivers"] == ["rating_app"] and p20["draws"] == 10
    assert p20["allow_failed_gate"] is False and p20["olist_sources"] == ""
    p30 = notebook_parameters(cfg, "30_revenue_impact", "/r")
    assert p30["scenarios"] == [{"driver": "rating_app", "delta": 1.0, "name": None,
                                 "clip": None}]
    assert notebook_parameters(cfg, "ok", "/r") == {"run_dir": "/r"}


def test_prepare_injects_parameters_without_executing(tmp_path):
    import nbformat

    params = write_params(tmp_path / "p")
    (out,) = runner.prepare(params, tmp_path / "nbval", notebooks=[OK])
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert f'run_dir = "{tmp_path / "nbval" / "run"}"' in injected[0].source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_inputs_of_the_sample_run_include_every_data_file_and_the_catalog():
    from cxkit.config import DATA_DIR, PARAMS_DIR

    cfg = load_config(PARAMS_DIR / "sample.yaml")
    files = runner.input_files(cfg, [])
    assert cfg.source in files and PARAMS_DIR / "sources" / "sample.yaml" in files
    assert PARAMS_DIR / "catalog" / "sample.yaml" in files
    for name in ("customers", "orders", "deliveries", "tickets", "web_events", "surveys",
                 "renewals"):
        assert DATA_DIR / "sample" / f"{name}.csv" in files
    assert len(files) == len(set(files))
