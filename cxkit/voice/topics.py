"""Verbatims to topics (TF-IDF + NMF from scikit-learn, seeded) and sentiment, in one pass.

The text is tokenised once into a sparse count matrix over the *surface* words seen when
fitting; folding, stop words and stemming act on that vocabulary (one Python call per
distinct word), and a sparse 0/1 matrix maps surface words to stems. Scoring a million
responses is then one tokenisation, two sparse products and NMF's ``transform``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

from cxkit._checks import require_columns
from cxkit.voice.language import (
    FoldingAnalyzer,
    LANGUAGES,
    NEGATORS,
    check_language,
    detect_language,
    dominant_language,
    fold,
    split_negated,
    stem_words,
    stop_words,
    token_pattern,
)
from cxkit.voice.sentiment import N_SCALAR, compound, load_lexicon, token_valence

N_KEYWORDS = 8


@dataclass
class TopicModel:
    """A fitted topic model: vocabulary, stem map, TF-IDF weights, NMF and sentiment weights.

    Build it with :func:`fit_topic_model`; score any texts with :meth:`transform`.
    """

    language: str
    n_topics: int
    seed: int
    min_share: float
    vectorizer: CountVectorizer
    stem_map: sp.csr_matrix            # surface word x stem, 0/1
    stems: list[str]
    tfidf: TfidfTransformer
    nmf: NMF
    valence: np.ndarray                # per surface word
    order: np.ndarray                  # NMF component -> topic number - 1 (by prevalence)
    topics: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Fitted with a language per row: one vectorizer per language, their columns side by
    # side in this order (``vectorizer`` is then the main language's).
    vectorizers: dict[str, CountVectorizer] = field(default_factory=dict)

    def feature_names(self) -> np.ndarray:
        """The surface words of the count matrix's columns."""
        if self.vectorizers:
            return np.concatenate([v.get_feature_names_out() for v in self.vectorizers.values()])
        return self.vectorizer.get_feature_names_out()

    def row_languages(self, texts: pd.Series, languages=None) -> np.ndarray:
        """Each text's language: the declared one, else detected, else the main language."""
        return _row_languages(texts, languages, fallback=self.language,
                              known=tuple(self.vectorizers) or (self.language,))

    def _counts(self, texts: pd.Series, languages=None) -> sp.csr_matrix:
        if not self.vectorizers:
            return self.vectorizer.transform(texts.to_numpy())
        lang = self.row_languages(texts, languages)
        return sp.hstack([_scatter(lang == g, v.transform(texts[lang == g].to_numpy()))
                          for g, v in self.vectorizers.items()]).tocsr()

    def transform(self, texts, languages=None) -> pd.DataFrame:
        """Topic weights, flags and sentiment for each text, in input order.

        ``languages`` (one ISO code or None per text) picks each text's stop words,
        stemmer and sentiment words when the model was fitted with a language per row;
        texts without one are detected (see :meth:`row_languages`).

        Returns
        -------
        DataFrame with ``has_verbatim`` (0/1), ``sentiment`` (-1..1, NaN without text),
        ``topic`` (the main topic number, 0 when none), ``weight_<k>`` (share of the text's
        topic weight on topic k, 0..1) and ``topic_<k>`` (0/1: the share is at least
        ``min_share``), for k = 1..n_topics.
        """
        s = pd.Series(list(texts), dtype=object).fillna("").astype(str)
        counts = self._counts(s, languages)
        has = (s.str.strip() != "").to_numpy()
        raw = counts @ self.valence
        sentiment = np.where(has, compound(raw), np.nan)
        x = self.tfidf.transform(counts @ self.stem_map)
        w = self.nmf.transform(x)[:, np.argsort(self.order)]
        total = w.sum(axis=1, keepdims=True)
        share = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
        flags = (share >= self.min_share) & (w > 0)
        main = np.where(total.ravel() > 0, share.argmax(axis=1) + 1, 0)
        out = {"has_verbatim": has.astype("int64"), "sentiment": sentiment,
               "topic": main.astype("int64")}
        for k in range(self.n_topics):
            out[f"weight_{k + 1}"] = share[:, k]
        for k in range(self.n_topics):
            out[f"topic_{k + 1}"] = flags[:, k].astype("int64")
        return pd.DataFrame(out)


