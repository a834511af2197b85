"""Unit tests of the dashboard App and its table logic, without a browser or a kernel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxkit import dashboard
from cxkit.dashboard import (App, hdi, journey_view, load_run, quadrant_summary, run_warnings,
                             voila_command, voila_env, what_if)

PROJECT_ROOT = Path(dashboard.__file__).resolve().parents[1]
NOTEBOOK = PROJECT_ROOT / "dashboards" / "cx_overview.ipynb"


# -- loading ---------------------------------------------------------------------------

def test_load_complete_run(run_dir, fx):
    run = load_run(run_dir)
    assert run.problems == []
    assert run.manifest["run_id"] == fx.RUN_ID
    assert set(run.tables) == {"driver_importance", "scenarios", "quadrants", "journey_gaps",
                               "scenario_draws"}


def test_missing_run_dir_gives_message_not_error(tmp_path):
    app = App(tmp_path / "nope")
    assert len(app.run.problems) == 1
    assert str(tmp_path / "nope") in app.message.value and "make run" in app.message.value
    assert app.tabs.children == ()
    assert app.tabs not in app.container.children


def test_missing_table_is_named_and_its_tab_left_out(run_factory):
    run_dir = run_factory(skip=("scenarios",))
    app = App(run_dir)
    assert any("tables/scenarios.parquet is missing" in p and "make run" in p
               for p in app.run.problems)
    assert "scenarios.parquet" in app.message.value
    assert list(app.tabs.titles) == ["Drivers", "Customers", "Journey"]


def test_missing_columns_and_bad_manifest_are_reported(run_factory):
    run_dir = run_factory()
    pd.DataFrame({"touchpoint": ["x"]}).to_parquet(run_dir / "tables" / "journey_gaps.parquet")
    (run_dir / "manifest.json").write_text('{"run_id": "x",\n  "status": }', encoding="utf-8")
    problems = load_run(run_dir).problems
    gap = [p for p in problems if "journey_gaps.parquet" in p]
    assert len(gap) == 1 and "'segment_var'" in gap[0] and "'share_met'" in gap[0]
    bad = [p for p in problems if "manifest.json" in p]
    assert len(bad) == 1 and "line 2" in bad[0]


# -- header and banner -----------------------------------------------------------------

def test_header_shows_run_and_no_banner_when_ok(run_dir, fx):
    app = App(run_dir)
    assert fx.RUN_ID in app.header.value
    assert "2024-05-01T06:20:00+00:00" in app.header.value
    assert app.warnings == [] and app.banner.value == ""


def test_banner_for_overridden_gate_and_bad_status(run_factory):
    run_dir = run_factory(manifest_overrides={
        "status": "gate_overridden",
        "warnings": [{"kind": "gate_failed", "message": "r_hat 1.08 > 1.01 for beta"}]})
    app = App(run_dir)
    assert app.warnings[0].startswith("The convergence gate FAILED")
    assert any("r_hat 1.08" in w for w in app.warnings)
    assert any("'gate_overridden'" in w for w in app.warnings)
    assert "cx-banner" in app.banner.value and "r_hat 1.08 &gt; 1.01" in app.banner.value


def test_banner_reads_warnings_json_when_manifest_has_none(run_dir):
    (run_dir / "warnings.json").write_text(json.dumps(
        [{"kind": "gate_failed", "message": "ess 80 < 400"}]), encoding="utf-8")
    warnings = run_warnings(load_run(run_dir))
    assert len(warnings) == 2 and "ess 80 < 400" in warnings[1]


# -- Drivers ---------------------------------------------------------------------------

def test_segment_dropdown_filters_importance(run_dir, fx):
    app = App(run_dir)
    assert list(app.segment.options) == ["North", "South"]  # sorted, whatever the file order
    pngs = []
    for segment, drivers in fx.SEGMENTS.items():
        app.segment.value = segment
        table = app.importance_table
        expected = sorted(drivers, key=lambda d: -drivers[d][0])
        assert table["driver"].tolist() == expected
        assert table["rank"].tolist() == [1, 2, 3, 4]
        top = expected[0]
        assert table["importance_mean"].iloc[0] == pytest.approx(drivers[top][0])
        assert table["p_top3"].iloc[0] == pytest.approx(drivers[top][1])
        assert f"<td>{top}</td>" in app.importance_html.value
        assert bytes(app.drivers_plot.value).startswith(b"\x89PNG")
        pngs.append(bytes(app.drivers_plot.value))
        ax = app.figures["drivers"].axes[0]
        assert len(ax.patches) == 4 and segment in ax.get_title()
        # barh draws bottom-up, so the top driver is the last tick label
        assert ax.get_yticklabels()[-1].get_text() == top
    assert pngs[0] != pngs[1]


# -- Initiatives -----------------------------------------------------------------------

def test_scenarios_ranked_and_what_if_scales_draws(run_dir, fx):
    app = App(run_dir)
    assert app.scenarios_table["scenario"].tolist() == [
        "faster delivery", "cheaper plan", "app redesign"]
    assert not app.scale.disabled
    draws = fx.scenario_draws()
    d = draws.loc[draws.scenario == "cheaper plan", "delta_revenue"].to_numpy()

    app.scenario.value = "cheaper plan"
    app.scale.value = 0.5
    row = app.whatif_table.iloc[0]
    assert row["source"] == "draws" and row["delta"] == pytest.approx(-0.25)
    assert row["delta_revenue_mean"] == pytest.approx(0.5 * d.mean())
    low, high = hdi(d)
    assert (row["delta_revenue_hdi_low"], row["delta_revenue_hdi_high"]) == pytest.approx(
        (0.5 * low, 0.5 * high))
    assert row["p_positive"] == pytest.approx((d > 0).mean())

    app.scale.value = 0.0
    row = app.whatif_table.iloc[0]
    assert row["delta_revenue_mean"] == 0.0 and row["p_positive"] == 0.0


def test_what_if_without_draws_shows_summary_only(run_factory):
    app = App(run_factory(with_draws=False))
    assert app.scale.disabled
    row = app.whatif_table.iloc[0]
    saved = app.scenarios_table.iloc[0]
    assert row["source"] == "summary"
    assert row["delta_revenue_mean"] == pytest.approx(saved["delta_revenue_mean"])
    with pytest.raises(ValueError, match="scenario_draws.parquet.*scale=2"):
        what_if(app.scenarios_table, "faster delivery", 2.0)
    with pytest.raises(KeyError, match="'nope' not in scenarios"):
        what_if(app.scenarios_table, "nope")


def test_hdi_recovers_analytic_intervals():
    rng = np.random.default_rng(3)
    # normal: symmetric +-1.881 sd; exponential: the HDI starts at 0 and ends at -ln(0.06)
    # (the centre of a flat-topped interval is noisy, its width is not)
    low, high = hdi(rng.normal(0, 1, 200_000), 0.94)
    assert high - low == pytest.approx(2 * 1.881, abs=0.02) and abs(low + high) < 0.1
    assert hdi(rng.exponential(1.0, 200_000), 0.94) == pytest.approx((0.0, -np.log(0.06)),
                                                                       abs=0.02)
    assert hdi(np.arange(101.0), 0.5) == (0.0, 50.0)
    assert np.isnan(hdi(np.array([np.nan]))[0])


# -- Customers -------------------------------------------------------------------------

def test_region_and_plan_filters_quadrant_table(run_dir, fx):
    app = App(run_dir)
    q = fx.quadrants()
    assert app.quadrant_table["n_customers"].sum() == len(q)
    assert app.quadrant_table["quadrant"].tolist() == ["Model", "Growth", "At-risk",
                                                       "Dangling"]
    app.region.value = "North"
    app.plan.value = "basic"
    sub = q[(q.region == "North") & (q.plan == "basic")]
    table = app.quadrant_table.set_index("quadrant")
    for quad in ("Model", "Growth", "At-risk", "Dangling"):
        rows = sub[sub.quadrant == quad]
        assert table.loc[quad, "n_customers"] == len(rows)
        assert table.loc[quad, "revenue_pre"] == pytest.approx(rows.revenue_pre.sum())
    # even ids only in North, and Dangling is i % 6 == 5: an empty quadrant stays, as zero
    assert table.loc["Dangling", "n_customers"] == 0
    assert np.isnan(table.loc["Dangling", "revenue_pre_mean"])
    assert table["share_customers"].sum() == pytest.approx(1.0)


def test_quadrant_summary_rejects_unknown_filter(fx):
    with pytest.raises(KeyError, match="no column 'country'"):
        quadrant_summary(fx.quadrants(), country="BR")


# -- Journey ---------------------------------------------------------------------------

def test_journey_filters(run_dir, fx):
    app = App(run_dir)
    assert list(app.segment_var.options) == ["region", "plan"]
    assert set(app.journey_table["segment_var"]) == {"region"}
    assert app.journey_table["share_met"].is_monotonic_increasing
    app.segment_var.value = "plan"
    app.touchpoint.value = "support"
    assert app.journey_table[["touchpoint", "segment_value"]].values.tolist() == [
        ["support", "pro"], ["support", "basic"]]
    assert app.journey_table["share_met"].tolist() == pytest.approx([0.8, 0.9])
    assert journey_view(fx.journey_gaps()).shape[0] == 8


# -- no sampling, no model code --------------------------------------------------------

def test_app_does_not_import_pymc(run_dir):
    # a fresh interpreter: other tests in this process may have imported pymc already
    code = ("import sys; from cxkit.dashboard import App; App(sys.argv[1]); "
            "bad = [m for m in ('pymc', 'pytensor', 'nutpie', 'cxkit.drivers', 'cxkit.value') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code, str(run_dir)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_notebook_is_four_cells_without_model_code():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cells = _code_cells(nb)
    assert len(cells) == 4
    assert cells[1]["metadata"].get("tags") == ["parameters"]
    assert "".join(cells[3]["source"]).strip() == "app.container"
    source = "\n".join("".join(c["source"]) for c in nb["cells"])
    for forbidden in ("pymc", "pm.sample", "fit_", "nutpie", "sample("):
        assert forbidden not in source, forbidden
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in cells), \
        "strip outputs before committing the dashboard notebook"


def test_notebook_matches_its_jupytext_twin():
    import jupytext

    twin = jupytext.read(NOTEBOOK.with_suffix(".py"))
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert [c.source for c in twin.cells if c.cell_type == "code"] == [
        "".join(c["source"]) for c in _code_cells(nb)]


# -- serving ---------------------------------------------------------------------------

def test_voila_command_binds_loopback_and_keeps_token_off_argv(tmp_path):
    cmd = voila_command(NOTEBOOK, port=8899)
    assert cmd[:3] == [sys.executable, "-m", "voila"]
    for flag in ("--no-browser", "--port=8899", "--Voila.ip=127.0.0.1",
                 "--Voila.auto_token=True", "--strip_sources=True", "--Voila.port_retries=0"):
        assert flag in cmd
    assert not any(part.startswith(("--token", "--Voila.token")) for part in cmd)
    env = voila_env(tmp_path / "run", "s3cret", base={})
    assert env == {"JUPYTER_TOKEN": "s3cret", "CXKIT_RUN_DIR": str(tmp_path / "run")}


def test_refuses_remote_bind_and_empty_token(tmp_path):
    with pytest.raises(ValueError, match="non-loopback address '0.0.0.0'.*allow_remote"):
        voila_command(NOTEBOOK, port=8866, ip="0.0.0.0")
    assert "--Voila.ip=0.0.0.0" in voila_command(NOTEBOOK, port=8866, ip="0.0.0.0",
                                                  allow_remote=True)
    with pytest.raises(ValueError, match="must not be empty"):
        voila_env(tmp_path, "  ")


def test_serve_missing_run_dir_returns_2(tmp_path, capsys):
    assert dashboard.serve(tmp_path / "missing", port=8866) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "missing") in err and "make run" in err


def test_serve_prints_url_with_random_token(run_dir, monkeypatch, capsys):
    seen = {}

    class FakePopen:
        def __init__(self, cmd, env):
            seen["cmd"], seen["env"] = cmd, env

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(dashboard.subprocess, "Popen", FakePopen)
    assert dashboard.serve(run_dir, port=8870) == 0
    token = seen["env"]["JUPYTER_TOKEN"]
    assert len(token) >= 32
    assert f"http://127.0.0.1:8870/?token={token}" in capsys.readouterr().out
    assert seen["env"]["CXKIT_RUN_DIR"] == str(run_dir.absolute())
    assert seen["cmd"][3] == str(NOTEBOOK)
