"""Simulated inputs and the simulator's true initiative effects, for the value tests."""

import types

import numpy as np
import pandas as pd


def true_revenue_change(sim, table, definition, n_grid=400):
    """Expected revenue change and customers kept of an initiative under the simulator's truth.

    From the generative parameters recorded in ``truth.json`` (no fitted model): each
    customer's latest response before the cutoff has the linear predictor
    ``eta = alpha[region|channel] + x . beta[region]`` and NPS ``k = #(cutpoints < eta + e)``
    with logistic noise ``e``. Given the observed ``k``, ``e`` is a logistic draw truncated to
    ``(cut[k-1] - eta, cut[k] - eta]``; the initiative moves ``eta`` (drivers changed with the
    same rule and clipping as cxkit) or sets the score (score band), and the customer's value
    is the truth's ``P(renew) * E[contract value]`` at the counterfactual NPS, averaged over
    the truncated noise (``n_grid`` quantiles). Summed over the value table's customers.
    """
    from scipy.special import expit, logit

    from cxkit.value.impact import apply_changes, target_mask
    from cxkit.value.scenarios import latest_responses

    t = sim.truth
    latest = latest_responses(sim.analysis, table)
    drivers = t["drivers"]
    beta = np.array([[t["nps"]["beta"][r][k] for k in drivers] for r in latest["region"]])
    alpha = np.array([t["nps"]["alpha"][f"{r}|{c}"]
                      for r, c in zip(latest["region"], latest["channel"])])
    eta = alpha + (beta * latest[drivers].to_numpy(float)).sum(1)
    cut = np.asarray(t["nps"]["cutpoints"])
    k = latest["nps"].to_numpy().astype(int)
    ranges = {c: (float(sim.analysis[c].min()), float(sim.analysis[c].max())) for c in drivers}
    values, band_to = {}, np.full(len(latest), np.nan)
    for changes, segs in definition["parts"]:
        m = target_mask(table, [segs], definition["name"])
        values, _, _ = apply_changes(latest, changes, m, ranges, values)
        for ch in changes:
            if ch.kind == "score_band":
                lo, hi = ch.score_band.band_from
                band_to[m & (k >= lo) & (k <= hi)] = ch.score_band.to
    eta1 = alpha + (beta * latest.assign(**values)[drivers].to_numpy(float)).sum(1)
    lo = np.where(k > 0, expit(np.r_[-np.inf, cut][k] - eta), 0.0)
    hi = np.where(k < len(cut), expit(np.r_[cut, np.inf][k] - eta), 1.0)
    u = lo[:, None] + (hi - lo)[:, None] * ((np.arange(n_grid) + 0.5) / n_grid)[None, :]
    k1 = (cut[None, None, :] < (eta1[:, None, None] + logit(u)[:, :, None])).sum(-1)
    k1 = np.where(np.isnan(band_to)[:, None], k1, band_to[:, None])
    plan = table["plan"].to_numpy()
    r0 = np.array([t["retention"]["r0"][p] for p in plan])[:, None]
    s0 = np.array([t["spend"]["s0"][p] for p in plan])[:, None]

    def value(n):
        p = expit(r0 + t["retention"]["r_nps"] * (n - t["retention"]["nps_ref"]))
        return p * np.exp(s0 + t["spend"]["s_nps"] * (n - t["spend"]["nps_ref"])
                          + t["spend"]["sigma"] ** 2 / 2), p

    (v1, p1), (v0, p0) = value(k1), value(k[:, None].astype(float))
    return float((v1 - v0).mean(1).sum()), float((p1 - p0).mean(1).sum())


def simulated_inputs(seed=42, n_customers=2000):
    """Value table and analysis-frame responses of a simulated sample (no ingestion)."""
    from cxkit.simulate import simulate
    from cxkit.value.table import customer_value_table

    sim = simulate(seed=seed, n_customers=n_customers)
    ren = sim.tables["renewals"]
    events = pd.DataFrame({
        "customer_id": ren["customer_id"],
        "event_ts": pd.to_datetime(ren["renewal_at"], utc=True, format="ISO8601"),
        "value": pd.to_numeric(ren["contract_value"]),
    })
    table = customer_value_table(events, sim.analysis, sim.tables["customers"], score="nps",
                                 cutoff=sim.truth["cutoff"],
                                 horizon_days=sim.truth["horizon_days"],
                                 segments=["region", "channel", "plan"])
    return sim, table


class TrueOrdinal:
    """The simulator's NPS model as an ordinal driver result (``n_draws`` identical draws:
    evaluate_initiatives prices as many draws as the driver result holds)."""

    def __init__(self, truth, n_draws=4):
        drivers = truth["drivers"]
        labels = sorted(truth["nps"]["alpha"])
        alpha = np.array([truth["nps"]["alpha"][s] for s in labels])
        beta = np.array([[truth["nps"]["beta"][s.split("|")[0]][d] for d in drivers]
                         for s in labels])
        cut = np.asarray(truth["nps"]["cutpoints"])
        import arviz as az

        self.idata = az.from_dict(posterior={"alpha": np.tile(alpha, (2, n_draws // 2, 1)),
                                             "beta": np.tile(beta, (2, n_draws // 2, 1, 1)),
                                             "cutpoints": np.tile(cut, (2, n_draws // 2, 1))})
        self.config = types.SimpleNamespace(family="ordinal", drivers=drivers,
                                            segments=["region", "channel"],
                                            segment_labels=labels, categories=list(range(11)))

    def segment_labels(self, data):
        return data["region"].astype(str) + "|" + data["channel"].astype(str)

    def expected_outcome(self, data, *, max_samples=1000):
        from cxkit.value.counterfactual import ordinal_latent

        eta, cut, vals = ordinal_latent(self, data, max_samples=max_samples)
        return vals[0] + sum(np.diff(vals)[j] * (1 / (1 + np.exp(cut[:, j, None] - eta)))
                             for j in range(cut.shape[1]))


def true_value_result(truth, table):
    """A value result holding the simulator's retention and spend rules (two equal draws)."""
    from tests.value.conftest import make_value_result

    cols = ["plan", "region", "channel"]
    cells = sorted(set(table[cols].astype(str).agg("|".join, axis=1)))
    plan = [c.split("|")[0] for c in cells]
    vr = make_value_result({"a": [truth["retention"]["r0"][p] for p in plan],
                            "b": [truth["retention"]["r_nps"]] * len(cells),
                            "c": [truth["spend"]["s0"][p] for p in plan],
                            "d": [truth["spend"]["s_nps"]] * len(cells),
                            "sigma": truth["spend"]["sigma"]}, segments=cells, n_draws=4)
    vr.config.update(segment_columns=cols, horizon_days=truth["horizon_days"])
    return vr