def _stem_vocabulary(words: list[str], language: str, extra_stop: frozenset[str]):
    """Surface words -> (0/1 matrix to stems, stem names, surface form shown per stem)."""
    stops = stop_words(language) | extra_stop
    # A negated word ("não recebi") counts for the topic of the word itself ("recebi").
    folded = [fold(split_negated(w)[0]) for w in words]
    keep = [i for i, f in enumerate(folded) if f not in stops and len(f) > 2]
    stems = stem_words([folded[i] for i in keep], language)
    names = sorted(set(stems))
    col = {s: j for j, s in enumerate(names)}
    rows = np.array(keep, dtype=np.int64)
    cols = np.array([col[s] for s in stems], dtype=np.int64)
    m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(words), len(names)))
    return m, names


def _scatter(rows: np.ndarray, block: sp.csr_matrix) -> sp.csr_matrix:
    """``block`` (one row per True in ``rows``) placed at those rows of a len(rows) matrix."""
    idx = np.flatnonzero(rows)
    p = sp.csr_matrix((np.ones(len(idx)), (idx, np.arange(len(idx)))),
                      shape=(len(rows), len(idx)))
    return (p @ block).tocsr()


def _row_languages(texts: pd.Series, languages, *, fallback: str, known: tuple[str, ...],
                   detect: bool = True) -> np.ndarray:
    """Declared language per row (validated), detected where missing (``detect``); rows
    whose language the model does not know (or that show none) take ``fallback``."""
    lang = (pd.Series([None] * len(texts), dtype=object) if languages is None
            else pd.Series(list(languages), dtype=object))
    lang = lang.where(lang.notna() & (lang.astype(str).str.strip() != ""), None)
    for code in lang.dropna().unique():
        check_language(str(code), where="the responses' language column")
    lang = lang.str.strip().str.lower()
    missing = lang.isna().to_numpy()
    if missing.any() and detect:
        lang[missing] = detect_language(texts[missing].to_numpy()).to_numpy()
    return lang.where(lang.isin(known), fallback).to_numpy(dtype=object)


def _vocabulary(texts: pd.Series, language: str, extra_stop: frozenset[str]):
    """Counts, surface words, stem map (to local stem names) and valence of ``texts`` in
    ``language``, lexicon words appended as sentiment-only columns."""
    vec = CountVectorizer(token_pattern=token_pattern(language), lowercase=True,
                          dtype=np.float64)
    counts = vec.fit_transform(texts.to_numpy())
    words = vec.get_feature_names_out().tolist()
    stem_map, stems = _stem_vocabulary(words, language, extra_stop)
    valence = token_valence(words, language)
    # Lexicon words (and their negations) the fitting comments lack still score sentiment
    # when later comments use them: they join the vocabulary as sentiment-only columns.
    lex_words, lex_valence = _lexicon_tokens(language, exclude=set(words))
    words += lex_words
    valence = np.concatenate([valence, lex_valence])
    counts = sp.hstack([counts, sp.csr_matrix((counts.shape[0], len(lex_words)))]).tocsr()
    stem_map = sp.vstack([stem_map, sp.csr_matrix((len(lex_words), stem_map.shape[1]))]).tocsr()
    return counts, words, stem_map, stems, valence


def _lexicon_tokens(language: str, exclude: set[str]) -> tuple[list[str], np.ndarray]:
    """Lexicon words alone and after each negator (as the tokeniser writes them), minus
    ``exclude``, with their valence (a negated word: ``N_SCALAR`` times its own)."""
    lex = load_lexicon(language)
    words, values = [], []
    for w, v in sorted(lex.items()):
        for tok, val in [(w, v)] + [(f"{n} {w}", N_SCALAR * v) for n in NEGATORS[language]]:
            if tok not in exclude:
                words.append(tok)
                values.append(val)
    return words, np.array(values, dtype=float)


