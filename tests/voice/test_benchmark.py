"""benchmarks/voice.py stays runnable and its fast and naive paths agree."""

import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("bench_voice", ROOT / "benchmarks" / "voice.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fast_and_naive_agree_on_a_small_run():
    bench = _load()
    data = bench.generate(4000, seed=1)
    assert len(data) == 4000 and data["verbatim"].str.len().between(5, 200).all()
    model, scored, seconds = bench.run_cxkit(data, fit_sample=2000)
    naive, _ = bench.run_naive(model, data["verbatim"].head(300).tolist())
    same = (naive["topic"].to_numpy() == scored["topic"].head(300).to_numpy()).mean()
    assert same >= 0.97, same
    r = np.corrcoef(naive["sentiment"], scored["sentiment"].head(300))[0, 1]
    assert r > 0.8, r
