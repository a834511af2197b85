from __future__ import annotations

import pandas as pd
import pytest

from cxkit import publish


def test_save_and_read_table_roundtrip(tmp_path):
    df = pd.DataFrame({"driver": ["a", "b"], "importance": [0.5, 0.25]})
    path = publish.save_table(df, tmp_path, "scenarios")
    assert path == tmp_path / "tables" / "scenarios.parquet"
    pd.testing.assert_frame_equal(publish.read_table(tmp_path, "scenarios"), df)


def test_save_table_rejects_non_frames_and_read_names_what_exists(tmp_path):
    with pytest.raises(TypeError, match="expected a pandas DataFrame, got Series"):
        publish.save_table(pd.Series([1]), tmp_path, "s")
    publish.save_table(pd.DataFrame({"a": [1]}), tmp_path, "funnel")
    with pytest.raises(FileNotFoundError, match=r"tables in this run: \['funnel'\]"):
        publish.read_table(tmp_path, "scenarios")


def test_model_dir_created(tmp_path):
    assert publish.model_dir(tmp_path, "drivers") == tmp_path / "models" / "drivers"
    assert (tmp_path / "models" / "drivers").is_dir()


def test_flag_failed_gate_records_only_failures(tmp_path, capsys):
    assert publish.flag_failed_gate(tmp_path, {"passed": True, "failures": []},
                                    model="drivers") is None
    assert publish.read_warnings(tmp_path) == []
    msg = publish.flag_failed_gate(
        tmp_path, {"passed": False, "failures": ["r_hat: max 1.2000 >= 1.01"]}, model="value")
    assert "value model: convergence gate FAILED" in msg and "r_hat: max 1.2000" in msg
    (w,) = publish.read_warnings(tmp_path)
    assert w["kind"] == "gate_failed" and w["message"] == msg
    assert msg in capsys.readouterr().out


def test_package_versions_and_watermark():
    versions = publish.package_versions(("pandas", "surely-not-installed-pkg"))
    assert versions["pandas"] == pd.__version__
    assert versions["surely-not-installed-pkg"] is None and versions["python"]
    wm = publish.watermark()
    assert list(wm.columns) == ["package", "version"] and "pymc" in set(wm["package"])


def test_read_parquet_and_read_table_use_todays_interval_names(tmp_path):
    from cxkit.publish import read_parquet, read_table

    (tmp_path / "tables").mkdir()
    legacy = pd.DataFrame({"effect_mean": [0.5], "effect_hdi_low": [0.1],
                           "effect_hdi_high": [0.9], "note_hdi": ["kept"]})
    legacy.to_parquet(tmp_path / "tables" / "driver_importance.parquet", index=False)
    want = ["effect_mean", "effect_low", "effect_high", "note_hdi"]
    assert list(read_parquet(tmp_path / "tables" / "driver_importance.parquet").columns) == want
    assert list(read_table(tmp_path, "driver_importance").columns) == want
