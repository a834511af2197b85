"""cxkit.results.ModelResult: one save/load for the driver and value results."""

import json

import arviz as az
import numpy as np
import pandas as pd
import pytest

from cxkit.results import PROVENANCE_ATTR, ModelResult, provenance


class TinyResult(ModelResult):
    CONFIG_ATTR = "tiny_config"
    DIAGNOSTICS_ATTR = "tiny_diagnostics"
    NAME = "tiny"

    def __init__(self, idata, config, diagnostics):
        self.idata, self.config, self.diagnostics = idata, config, diagnostics

    def summary(self):
        return pd.DataFrame({"parameter": ["mu"],
                             "mean": [float(self.idata.posterior["mu"].mean())]})

    def _config_dict(self):
        return dict(self.config)

    @classmethod
    def _from_saved(cls, idata, config, diagnostics):
        return cls(idata, config, diagnostics)


def _tiny():
    idata = az.from_dict(posterior={"mu": np.arange(20.0).reshape(2, 10)})
    return TinyResult(idata, {"draws": 10, "segment": "plan"},
                      {"passed": False, "max_r_hat": np.float64(1.2), "min_ess_bulk": np.nan})


def test_save_writes_files_and_attrs_and_load_rebuilds(tmp_path):
    res = _tiny()
    out = res.save(tmp_path / "m")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "idata.nc", "summary.parquet"]
    attrs = az.from_netcdf(str(out / "idata.nc")).attrs
    assert json.loads(attrs["tiny_config"]) == {"draws": 10, "segment": "plan"}
    assert json.loads(attrs["tiny_diagnostics"])["min_ess_bulk"] is None  # standard JSON
    assert json.loads(attrs[PROVENANCE_ATTR])["cxkit"] == provenance()["cxkit"]
    back = TinyResult.load(out)
    assert back.config == res.config
    assert back.diagnostics["passed"] is False and back.diagnostics["max_r_hat"] == 1.2
    assert np.isnan(back.diagnostics["min_ess_bulk"])  # null read back as NaN
    np.testing.assert_array_equal(back.idata.posterior["mu"].values, res.idata.posterior["mu"].values)
    assert pd.read_parquet(out / "summary.parquet")["mean"].iloc[0] == pytest.approx(9.5)


def test_load_from_idata_attrs_alone(tmp_path):
    out = _tiny().save(tmp_path / "m")
    (out / "config.json").unlink()
    assert TinyResult.load(out).config == {"draws": 10, "segment": "plan"}


def test_load_of_a_missing_folder_names_it_and_the_writer(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere: no saved tiny model .*TinyResult\.save"):
        TinyResult.load(tmp_path / "nowhere")
