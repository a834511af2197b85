"""benchmarks/value.py stays runnable, and its two sides agree (it asserts so itself)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_value_benchmark_runs_small_and_both_sides_agree(capsys):
    spec = importlib.util.spec_from_file_location("bench_value", ROOT / "benchmarks" / "value.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    res = bench.main(["--customers", "400", "--draws", "60", "--initiatives", "10",
                      "--loop-customers", "80", "--loop-initiatives", "10"])
    assert res["draw_rows"] == 10 * 60 and res["initiatives"] == 10
    assert res["loop_subsample"] == "10 initiatives x 80 customers"
    assert "pandas loop on 10 x 80" in capsys.readouterr().out
