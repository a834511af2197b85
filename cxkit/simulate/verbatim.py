"""Short English survey comments written from known topics, consistent with the scores.

Every comment is an opening that follows the NPS band plus one sentence per topic the
respondent *mentions*. Which topics a respondent mentions is decided from what happened to
them and how they rated it (never the other way round), so the scores and every other column
stay as they were; the text draws only on its own random stream.

Topics and their rules (``TOPIC_RULES``, also written into ``truth.json``):

- ``slow_support``: mentioned by exactly the respondents with a support ticket that breached
  its SLA in the 30-day window (``breach_support_ticket > 0``). The mention therefore carries
  the breach's effect on the NPS scale (``truth["nps"]["beta"][region]
  ["breach_support_ticket"]``): it is the most harmful topic, and the driver model should
  recover that effect from the mention alone.
- ``late_delivery``: mentioned by every respondent whose delivery was late (``gap_delivery >
  0``).
- ``product_quality``, ``app_experience``, ``price_value``: respondents with neither problem
  talk about their weakest-rated aspect (praise instead of complaint when the rating is 4-5,
  and promoters about their best-rated aspect); anyone else adds a second such remark with
  probability 0.25.
"""

from __future__ import annotations

import numpy as np

TOPICS = ("slow_support", "late_delivery", "product_quality", "app_experience", "price_value")
TOPIC_RULES = {
    "slow_support": "mentioned iff breach_support_ticket > 0 (a ticket broke its SLA in the "
                    "window); its effect on the NPS latent scale is beta[region]"
                    "['breach_support_ticket'] per breached ticket",
    "late_delivery": "mentioned iff gap_delivery > 0 (the delivery came after the promise)",
    "product_quality": "the weakest (best, for promoters) rated aspect when it is the product",
    "app_experience": "the weakest (best, for promoters) rated aspect when it is the app",
    "price_value": "the weakest (best, for promoters) rated aspect when it is the price",
    "extra": "anyone may add one more rated-aspect remark, with probability 0.25",
}
# Openings carry the sentiment in words that are stop words for the topic model (great,
# good, not, okay), so topics come from what the respondent talks about.
_OPENING = {
    "promoter": ["Great!", "Really good.", "Very good overall.", "Great, really great."],
    "passive": ["Okay.", "Mostly okay.", "Good, mostly.", "Okay overall."],
    "detractor": ["Not good.", "Not great at all.", "Really not good.", "Not okay."],
}
# Each topic's sentences share its core words (support ticket answer, late delivery parcel,
# ...), as real complaints about one thing do; the wording varies around them.
_BAD = {
    "slow_support": ["Support took far too long to answer my ticket.",
                     "Support never answered my ticket.",
                     "My support ticket got no answer for a week."],
    "late_delivery": ["The delivery was late.", "Late delivery, the parcel arrived late.",
                      "Delivery late again, the parcel arrived after the promised date."],
    "product_quality": ["Poor product quality.", "The product broke, poor quality.",
                        "Product quality is poor."],
    "app_experience": ["The app keeps crashing at checkout.", "The app checkout was confusing.",
                       "The app checkout is slow."],
    "price_value": ["The price is too expensive.", "Too expensive, the price went up.",
                    "The price is too high, expensive."],
}
_GOOD = {
    "product_quality": ["Great product quality.", "The product quality is good.",
                        "Good quality product."],
    "app_experience": ["The app checkout is easy.", "The app checkout was smooth.",
                       "Easy checkout in the app."],
    "price_value": ["Fair price.", "The price is fair.", "Fair price for the quality."],
}
_ASPECTS = {"product_quality": "rating_product", "app_experience": "rating_app",
            "price_value": "rating_price"}


def make_verbatims(nps: np.ndarray, ratings: dict[str, np.ndarray], breach_support: np.ndarray,
                   gap_delivery: np.ndarray,
                   rng: np.random.Generator) -> tuple[list[str], list[list[str]]]:
    """One comment per response and the topics it mentions.

    Parameters
    ----------
    nps : array of int
        NPS answers (0-10); they pick the opening.
    ratings : dict of str to array
        ``rating_product``, ``rating_app``, ``rating_price`` (1-5).
    breach_support : array
        Breached support tickets in the window (``slow_support`` when > 0).
    gap_delivery : array
        Delivery gap in days, NaN without a delivery (``late_delivery`` when > 0).
    rng : Generator
        The text's own random stream (no other column draws from it).

    Returns
    -------
    (list of str, list of list of str)
        The comments and, per comment, its topics in the order the sentences appear.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> r = {k: np.array([5, 2]) for k in ("rating_product", "rating_app", "rating_price")}
    >>> text, topics = make_verbatims(np.array([10, 3]), r, np.array([0, 1]),
    ...                               np.array([-1.0, 0.0]), rng)
    >>> topics
    [['product_quality'], ['slow_support']]
    """
    aspects = list(_ASPECTS)
    stacked = np.column_stack([ratings[_ASPECTS[a]] for a in aspects])
    gap = np.nan_to_num(np.asarray(gap_delivery, dtype=float), nan=0.0)
    # All random numbers are drawn up front: the text never depends on loop details.
    u = rng.random((len(nps), 6))
    texts: list[str] = []
    topics: list[list[str]] = []
    for i, score in enumerate(nps):
        band = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        parts = [_pick(_OPENING[band], u[i, 0])]
        mine: list[str] = []
        if breach_support[i] > 0:
            mine.append("slow_support")
        if gap[i] > 0:
            mine.append("late_delivery")
        if not mine or u[i, 1] < 0.25:
            best = int(np.argmax(stacked[i])) if band == "promoter" else int(
                np.argmin(stacked[i]))
            if mine:  # an extra remark about another aspect, chosen at random
                best = int(u[i, 2] * len(aspects))
            mine.append(aspects[best])
        for j, t in enumerate(mine):
            rating = stacked[i, aspects.index(t)] if t in _ASPECTS else 1
            pool = _GOOD[t] if t in _GOOD and rating >= 4 else _BAD[t]
            parts.append(_pick(pool, u[i, 3 + min(j, 2)]))
        texts.append(" ".join(parts))
        topics.append(mine)
    return texts, topics


def _pick(pool: list[str], u: float) -> str:
    return pool[int(u * len(pool))]


def topic_truth(response_ids, topics: list[list[str]]) -> dict:
    """The ``topics`` block of ``truth.json``: rules, counts and who mentions what."""
    ids = list(response_ids)
    mentions = {t: [r for r, ts in zip(ids, topics) if t in ts] for t in TOPICS}
    return {
        "topics": list(TOPICS),
        "rules": TOPIC_RULES,
        "most_harmful": "slow_support",
        "effect_of": {"slow_support": "breach_support_ticket"},
        "n_mentions": {t: len(v) for t, v in mentions.items()},
        "response_ids": mentions,
    }