def fit_topic_model(texts, *, language: str = "auto", n_topics: int = 6, seed: int = 42,
                    min_share: float = 0.25, min_df: int = 3, max_df: float = 0.5,
                    max_iter: int = 400, languages=None) -> TopicModel:
    """Fit TF-IDF + NMF topics on verbatims (seeded: the same input gives the same topics).

    Parameters
    ----------
    texts : iterable of str
        Verbatims to learn topics from (empty ones are ignored). For very large corpora
        pass a random sample (a few hundred thousand) and :meth:`TopicModel.transform` all.
    language : str
        ISO 639-1 code (``pt, en, es, de, fr``) or ``"auto"``: the most frequent language
        detected from stop words. Stop words of every language that makes up at least 5% of
        the texts are removed; the stemmer is the main language's.
    n_topics : int
        Number of topics.
    seed : int
        Passed to NMF as ``random_state``. With the ``nndsvda`` start (an SVD, zeros filled
        with the mean) and coordinate descent the fit is deterministic for given texts; the
        seed also picks the probe for language detection (and, in :func:`fit_topics`, the
        fitting sample), so the same seed and data give the same topics.
    min_share : float
        A response "mentions" a topic when at least this share of its topic weight is on it.
    min_df, max_df : int, float
        A stem counts when it occurs in at least ``min_df`` texts and at most ``max_df``
        (share) of them: rarer ones are noise, commoner ones are not topics.
    languages : sequence of str or None, optional
        A language per text (the responses' ``language`` column, from the source YAML).
        Then each text is tokenised, stripped of stop words, stemmed and scored for
        sentiment in its own language (stems of all languages share one topic model);
        texts without one are detected from their stop words, and those showing none
        take ``language`` (or, with ``"auto"``, the commonest language).

    Examples
    --------
    >>> tm = fit_topic_model(["late parcel", "parcel late again", "rude support agent",
    ...                       "support agent rude"] * 5, language="en", n_topics=2, min_df=1)
    >>> sorted(tm.topics["keywords"].str.split(", ").str[0])
    ['agent', 'late']
    """
    s = pd.Series(list(texts), dtype=object).fillna("").astype(str)
    keep = (s.str.strip() != "").to_numpy()
    s = s[keep].reset_index(drop=True)
    if len(s) < max(n_topics * 5, 10):
        raise ValueError(f"fit_topic_model: {len(s)} non-empty verbatims cannot support "
                         f"{n_topics} topics; collect more comments or lower voice.n_topics.")
    if languages is not None:
        row_lang = pd.Series(list(languages), dtype=object)[keep].reset_index(drop=True)
        return _fit_per_language(s, row_lang, language=language, n_topics=n_topics,
                                 seed=seed, min_share=min_share, min_df=min_df,
                                 max_df=max_df, max_iter=max_iter)
    # The language mix is clear from a few thousand comments; detecting on all costs time.
    probe = s.sample(min(len(s), 20_000), random_state=seed) if len(s) > 20_000 else s
    lang, detected = dominant_language(probe, declared=language)
    shares = detected.value_counts(normalize=True)
    others = [c for c, p in shares.items() if c != lang and p >= 0.05 and c in LANGUAGES]
    extra = frozenset().union(*[stop_words(c) for c in others]) if others else frozenset()
    counts, words, stem_map, stems, valence = _vocabulary(s, lang, extra)
    return _fit(counts, words, stem_map, stems, valence, {lang: len(words)}, lang=lang,
                n_topics=n_topics, seed=seed, min_share=min_share, min_df=min_df,
                max_df=max_df, max_iter=max_iter, n_texts=len(s))


