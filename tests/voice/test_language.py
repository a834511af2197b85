"""Language handling: folding, stop words, stemming, detection, negation marks."""

import re

import pytest

from cxkit.voice.language import (
    LanguageError,
    check_language,
    detect_language,
    dominant_language,
    fold,
    split_negated,
    stem_words,
    stop_words,
    token_pattern,
)


def test_fold_lowercases_and_strips_accents():
    assert [fold(w) for w in ("Não", "ENTREGUÉ", "Straße", "garçon")] == [
        "nao", "entregue", "strasse", "garcon"]


def test_stop_words_ship_offline_for_every_language():
    for lang, word in [("pt", "nao"), ("en", "the"), ("es", "pero"), ("de", "und"),
                       ("fr", "mais")]:
        sw = stop_words(lang)
        assert word in sw and len(sw) > 100, lang
    assert "entrega" not in stop_words("pt") and "delivery" not in stop_words("en")


def test_stemming_groups_inflections():
    assert stem_words(["entrega", "entregue", "entregou"], "pt") == ["entreg"] * 3
    assert stem_words(["delivered", "delivery"], "en")[0] == "deliv"
    assert stem_words(["verspätet", "verspätung"], "de") != ["", ""]


def test_unsupported_language_is_one_clear_error():
    with pytest.raises(LanguageError, match=r"'xx' is not supported; use one of \['de', 'en'"):
        check_language("xx")


def test_detects_each_language():
    texts = ["o produto chegou antes do prazo e gostei muito",
             "the parcel was late and nobody answered my email",
             "el pedido llegó tarde y el producto estaba roto",
             "die Lieferung kam zu spät und das Paket war beschädigt",
             "la livraison est arrivée en retard et le colis était abîmé",
             "", None, "👍"]
    assert detect_language(texts).tolist() == ["pt", "en", "es", "de", "fr", None, None, None]


def test_dominant_language_declared_wins_and_empty_corpus_fails():
    lang, detected = dominant_language(["the parcel was late"] * 3, declared="pt")
    assert lang == "pt" and detected.tolist() == ["en"] * 3
    assert dominant_language(["chegou antes do prazo"] * 3 + ["it is ok"])[0] == "pt"
    with pytest.raises(LanguageError, match="set voice.language"):
        dominant_language(["👍", ""])


def test_a_negator_and_the_next_word_are_one_token():
    assert re.findall(token_pattern("pt"), "não gostei do produto, nunca chegou") == [
        "não gostei", "do", "produto", "nunca chegou"]
    assert re.findall(token_pattern("en"), "i did not like it, not") == [
        "did", "not like", "it", "not"]
    assert split_negated("não gostei") == ("gostei", True)
    assert split_negated("gostei") == ("gostei", False)
