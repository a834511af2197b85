"""cxkit.simulate.outcomes: survey window features, the scores' truth, renewals and spend."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit.simulate import simulate
from cxkit.simulate.base import DRIVERS, REGIONS


def _utc(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, format="ISO8601", utc=True, errors="coerce")


def _recompute_windows(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Window features straight from the CSV text, independently of the generator."""
    cust = t["customers"]
    d = t["deliveries"].copy()
    d = d[d["delivered_at"] != ""]
    d["at"] = _utc(d["delivered_at"])
    d["delay"] = np.floor((d["at"] - _utc(d["promised_at"])) / pd.Timedelta(days=1))
    tk = t["tickets"].merge(cust[["customer_id", "email"]], on="email")  # orphans drop out
    opened = pd.to_datetime(tk["opened_at"]).dt.tz_localize("Europe/Berlin").dt.tz_convert("UTC")
    resp = pd.to_datetime(tk["first_response_at"]).dt.tz_localize("Europe/Berlin").dt.tz_convert(
        "UTC")
    tk["at"] = opened
    tk["gap"] = (resp - opened) / pd.Timedelta(hours=1) - tk["sla_hours"].astype(int)
    s = t["surveys"]
    s = s[(s["customer_id"] != "") & (s["nps"].astype(int) <= 10) & (s["csat"].astype(int) <= 5)]
    s = s[["response_id", "customer_id"]].assign(r=_utc(s["responded_at"]))
    out = s.set_index("response_id")
    win = pd.Timedelta(days=30)
    for tp, events, val in (("delivery", d, "delay"), ("support_ticket", tk, "gap")):
        m = s.merge(events[["customer_id", "at", val]], on="customer_id")
        m = m[(m["at"] >= m["r"] - win) & (m["at"] < m["r"])]
        g = m.groupby("response_id")[val]
        out[f"n_{tp}"] = g.size().reindex(out.index, fill_value=0)
        out[f"gap_{tp}"] = g.mean().reindex(out.index)
        out[f"breach_{tp}"] = g.apply(lambda x: int((x > 0).sum())).reindex(out.index,
                                                                           fill_value=0)
    return out


def test_window_features_agree_with_the_raw_tables(small_sample):
    mine = _recompute_windows(small_sample["tables"])
    a = small_sample["sim"].analysis.set_index("response_id").loc[mine.index]
    assert len(mine) == len(small_sample["sim"].analysis)
    for tp in ("delivery", "support_ticket"):
        np.testing.assert_array_equal(a[f"n_{tp}"], mine[f"n_{tp}"])
        np.testing.assert_array_equal(a[f"had_{tp}"], (mine[f"n_{tp}"] > 0).astype(int))
        np.testing.assert_array_equal(a[f"breach_{tp}"], mine[f"breach_{tp}"])
        np.testing.assert_allclose(a[f"gap_{tp}"], mine[f"gap_{tp}"], atol=1e-9)
    # Exactly one delivery per response (the triggering order) thanks to the 60-day spacing.
    assert (a["n_delivery"] == 1).all()
    assert 0.05 < a["had_support_ticket"].mean() < 0.4
    assert a["breach_support_ticket"].sum() > 0 and (a["gap_delivery"] > 0).sum() > 0


def test_truth_parameters_and_outcome_shares(default_sample):
    truth = default_sample["truth"]
    nps = truth["nps"]
    assert truth["drivers"] == list(DRIVERS)
    assert set(nps["beta"]) == set(REGIONS)
    for region, beta in nps["beta"].items():
        for d, mu in nps["mu_beta"].items():
            assert np.sign(beta[d]) == np.sign(mu), (region, d)
            assert abs(beta[d] - mu) <= 1.5 * nps["tau"] + 1e-9
    assert len(nps["alpha"]) == 12 and "North|web" in nps["alpha"]
    assert len(nps["cutpoints"]) == 10 and np.all(np.diff(nps["cutpoints"]) > 0)
    assert truth["cutoff"] == "2025-01-01T00:00:00Z" and truth["window_days"] == 30
    s = truth["summary"]
    assert 0.35 < s["share_promoter"] < 0.45 and 0.15 < s["share_detractor"] < 0.25
    assert 15_000 <= truth["expected_counts"]["web_events"]["rows_in"] <= 30_000


def test_retention_and_spend_follow_nps(default_sample):
    t = default_sample["tables"]
    s = t["surveys"]
    s = s[(s["customer_id"] != "") & (s["nps"].astype(int) <= 10) & (s["csat"].astype(int) <= 5)]
    last = s.assign(r=_utc(s["responded_at"]), nps=s["nps"].astype(int)).sort_values("r")
    last = last.groupby("customer_id")["nps"].last()
    ren = t["renewals"].set_index("customer_id")
    renewed = ren["renewed"].map({"true": True, "false": False})
    assert renewed.notna().all() and len(ren) == 2000
    nps_last = last.reindex(ren.index)
    assert renewed[nps_last >= 9].mean() > renewed[nps_last <= 6].mean() + 0.15
    value = ren["contract_value"].astype(float)
    assert (value[~renewed] == 0).all() and (value[renewed] > 0).all()


def _ordered_logit_mle(X, y, offset, n_cat):
    """Pooled ordered-logit fit by BFGS: beta and increasing cutpoints."""
    from scipy.optimize import minimize
    from scipy.special import expit

    k = X.shape[1]
    rows = np.arange(len(y))

    def nll(p):
        cuts = np.cumsum(np.r_[p[k], np.exp(p[k + 1:])])
        z = cuts[None, :] - (offset + X @ p[:k])[:, None]
        cdf = np.c_[np.zeros(len(y)), expit(z), np.ones(len(y))]
        return -np.log(np.clip(cdf[rows, y + 1] - cdf[rows, y], 1e-300, None)).sum()

    p0 = np.r_[np.zeros(k), -4.0, np.zeros(n_cat - 2)]
    return minimize(nll, p0, method="BFGS").x[:k]


def test_nps_driver_effects_are_recoverable():
    sim = simulate(seed=42)
    a, nps = sim.analysis, sim.truth["nps"]
    offset = np.array([nps["alpha"][f"{r}|{c}"] for r, c in zip(a["region"], a["channel"])])
    est = _ordered_logit_mle(a[list(DRIVERS)].to_numpy(float), a["nps"].to_numpy(), offset, 11)
    share = a["region"].value_counts(normalize=True)
    for j, d in enumerate(DRIVERS):
        pooled_truth = sum(share[r] * nps["beta"][r][d] for r in share.index)
        # Tolerances are about 2.5 standard errors of a 3,700-response pooled fit.
        tol = 0.5 if "support_ticket" in d else 0.12
        assert abs(est[j] - pooled_truth) < tol, (d, est[j], pooled_truth)
