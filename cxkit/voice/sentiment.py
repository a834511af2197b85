"""Sentiment of verbatims from a lexicon that ships with the package, scored with sparse algebra.

English uses VADER's lexicon (``vader_lexicon.txt`` inside the ``vaderSentiment`` wheel,
7,500 rated words). Portuguese, Spanish, German and French use the small lexicons in
``cxkit/resources/voice/sentiment_<lang>.yaml`` (their provenance is in each file's header):
hand-translated VADER words, so the scale is the same everywhere. Nothing is downloaded.

How the score is computed, and how it differs from VADER's own ``polarity_scores``: each
response's valences are summed (a word right after a negator counts ``-0.74`` times its
valence, VADER's ``N_SCALAR``) and squashed to ``[-1, 1]`` with VADER's ``s / sqrt(s^2 +
15)``. VADER's boosters ("very"), capitals, "but" and punctuation rules are left out: they
need a Python loop per response, and the benchmark scores a million responses in seconds.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import yaml

from cxkit.voice.language import check_language, fold, split_negated, stem_words

#: VADER's negation scalar: a negated word counts this many times its valence.
N_SCALAR = -0.74
#: VADER's normalisation constant in ``s / sqrt(s^2 + ALPHA)``.
ALPHA = 15.0


@lru_cache(maxsize=None)
def load_lexicon(language: str) -> dict[str, float]:
    """Folded word -> valence (VADER scale, -4..4) for one language.

    Examples
    --------
    >>> load_lexicon("en")["good"], load_lexicon("pt")["pessimo"]
    (1.9, -3.2)
    """
    lang = check_language(language, where="voice.sentiment")
    if lang == "en":
        text = (resources.files("vaderSentiment") / "vader_lexicon.txt").read_text("utf-8")
        lex: dict[str, float] = {}
        for line in text.splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and parts[0].isalpha():
                lex[fold(parts[0])] = float(parts[1])
        return lex
    path = resources.files("cxkit") / "resources" / "voice" / f"sentiment_{lang}.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    return {fold(str(k)): float(v) for k, v in data["valence"].items()}


@lru_cache(maxsize=None)
def _stem_lexicon(language: str) -> dict[str, float]:
    """Stem -> mean valence of the lexicon words with that stem (for inflected forms)."""
    lex = load_lexicon(language)
    words = list(lex)
    sums: dict[str, list[float]] = {}
    for stem, w in zip(stem_words(words, language), words):
        sums.setdefault(stem, []).append(lex[w])
    return {s: float(np.mean(v)) for s, v in sums.items()}


def token_valence(tokens: list[str], language: str) -> np.ndarray:
    """Sentiment weight of each vocabulary token (0 for words not in the lexicon).

    A token matches the lexicon after accent folding, or else by Snowball stem (so
    "atrasou" takes the valence of "atraso"). A negated token (``"not good"``, see
    :func:`cxkit.voice.language.token_pattern`) carries ``N_SCALAR * valence(word)``.

    Examples
    --------
    >>> token_valence(["good", "not good", "table"], "en").round(3).tolist()
    [1.9, -1.406, 0.0]
    """
    lex = load_lexicon(language)
    stem_lex = _stem_lexicon(language)
    split = [split_negated(t) for t in tokens]
    folded = [fold(t) for t, _ in split]
    stems = stem_words(folded, language)
    out = np.zeros(len(tokens))
    for i, ((_, negated), f, s) in enumerate(zip(split, folded, stems)):
        v = lex.get(f, stem_lex.get(s, 0.0))
        out[i] = N_SCALAR * v if negated else v
    return out


def compound(raw_sum: np.ndarray) -> np.ndarray:
    """VADER's squashing of a summed valence to ``[-1, 1]`` (0 stays 0).

    Examples
    --------
    >>> compound(np.array([0.0, 1.9, -30.0])).round(3).tolist()
    [0.0, 0.44, -0.992]
    """
    s = np.asarray(raw_sum, dtype=float)
    return s / np.sqrt(s * s + ALPHA)