def _fit_per_language(s: pd.Series, row_lang: pd.Series, *, language: str, **kw) -> TopicModel:
    """:func:`fit_topic_model` with each text in its own language (see ``languages``)."""
    declared = pd.Series(_row_languages(s, row_lang, fallback="", known=tuple(LANGUAGES),
                                        detect=False))
    declared = declared[declared != ""]
    fallback = language if language != "auto" else (
        declared.value_counts().index[0] if len(declared) else dominant_language(s)[0])
    lang = _row_languages(s, row_lang, fallback=check_language(fallback),
                          known=tuple(LANGUAGES))
    codes = sorted(set(lang))
    main = pd.Series(lang).value_counts().index[0]
    blocks = {g: _vocabulary(s[lang == g], g, frozenset()) for g in codes}
    names = sorted(set().union(*[b[3] for b in blocks.values()]))
    col = {n: j for j, n in enumerate(names)}
    counts, words, stem_map, valence, sizes = [], [], [], [], {}
    for g, (c, w, m, st, v) in blocks.items():
        to_global = sp.csr_matrix((np.ones(len(st)), (np.arange(len(st)), [col[n] for n in st])),
                                  shape=(len(st), len(names)))
        counts.append(_scatter(lang == g, c))
        words += w
        stem_map.append(m @ to_global)
        valence.append(v)
        sizes[g] = len(w)
    return _fit(sp.hstack(counts).tocsr(), words, sp.vstack(stem_map).tocsr(), names,
                np.concatenate(valence), sizes, lang=main, n_texts=len(s), **kw)


def _fit(counts, words, stem_map, stems, valence, sizes: dict[str, int], *, lang: str,
         n_topics: int, seed: int, min_share: float, min_df: int, max_df: float,
         max_iter: int, n_texts: int) -> TopicModel:
    """TF-IDF + NMF on counts whose columns are ``sizes`` blocks of surface words, one per
    language (in order), mapped to shared stems by ``stem_map``."""
    x = counts @ stem_map
    df = np.asarray((x > 0).sum(axis=0)).ravel()
    ok = (df >= min_df) & (df <= max_df * n_texts)
    if ok.sum() < n_topics:
        raise ValueError(f"fit_topic_model: only {int(ok.sum())} words occur in at least "
                         f"{min_df} verbatims; too few for {n_topics} topics.")
    stem_map = sp.csr_matrix(stem_map[:, np.flatnonzero(ok)])
    stems = [stems[j] for j in np.flatnonzero(ok)]
    # Keep only surface words that feed a stem or carry sentiment.
    used = np.flatnonzero((np.asarray(stem_map.sum(axis=1)).ravel() > 0) | (valence != 0))
    vectorizers, start = {}, 0
    for g, size in sizes.items():
        mine = used[(used >= start) & (used < start + size)]
        vocab = {words[i]: j for j, i in enumerate(mine)}
        vectorizers[g] = CountVectorizer(analyzer=FoldingAnalyzer(g, vocab), dtype=np.float64,
                                         vocabulary=vocab)
        start += size
    vec = vectorizers[lang]
    stem_map = sp.csr_matrix(stem_map[used])
    counts = counts[:, used]
    valence = valence[used]

    x = counts @ stem_map
    tfidf = TfidfTransformer(sublinear_tf=True).fit(x)
    nmf = NMF(n_components=n_topics, init="nndsvda", random_state=seed, max_iter=max_iter,
              tol=1e-4)
    w = nmf.fit_transform(tfidf.transform(x))
    total = w.sum(axis=1, keepdims=True)
    share = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    order = np.empty(n_topics, dtype=np.int64)
    order[np.argsort(-share.sum(axis=0), kind="stable")] = np.arange(n_topics)
    model = TopicModel(language=lang, n_topics=n_topics, seed=seed, min_share=min_share,
                       vectorizer=vec, stem_map=stem_map, stems=stems, tfidf=tfidf, nmf=nmf,
                       valence=valence, order=order,
                       vectorizers=vectorizers if len(sizes) > 1 or lang not in sizes else {})
    model.topics = _topic_table(model, counts)
    return model


