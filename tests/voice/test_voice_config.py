"""The run YAML's ``voice`` section and its mapping onto notebook 15's parameters."""

import pytest
import yaml

from cxkit.config import PARAMS_DIR, ConfigError, load_config
from cxkit.runner import NOTEBOOKS, check_parameters, notebook_parameters
from cxkit.config import NOTEBOOKS_DIR

BASE = {"ingest": {"sources": "sources/sample.yaml"},
        "drivers": {"outcome": "nps", "drivers": ["rating_app", "gap_delivery"],
                    "segments": ["region"]}}


def _cfg(tmp_path, **voice):
    p = tmp_path / "run.yaml"
    p.write_text(yaml.safe_dump(dict(BASE, voice={"text": "verbatim", **voice})))
    return load_config(p)


def test_no_voice_section_skips_notebook_15(tmp_path):
    p = tmp_path / "run.yaml"
    p.write_text(yaml.safe_dump(BASE))
    assert "no verbatim column" in load_config(p).skipped_steps()["15_voice"]


def test_defaults_and_mapping(tmp_path):
    cfg = _cfg(tmp_path)
    assert (cfg.voice.language, cfg.voice.n_topics, cfg.voice.min_n) == ("auto", 6, 30)
    p = notebook_parameters(cfg, "15_voice", "/r")
    # empty voice.segments: notebook 15 uses the driver segments (SEGMENTS cell)
    assert p["segments"] == [] and p["driver_segments"] == ["region"]
    assert p["drivers"] == ["rating_app", "gap_delivery"] and p["olist_sources"] == ""
    cfg = _cfg(tmp_path, language="pt", n_topics=8, segments=["plan"], topic_drivers=False)
    p = notebook_parameters(cfg, "15_voice", "/r")
    assert (p["language"], p["n_topics"], p["segments"], p["topic_drivers"]) == (
        "pt", 8, ["plan"], False)


def test_bad_values_are_errors_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match="voice.language"):
        _cfg(tmp_path, language="it")
    with pytest.raises(ConfigError, match="voice.n_topic"):
        _cfg(tmp_path, n_topic=5)


def test_notebook_15_runs_after_10_and_declares_every_mapped_parameter():
    assert NOTEBOOKS.index("15_voice") == NOTEBOOKS.index("10_ingest_journeys") + 1
    for name in ("sample.yaml", "smoke.yaml", "olist.yaml"):
        cfg = load_config(PARAMS_DIR / name)
        check_parameters(NOTEBOOKS_DIR / "15_voice.ipynb",
                         notebook_parameters(cfg, "15_voice", "/r"))
