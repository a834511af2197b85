"""The benchmark scripts stay runnable, and the ingestion benchmark's two implementations
(cxkit and the plain pandas baseline it is compared against) agree on every count."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ingest_benchmark_cxkit_and_pandas_agree(tmp_path):
    bench = _load("ingest")
    bench.generate(tmp_path, 20_000, 400)
    for ext in ("csv", "parquet"):
        c = bench.run_cxkit(tmp_path, ext)
        p = bench.run_pandas(tmp_path, ext)
        assert c["rows"] == p["rows"] == 20_000
        assert (c["kept"], c["quarantined"], c["journeys"]) == (p["kept"], p["quarantined"], p["journeys"])
        # The same rows (file row numbers) quarantined for the same reasons.
        assert c["quarantine_digest"] == p["quarantine_digest"]
        # Every injected kind of bad row is found (2 exact duplicates at this size).
        assert set(c["by_reason"]) == {"missing_id", "orphan", "bad_timestamp", "unknown_touchpoint",
                                       "duplicate_event"}
        assert c["by_reason"]["duplicate_event"] == 2
        assert sum(c["by_reason"].values()) == c["quarantined"]


def test_encoding_benchmark_runs_and_its_file_is_valid_utf8_with_accents(tmp_path, capsys):
    bench = _load("encoding")
    assert bench.main(["--rows", "5000", "--repeat", "1", "--data", str(tmp_path)]) == 0
    text = (tmp_path / "encoding_5000.csv").read_bytes().decode("utf-8")
    assert text.count("entrega rápida, ótimo") == 100  # every 50th of 5,000 rows
    out = capsys.readouterr().out
    assert "DuckDB read_csv count (baseline)" in out and "x DuckDB scan" in out


def test_driver_survey_case_and_mle_floor():
    """The issue #9 benchmark case: its shape, its separated cell, and the MLE floor's output."""
    bench = _load("drivers")
    data, truth = bench.survey_data(3000, "bernoulli", seed=0)
    assert len(data) == 3000 and len(truth["segments"]) == 6
    assert [c for c in data.columns if c.startswith("rating_")] == list(bench.SURVEY_DRIVERS)
    assert truth["separated"] == [{**bench.SURVEY_SEPARATED, "kind": "quasi-complete"}]
    floor = bench.mle_floor(data, "bernoulli")
    assert sorted(floor["coefs"]) == sorted(truth["segments"])
    # Away from the separated cell the MLE is near the truth for the largest effect.
    assert abs(floor["coefs"]["S2|a"]["rating_product"] - truth["beta"]["S2|a"]["rating_product"]) < 0.3


def test_journeys_benchmark_runs_both_ways(capsys):
    bench = _load("journeys")
    assert bench.main(["--rows", "5000", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("5,000 events,") and out.count("journeys / events =") == 3