def _topic_table(model: TopicModel, counts: sp.csr_matrix) -> pd.DataFrame:
    """``topic, label, keywords``: top stems per topic, shown as their commonest word."""
    words = np.array(model.feature_names())
    freq = np.asarray(counts.sum(axis=0)).ravel()
    m = model.stem_map.tocsc()
    shown = []
    for j in range(m.shape[1]):
        rows = m.indices[m.indptr[j]:m.indptr[j + 1]]
        shown.append(words[rows[np.argmax(freq[rows])]])
    rows = []
    for comp in range(model.n_topics):
        k = int(model.order[comp]) + 1
        top = np.argsort(-model.nmf.components_[comp])[:N_KEYWORDS]
        # Words weighing under a tenth of the topic's top word are noise, not its keywords.
        h = model.nmf.components_[comp]
        kw = [shown[j] for j in top if h[j] > 0.1 * h[top[0]]]
        rows.append({"topic": k, "label": " / ".join(kw[:3]), "keywords": ", ".join(kw)})
    return pd.DataFrame(rows).sort_values("topic", ignore_index=True)


def fit_topics(data: pd.DataFrame, *, text: str = "verbatim", id_col: str = "response_id",
               language: str = "auto", n_topics: int = 6, seed: int = 42,
               min_share: float = 0.25, fit_sample: int = 200_000,
               language_col: str = "language", **kwargs) -> tuple[TopicModel, pd.DataFrame]:
    """Topics and sentiment for a responses table: the model and one row per response.

    Parameters
    ----------
    data : DataFrame
        Responses with ``id_col`` and the ``text`` column (missing text is allowed: such
        rows get ``has_verbatim = 0``, no topic and NaN sentiment).
    fit_sample : int
        Fit on at most this many non-empty verbatims (a seeded random sample), then score
        every row; below it the model is fitted on all of them.
    language_col : str
        When ``data`` has this column (ingestion adds ``language`` when a response source
        declares one) and it is not all empty, each row is processed in its own language;
        rows without one are detected, falling back to ``language``.
    **kwargs
        Passed to :func:`fit_topic_model` (``min_df``, ``max_df``, ``max_iter``).

    Returns
    -------
    (TopicModel, DataFrame)
        The model (``model.topics`` is the ``topics`` table) and ``id_col`` + the columns
        of :meth:`TopicModel.transform`, in the order of ``data``.
    """
    require_columns(data, [id_col, text], table="responses",
                    hint="Pass text=<the verbatim column> and id_col=<the response id>.")
    texts = data[text].astype(object).where(data[text].notna(), "").astype(str)
    per_row = language_col in data.columns and data[language_col].notna().any()
    languages = data[language_col].astype(object) if per_row else None
    nonempty = texts[texts.str.strip() != ""]
    if len(nonempty) > fit_sample:
        nonempty = nonempty.sample(fit_sample, random_state=seed)
    model = fit_topic_model(nonempty, language=language, n_topics=n_topics, seed=seed,
                            min_share=min_share, **kwargs,
                            languages=None if languages is None else languages.loc[nonempty.index])
    scored = model.transform(texts, None if languages is None else languages.to_numpy())
    scored.insert(0, id_col, data[id_col].to_numpy())
    return model, scored


def join_topics(responses: pd.DataFrame, scored: pd.DataFrame, *,
                id_col: str = "response_id") -> pd.DataFrame:
    """The responses table with ``has_verbatim, sentiment, topic_<k>`` joined on ``id_col``.

    The topic flags are 0/1 columns that :func:`cxkit.drivers.fit_drivers` takes as drivers
    beside ratings and gaps ("mentions topic k"). Weights stay out (they sum to one, so
    they would be collinear as drivers).
    """
    require_columns(scored, [id_col, "has_verbatim", "sentiment"], table="topic scores",
                    hint="Pass the second value returned by fit_topics.")
    keep = [id_col, "has_verbatim", "sentiment"] + [c for c in scored.columns
                                                     if c.startswith("topic_")]
    clash = [c for c in keep[1:] if c in responses.columns]
    out = responses.drop(columns=clash).merge(scored[keep], on=id_col, how="left",
                                              validate="one_to_one")
    for c in keep[1:]:
        if c != "sentiment":
            out[c] = out[c].fillna(0).astype("int64")
    return out
