"""Sentiment lexicons ship in packages; scores have the right sign, negation flips them."""

import numpy as np
import pandas as pd
import pytest

from cxkit.voice.language import LANGUAGES
from cxkit.voice.sentiment import N_SCALAR, compound, load_lexicon, token_valence
from cxkit.voice.topics import fit_topic_model


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_language_has_a_shipped_lexicon(lang):
    lex = load_lexicon(lang)
    assert len(lex) >= 30
    assert min(lex.values()) < -2 and max(lex.values()) > 2
    assert all(-4 <= v <= 4 for v in lex.values())


def test_english_is_vaders_lexicon():
    lex = load_lexicon("en")
    assert len(lex) > 7000 and lex["good"] == 1.9 and lex["horrible"] == -2.5


def test_token_valence_matches_by_fold_and_by_stem_and_flips_negation():
    v = token_valence(["péssimo", "atrasou", "não gostei", "mesa"], "pt")
    assert v[0] == -3.2                      # accent folded
    assert v[1] == pytest.approx(-1.9)       # by stem of "atraso"/"atrasado"/"atrasou"
    assert v[2] == pytest.approx(-0.74 * 2.0)
    assert v[3] == 0.0


def test_compound_is_vaders_normalisation():
    assert compound(np.array([4.0]))[0] == pytest.approx(4 / np.sqrt(31))


def test_scores_have_the_right_sign_in_portuguese():
    good = ["Produto excelente, chegou antes do prazo", "Ótimo, recomendo",
            "Gostei muito, entrega rápida"]
    bad = ["Péssimo, não recebi o produto", "Não gostei, produto com defeito",
           "Entrega atrasada, horrível"]
    tm = fit_topic_model((good + bad) * 5, language="pt", n_topics=2, min_df=1, max_df=1.0)
    s = tm.transform(good + bad + [""])["sentiment"].to_numpy()
    assert (s[:3] > 0.3).all() and (s[3:6] < -0.3).all() and np.isnan(s[6])
    # "não gostei" is negative although "gostei" alone is positive.
    assert tm.transform(["gostei", "não gostei"])["sentiment"].tolist()[1] < 0


def test_an_accented_lexicon_word_unseen_while_fitting_still_scores():
    """The fitted comments never use "péssimo" or "horrível"; later comments do, with their
    accents (the lexicon writes them folded), alone and negated."""
    fitted = ["Entrega no prazo, produto ok", "Produto chegou bem embalado",
              "Entrega atrasada de novo", "Produto com defeito"] * 5
    tm = fit_topic_model(fitted, language="pt", n_topics=2, min_df=1, max_df=1.0)
    s = tm.transform(["Péssimo", "HORRÍVEL", "não péssimo", "pessimo"])["sentiment"]
    lex = load_lexicon("pt")
    assert s[0] == pytest.approx(compound(np.array([lex["pessimo"]]))[0]) == s[3]
    assert s[1] == pytest.approx(compound(np.array([lex["horrivel"]]))[0])
    assert s[2] == pytest.approx(compound(np.array([N_SCALAR * lex["pessimo"]]))[0])
    assert s[1] < 0 < s[2]


def test_sentiment_follows_nps_on_the_sample(sample_verbatims):
    s, _, _ = sample_verbatims
    tm = fit_topic_model(s["verbatim"], language="en", n_topics=6)
    sent = tm.transform(s["verbatim"])["sentiment"]
    r = np.corrcoef(sent, s["nps"])[0, 1]
    assert r > 0.6, r
    by_band = sent.groupby(pd.cut(s["nps"], [-1, 6, 8, 10])).mean()
    assert by_band.is_monotonic_increasing
