"""Short English survey comments consistent with the scores they come with.

Comments are assembled from an opening that follows the NPS band and a remark about the
weakest (or, for promoters, the strongest) rated aspect, so a text-analytics step on the
sample finds the same story the numbers tell.
"""

from __future__ import annotations

import numpy as np

_OPENING = {
    "promoter": ["Great experience overall.", "Really happy with this order.",
                 "Would recommend to friends.", "Excellent as always.", "Very satisfied."],
    "passive": ["It was fine.", "Decent experience.", "Okay overall.",
                "Mostly good, a few issues.", "Not bad."],
    "detractor": ["Disappointed.", "Not happy with this order.", "Poor experience.",
                  "Would not recommend.", "Frustrating experience."],
}
_GOOD = {
    "rating_product": ["The product quality is great.", "Love the product."],
    "rating_delivery": ["Delivery was fast.", "Arrived on time, well packed."],
    "rating_app": ["The app is easy to use.", "Ordering in the app was smooth."],
    "rating_price": ["Good value for money.", "Fair prices."],
}
_BAD = {
    "rating_product": ["The product broke quickly.", "Product quality was below expectations."],
    "rating_delivery": ["Delivery was late.", "The parcel arrived days after the promised date."],
    "rating_app": ["The app keeps crashing.", "Checkout in the app was confusing."],
    "rating_price": ["Too expensive for what you get.", "Prices went up again."],
}
_TICKET_BAD = ["Support took far too long to answer.",
               "Customer service never got back to me in time."]

_RATINGS = ("rating_product", "rating_delivery", "rating_app", "rating_price")


def make_verbatims(nps: np.ndarray, ratings: dict[str, np.ndarray], breach: np.ndarray,
                   rng: np.random.Generator) -> list[str]:
    """One comment per response from its NPS, ratings and support-breach count."""
    stacked = np.column_stack([ratings[k] for k in _RATINGS])
    # Draw all random choices up front so the text does not depend on loop order details.
    u = rng.random((len(nps), 3))
    out: list[str] = []
    for i, score in enumerate(nps):
        band = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        opening = _OPENING[band]
        parts = [opening[int(u[i, 0] * len(opening))]]
        if band == "promoter":
            key = _RATINGS[int(np.argmax(stacked[i]))]
            pool = _GOOD[key]
        elif breach[i] > 0 and u[i, 2] < 0.6:
            pool = _TICKET_BAD
        else:
            key = _RATINGS[int(np.argmin(stacked[i]))]
            pool = _BAD[key] if stacked[i].min() <= 3 else _GOOD[key]
        parts.append(pool[int(u[i, 1] * len(pool))])
        out.append(" ".join(parts))
    return out
