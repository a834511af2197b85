"""Languages of verbatims: stop words, accent folding, stemming and detection.

Everything here ships inside installed packages, nothing is downloaded: stop words come
from ``stopwordsiso`` (the stopwords-iso collection, a JSON file inside the wheel) and the
stemmers are the Snowball algorithms of ``snowballstemmer`` (pure Python code). Work is
done once per distinct word, never per response, so a million comments cost no more
stemming than the vocabulary they share.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import snowballstemmer
import stopwordsiso
from sklearn.feature_extraction.text import CountVectorizer

#: ISO 639-1 code -> Snowball stemmer name, for the languages cxkit supports.
LANGUAGES = {"pt": "portuguese", "en": "english", "es": "spanish", "de": "german",
             "fr": "french"}
#: Words after which the next word's sentiment flips (folded, lower case).
NEGATORS = {
    "en": ("not", "no", "never", "dont", "didnt", "doesnt", "isnt", "wasnt", "cant", "wont",
           "nothing", "without"),
    "pt": ("nao", "nunca", "nem", "sem", "jamais", "nada"),
    "es": ("no", "nunca", "ni", "sin", "jamas", "nada"),
    "de": ("nicht", "kein", "keine", "keinen", "nie", "niemals", "ohne", "nichts"),
    "fr": ("pas", "ne", "jamais", "sans", "rien", "aucun", "aucune"),
}
#: A word: two or more letters (accented letters included, digits and "_" excluded).
TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"


class LanguageError(ValueError):
    """A language code cxkit has no stop words or stemmer for."""


def check_language(code: str, *, where: str = "voice") -> str:
    """Return ``code`` lower-cased if supported, else raise naming the supported codes."""
    c = str(code).strip().lower()
    if c not in LANGUAGES:
        raise LanguageError(f"{where}: language {code!r} is not supported; use one of "
                            f"{sorted(LANGUAGES)} or 'auto' to detect it from the text.")
    return c


def fold(word: str) -> str:
    """Lower-case ``word`` and strip accents: ``"Não"`` -> ``"nao"``, ``"Grüße"`` -> ``"grusse"``.

    Examples
    --------
    >>> fold("Entregué"), fold("Straße")
    ('entregue', 'strasse')
    """
    w = unicodedata.normalize("NFKD", word.lower().replace("ß", "ss"))
    return "".join(ch for ch in w if not unicodedata.combining(ch))


@lru_cache(maxsize=None)
def stop_words(language: str) -> frozenset[str]:
    """Folded stop words of one language (stopwords-iso), negators included.

    Examples
    --------
    >>> "nao" in stop_words("pt") and "the" in stop_words("en")
    True
    """
    lang = check_language(language)
    words = {fold(w) for w in stopwordsiso.stopwords(lang)}
    return frozenset(words | set(NEGATORS[lang]))


@lru_cache(maxsize=None)
def _stemmer(language: str):
    return snowballstemmer.stemmer(LANGUAGES[check_language(language)])


def stem_words(words: Sequence[str], language: str) -> list[str]:
    """Snowball stems of already folded words (one call for a whole vocabulary).

    Examples
    --------
    >>> stem_words(["entrega", "entregue", "atrasado"], "pt")
    ['entreg', 'entreg', 'atras']
    """
    return _stemmer(language).stemWords(list(words))


def _distinct_stop_words(languages: Iterable[str]) -> dict[str, np.ndarray]:
    """Word -> weight per language: 1 / (number of candidate languages listing the word)."""
    langs = [check_language(c) for c in languages]
    owners: dict[str, list[int]] = {}
    for j, lang in enumerate(langs):
        for w in stop_words(lang):
            owners.setdefault(w, []).append(j)
    out = {}
    for w, js in owners.items():
        v = np.zeros(len(langs))
        v[js] = 1.0 / len(js)
        out[w] = v
    return out


def detect_language(texts: Iterable[str | None], *,
                    candidates: Sequence[str] = tuple(LANGUAGES)) -> pd.Series:
    """Guess each text's language from the stop words it uses.

    Each stop word votes for the languages whose list holds it (a word in two lists gives
    half a vote to each); the language with most votes wins. Texts with no stop word at all
    (empty, one word, emoji) get ``None``: decide those by the source's language.

    Parameters
    ----------
    texts : iterable of str or None
        The verbatims.
    candidates : sequence of str
        ISO 639-1 codes to choose among (default: all supported).

    Returns
    -------
    Series of str or None, one per text, in order.

    Examples
    --------
    >>> detect_language(["o produto chegou antes do prazo", "the parcel never came", ""]).tolist()
    ['pt', 'en', None]
    """
    s = pd.Series(list(texts), dtype=object).fillna("").astype(str)
    weights = _distinct_stop_words(candidates)
    vocab = sorted(weights)
    vec = CountVectorizer(token_pattern=TOKEN_PATTERN, vocabulary=vocab, lowercase=True,
                          strip_accents="unicode", dtype=np.float64)
    votes = vec.transform(s.to_numpy()) @ np.vstack([weights[w] for w in vocab])
    best = np.asarray(votes.argmax(axis=1)).ravel()
    found = np.asarray(votes.max(axis=1)).ravel() > 0
    codes = np.array(list(candidates), dtype=object)[best]
    return pd.Series(np.where(found, codes, None), index=s.index, dtype=object)


def dominant_language(texts: Iterable[str | None], *, declared: str = "auto",
                      candidates: Sequence[str] = tuple(LANGUAGES)) -> tuple[str, pd.Series]:
    """The language to model a set of verbatims in, and each text's detected language.

    ``declared`` other than ``"auto"`` (the source YAML's ``language``) wins; otherwise the
    most frequent detected language. A corpus with no detectable text at all is an error.
    """
    detected = detect_language(texts, candidates=candidates)
    if declared != "auto":
        return check_language(declared, where="voice.language"), detected
    counts = detected.value_counts()
    if counts.empty:
        raise LanguageError("voice: no verbatim has a recognisable word in "
                            f"{list(candidates)}; set voice.language in the run YAML.")
    return str(counts.index[0]), detected


def token_pattern(language: str) -> str:
    """Word pattern that keeps a negator and the next word together as one token.

    ``"não gostei do produto"`` gives the tokens ``"não gostei"``, ``"do"``, ``"produto"``:
    the topic model reads ``"não gostei"`` as ``"gostei"``, the sentiment lexicon flips its
    valence (as VADER does). Doing it in the tokeniser costs no extra pass over the text.

    Examples
    --------
    >>> import re
    >>> re.findall(token_pattern("pt"), "não gostei do produto")
    ['não gostei', 'do', 'produto']
    """
    lang = check_language(language)
    forms = sorted(set(NEGATORS[lang]) | {_accented(n) for n in NEGATORS[lang]},
                   key=len, reverse=True)
    word = r"[^\W\d_]{2,}"
    return rf"(?u)\b(?:(?:{'|'.join(forms)})\s+{word}|{word})\b"


class FoldingAnalyzer:
    """Tokeniser for a fitted vocabulary: tokens of :func:`token_pattern`, lower-cased; a
    token the vocabulary lacks is looked up accent-folded, so an accented word seen only
    after fitting ("péssimo") still meets its lexicon entry ("pessimo"). Picklable (a
    class, not a closure), for :class:`sklearn.feature_extraction.text.CountVectorizer`'s
    ``analyzer``.

    Examples
    --------
    >>> FoldingAnalyzer("pt", {"pessimo", "nao gostei", "entrega"})("Péssimo! Não  gostei; entrega")
    ['pessimo', 'nao gostei', 'entrega']
    """

    def __init__(self, language: str, vocabulary: Iterable[str]):
        self.pattern = re.compile(token_pattern(language))
        self.vocabulary = frozenset(vocabulary)

    def __call__(self, doc: str) -> list[str]:
        out = []
        for token in self.pattern.findall(doc.lower()):
            if token not in self.vocabulary:
                folded = " ".join(fold(token).split())
                token = folded if folded in self.vocabulary else token
            out.append(token)
        return out


def split_negated(token: str) -> tuple[str, bool]:
    """``"não gostei"`` -> ``("gostei", True)``; ``"gostei"`` -> ``("gostei", False)``."""
    head, _, tail = token.rpartition(" ")
    return (tail, True) if head else (token, False)


def _accented(word: str) -> str:
    # The few negators whose written form carries an accent.
    return {"nao": "não", "jamas": "jamás"}.get(word, word)
