"""Topics: seeded, readable, and recovering the sample's known topics."""

import numpy as np
import pandas as pd
import pytest

from cxkit.voice.topics import fit_topic_model, fit_topics, join_topics

N_TOPICS = 6  # the sample has 5 true topics; one spare lets NMF split the big one


def recovered(scored: pd.DataFrame, ids: pd.Series, vt: dict) -> tuple[pd.DataFrame, dict]:
    """Name each learned topic after the true topic most of its mentions have (precision),
    then OR the flags of learned topics with the same name: predicted vs true mentions."""
    flags = scored.filter(regex=r"^topic_\d+$").to_numpy()
    truth = pd.DataFrame({t: ids.isin(vt["response_ids"][t]).to_numpy() for t in vt["topics"]})
    prec = np.array([[truth[t].to_numpy()[flags[:, k] == 1].mean() if flags[:, k].any() else 0
                      for t in truth] for k in range(flags.shape[1])])
    name = prec.argmax(axis=1)
    pred = pd.DataFrame({t: flags[:, name == j].max(axis=1) == 1 if (name == j).any()
                         else np.zeros(len(ids), bool) for j, t in enumerate(truth)})
    return (pred == truth), {int(k + 1): truth.columns[j] for k, j in enumerate(name)}


def test_topic_assignment_recovers_the_true_topics(sample_verbatims):
    """Accuracy on data/sample (seed 42, 3,721 responses): 97.2% of responses get exactly
    their true set of topics; per topic 98.3-100% (slow_support 100%)."""
    s, vt, _ = sample_verbatims
    model, scored = fit_topics(s, n_topics=N_TOPICS, seed=42)
    hit, names = recovered(scored, s["response_id"], vt)
    per_topic = hit.mean()
    assert (per_topic >= 0.98).all(), per_topic.to_dict()
    assert per_topic["slow_support"] == 1.0
    assert hit.all(axis=1).mean() >= 0.97
    assert set(names.values()) == set(vt["topics"])
    # Readable: each topic's keywords name what it is about.
    kw = model.topics.set_index("topic")["keywords"]
    support = [k for k, n in names.items() if n == "slow_support"]
    assert {"support", "ticket"} <= set(kw[support[0]].split(", "))
    late = [k for k, n in names.items() if n == "late_delivery"]
    assert any({"late", "delivery"} <= set(kw[k].split(", ")) for k in late)


def test_same_seed_same_topics_and_weights(sample_verbatims):
    s, _, _ = sample_verbatims
    a = fit_topics(s.head(800), n_topics=4, seed=3)
    b = fit_topics(s.head(800), n_topics=4, seed=3)
    pd.testing.assert_frame_equal(a[0].topics, b[0].topics)
    pd.testing.assert_frame_equal(a[1], b[1])


def test_table_shapes_flags_and_missing_text(sample_verbatims):
    s, _, _ = sample_verbatims
    d = s.head(400).copy()
    d.loc[[0, 1], "verbatim"] = [None, "   "]
    model, scored = fit_topics(d, n_topics=3, seed=1)
    assert list(model.topics.columns) == ["topic", "label", "keywords"]
    assert model.topics["topic"].tolist() == [1, 2, 3]
    assert list(scored.columns) == ["response_id", "has_verbatim", "sentiment", "topic",
                                    "weight_1", "weight_2", "weight_3",
                                    "topic_1", "topic_2", "topic_3"]
    assert scored["has_verbatim"].tolist()[:3] == [0, 0, 1]
    assert scored.loc[:1, ["topic", "topic_1", "topic_2", "topic_3"]].eq(0).all().all()
    assert scored["sentiment"].isna().sum() == 2
    w = scored.filter(like="weight_").sum(axis=1)
    assert np.allclose(w[scored["topic"] > 0], 1.0)
    # Topic 1 is the most prevalent.
    assert scored.filter(like="weight_").sum().is_monotonic_decreasing


def test_fit_on_a_sample_then_score_everyone(sample_verbatims):
    s, _, _ = sample_verbatims
    model, scored = fit_topics(s, n_topics=N_TOPICS, seed=42, fit_sample=1000)
    assert len(scored) == len(s) and scored["has_verbatim"].eq(1).all()
    assert (scored["topic"] > 0).mean() > 0.99


def test_join_topics_adds_integer_flags_for_the_driver_model(sample_verbatims):
    s, _, _ = sample_verbatims
    model, scored = fit_topics(s.head(500), n_topics=3, seed=1)
    responses = s.head(600).assign(sentiment=9.0)  # a stale column is replaced, not suffixed
    out = join_topics(responses, scored)
    assert len(out) == 600 and "sentiment_x" not in out.columns
    assert out[["has_verbatim", "topic_1", "topic_2", "topic_3"]].dtypes.eq("int64").all()
    assert out["has_verbatim"].iloc[500:].eq(0).all()
    assert not out.filter(like="weight_").columns.any()


