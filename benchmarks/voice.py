"""Benchmark verbatims -> topics and sentiment (issue #13, criterion 6).

Target: 1,000,000 short verbatims to topic weights, flags and a sentiment score in at most
60 s on 2 cores. ``cxkit`` = ``cxkit.voice.fit_topics(data, fit_sample=50_000)`` end to end:
language detection, TF-IDF + NMF fitted on a 50,000-comment sample, then every comment
tokenised once and scored with sparse products (stems and lexicon work per distinct word).

Baseline, printed side by side: the naive way, one Python call chain per comment (fold,
tokenise, drop stop words, Snowball-stem each token, build the TF-IDF row, ``nmf.transform``
of one row, VADER's ``polarity_scores``), timed on ``--naive-rows`` comments and scaled to
the full size. Both use the same fitted model; the script checks they give the same main
topic for the naive rows.

Usage::

    .venv/bin/python benchmarks/voice.py                  # 1,000,000 comments
    .venv/bin/python benchmarks/voice.py --rows 100000 --naive-rows 2000
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cxkit.simulate.verbatim import make_verbatims  # noqa: E402
from cxkit.voice.language import TOKEN_PATTERN, fold, stem_words, stop_words  # noqa: E402
from cxkit.voice.topics import fit_topics  # noqa: E402

TARGET_S = 60.0


def generate(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` short English comments from the sample's topic generator, random scores."""
    rng = np.random.default_rng(seed)
    ratings = {k: rng.integers(1, 6, n) for k in ("rating_product", "rating_app",
                                                  "rating_price")}
    text, _ = make_verbatims(rng.integers(0, 11, n), ratings, rng.random(n) < 0.08,
                             rng.normal(-1, 2, n), rng)
    return pd.DataFrame({"response_id": np.arange(n), "verbatim": text})


def run_cxkit(data: pd.DataFrame, *, fit_sample: int = 50_000, n_topics: int = 6):
    t0 = time.perf_counter()
    model, scored = fit_topics(data, language="en", n_topics=n_topics, seed=42,
                               fit_sample=fit_sample)
    return model, scored, time.perf_counter() - t0


def run_naive(model, texts: list[str]) -> tuple[pd.DataFrame, float]:
    """One comment at a time: what a first notebook would write."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    stops = stop_words("en")
    col = {s: j for j, s in enumerate(model.stems)}
    token = re.compile(TOKEN_PATTERN)
    idf = model.tfidf.idf_
    t0 = time.perf_counter()
    rows = []
    for t in texts:
        words = [fold(w) for w in token.findall(t.lower())]
        words = [w for w in words if w not in stops and len(w) > 2]
        counts: dict[int, int] = {}
        for s in stem_words(words, "en"):
            if s in col:
                counts[col[s]] = counts.get(col[s], 0) + 1
        x = np.zeros((1, len(col)))
        for j, c in counts.items():
            x[0, j] = (1 + np.log(c)) * idf[j]
        if x.any():
            x /= np.linalg.norm(x)
        w = model.nmf.transform(x)[0][np.argsort(model.order)]
        rows.append({"topic": int(w.argmax() + 1) if w.sum() > 0 else 0,
                     "sentiment": vader.polarity_scores(t)["compound"]})
    return pd.DataFrame(rows), time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--naive-rows", type=int, default=5_000)
    ap.add_argument("--fit-sample", type=int, default=50_000)
    a = ap.parse_args(argv)
    load = os.getloadavg()
    print(f"cores: {os.cpu_count()}, load average before: {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}")
    t0 = time.perf_counter()
    data = generate(a.rows)
    print(f"generated {a.rows:,} comments in {time.perf_counter() - t0:.1f} s "
          f"(mean {data['verbatim'].str.len().mean():.0f} characters; not timed below)")
    model, scored, fast = run_cxkit(data, fit_sample=a.fit_sample)
    n = min(a.naive_rows, a.rows)
    naive, naive_s = run_naive(model, data["verbatim"].head(n).tolist())
    naive_full = naive_s * a.rows / n
    same = (naive["topic"].to_numpy() == scored["topic"].head(n).to_numpy()).mean()
    r = np.corrcoef(naive["sentiment"], scored["sentiment"].head(n))[0, 1]
    print(f"\n{'variant':<34}{'seconds':>10}{'per 1k':>10}")
    print(f"{'cxkit fit_topics (all rows)':<34}{fast:>10.1f}{1000 * fast / a.rows:>10.3f}")
    print(f"{'naive per-row Python (scaled)':<34}{naive_full:>10.1f}"
          f"{1000 * naive_s / n:>10.3f}   ({n:,} rows timed: {naive_s:.1f} s)")
    print(f"speed-up: {naive_full / fast:.0f}x; same main topic on {same:.1%} of the timed "
          f"rows; sentiment correlation with VADER's full rules {r:.3f}")
    print(model.topics.to_string(index=False))
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f}")
    scaled = fast * 1_000_000 / a.rows
    verdict = "MET" if scaled <= TARGET_S else "NOT MET"
    print(f"target <= {TARGET_S:.0f} s per 1,000,000 comments: {verdict} "
          f"({scaled:.1f} s scaled to 1M)")
    return 0 if verdict == "MET" else 1


if __name__ == "__main__":
    sys.exit(main())
