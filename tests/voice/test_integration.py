"""Topics as drivers on the sample: the driver model recovers the most harmful topic's effect.

In data/sample a respondent mentions slow support exactly when a support ticket broke its
SLA in the window (truth.json ``verbatim_topics.rules``), so the mention's true effect on the
NPS latent scale is ``beta[region]["breach_support_ticket"]`` (-0.73 to -1.02). The driver
model sees the topic flag learned from the text, never the breach column.
"""

import pytest

from cxkit.drivers import fit_drivers
from cxkit.simulate import simulate
from cxkit.voice import fit_topics, join_topics

pytestmark = pytest.mark.slow


def test_driver_model_recovers_the_effect_of_the_most_harmful_topic():
    sim = simulate(seed=42)
    a, vt = sim.analysis, sim.truth["verbatim_topics"]
    assert vt["most_harmful"] == "slow_support"
    model, scored = fit_topics(a, n_topics=6, seed=42)
    truth = a["response_id"].isin(vt["response_ids"]["slow_support"]).to_numpy()
    flags = scored.filter(regex=r"^topic_\d+$")
    # The learned topic whose mentions are the true slow-support mentions.
    precision = {c: truth[flags[c] == 1].mean() for c in flags if flags[c].any()}
    col = max(precision, key=precision.get)
    assert (flags[col].to_numpy() == truth).mean() > 0.99
    data = join_topics(a, scored)
    drivers = ["rating_product", "rating_delivery", "rating_app", "rating_price",
               "gap_delivery", "had_support_ticket", col]
    res = fit_drivers(data, outcome="nps", family="ordinal", segments="region",
                      drivers=drivers, chains=4, draws=1000, tune=1000, seed=1,
                      parametrization="non_centered")  # 4 regions: as params/sample.yaml
    assert res.diagnostics["passed"]
    s = res.summary().set_index(["segment", "driver"])
    for region, beta in sim.truth["nps"]["beta"].items():
        row = s.loc[(region, col)]
        lo, hi = float(row["hdi_low"]), float(row["hdi_high"])
        assert lo < beta["breach_support_ticket"] < hi, (region, row.to_dict())
        assert hi < 0  # clearly harmful in every region