def test_too_few_comments_is_a_clear_error():
    with pytest.raises(ValueError, match="3 non-empty verbatims cannot support 6 topics"):
        fit_topic_model(["late", "slow", "", "broken"], language="en", n_topics=6)


CORPORA = {
    "es": (["El pedido llegó tarde, la entrega fue lenta.", "La entrega llegó tarde otra vez.",
            "El precio es muy caro.", "Precio caro para la calidad."],
           {"entrega", "precio"}, "Excelente, muy bueno", "Pésimo, horrible"),
    "de": (["Die Lieferung kam zu spät.", "Lieferung wieder verspätet, zu spät.",
            "Der Preis ist zu teuer.", "Viel zu teuer, der Preis stimmt nicht."],
           {"lieferung", "preis"}, "Ausgezeichnet, sehr gut", "Schrecklich und kaputt"),
    "fr": (["La livraison est arrivée en retard.", "Livraison en retard encore une fois.",
            "Le prix est trop cher.", "Prix trop cher pour la qualité."],
           {"livraison", "prix"}, "Excellent, très bon", "Horrible, produit cassé"),
}


@pytest.mark.parametrize("lang", sorted(CORPORA))
def test_other_languages_detected_topics_and_sentiment(lang):
    texts, words, good, bad = CORPORA[lang]
    tm = fit_topic_model(texts * 5, n_topics=2, min_df=1, max_df=0.6)
    assert tm.language == lang
    kws = [set(kw.split(", ")) for kw in tm.topics["keywords"]]
    # One topic about delivery, one about price (their words may rank second).
    assert sorted(len(kw & words) for kw in kws) == [1, 1], tm.topics
    s = tm.transform([good, bad])["sentiment"].tolist()
    assert s[0] > 0.3 and s[1] < -0.3, s


PT = ["A entrega atrasou muito", "Entrega atrasada de novo", "O preço é caro demais",
      "Preço muito caro para a qualidade", "Entregas atrasadas sempre"]
EN = ["The delivery was late again", "Late deliveries every time", "The price is too expensive",
      "Prices too high for the quality", "Delivery late, prices high"]


def two_languages(**extra) -> pd.DataFrame:
    return pd.DataFrame({"response_id": [f"R{i}" for i in range(60)],
                         "verbatim": PT * 6 + EN * 6, **extra})


def test_language_per_row_stems_and_scores_each_row_in_its_own_language():
    data = two_languages(language=["pt"] * 30 + ["en"] * 30)
    model, scored = fit_topics(data, n_topics=2, min_df=1, max_df=0.6)
    assert (model.language, list(model.vectorizers)) == ("pt", ["en", "pt"])
    # English words get English stems, Portuguese words Portuguese ones ...
    assert {"price", "late", "deliveri", "entreg", "atras", "prec"} <= set(model.stems)
    # ... whereas one Portuguese model mis-stems the English ("pric", "lat") and splits
    # "delivery" from "deliveries".
    one = fit_topics(data.drop(columns="language"), n_topics=2, min_df=1, max_df=0.6)[0]
    assert one.vectorizers == {} and {"pric", "lat", "delivery"} <= set(one.stems)
    assert not {"pric", "lat", "delivery"} & set(model.stems)
    # English sentiment words count in an English row (declared or detected), not in a
    # Portuguese-only model.
    s = model.transform(["Terrible service, awful", "produto ruim", "the parcel was terrible"],
                        ["en", "pt", None])["sentiment"]
    assert (s < -0.3).all(), s.tolist()
    assert one.transform(["Terrible service, awful"])["sentiment"].iloc[0] == 0
    assert scored["has_verbatim"].sum() == 60 and len(scored) == 60


def test_language_column_undeclared_rows_detected_and_bad_code_named():
    # English rows without a declared language are detected as English from stop words.
    data = two_languages(language=["pt"] * 30 + [None] * 30)
    model, _ = fit_topics(data, n_topics=2, min_df=1, max_df=0.6)
    assert list(model.vectorizers) == ["en", "pt"] and "price" in model.stems
    # An all-empty column means no language per row: today's single-language model.
    assert fit_topics(two_languages(language=[None] * 60), n_topics=2, min_df=1,
                      max_df=0.6)[0].vectorizers == {}
    with pytest.raises(ValueError, match="the responses' language column.*'xx'"):
        fit_topics(two_languages(language=["xx"] * 60), n_topics=2, min_df=1, max_df=0.6)
    # Blank codes count as undeclared; codes are case- and space-blind.
    model = fit_topics(two_languages(language=[" PT"] * 30 + [""] * 30), n_topics=2,
                       min_df=1, max_df=0.6)[0]
    assert (model.language, list(model.vectorizers)) == ("pt", ["en", "pt"])
