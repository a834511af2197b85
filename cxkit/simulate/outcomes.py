"""What customers say and do after their orders: survey responses with their window
features, scores drawn from the driver model (the truth the models recover) and renewals
with spend that follow the latest NPS.

Part of the generator in :mod:`cxkit.simulate.sources`, which draws the operations first
(customers, orders, deliveries, tickets, web events) and calls these in turn.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit.simulate.base import (
    CES_SHARES,
    CHANNELS,
    CSAT_SHARES,
    DAY,
    DRIVERS,
    HOUR,
    MU_BETA,
    NPS_SHARES,
    REGIONS,
    RETENTION,
    SPEND,
    TAU,
    WINDOW_DAYS,
    _fmt_utc,
    _logistic_quantile_cutpoints,
    _money,
    _ordinal_draw,
)


def _responses(o: pd.DataFrame, cust: pd.DataFrame, t: pd.DataFrame) -> pd.DataFrame:
    r = o[o["surveyed"]].sort_values(["responded_s", "cust_idx"], kind="stable")
    r = r.reset_index(drop=True)
    r["response_id"] = [f"R{k:06d}" for k in range(1, len(r) + 1)]
    win = WINDOW_DAYS * DAY
    # Deliveries in [responded - 30 d, responded): thanks to the 60-day order spacing only
    # the triggering delivery qualifies, computed here in general all the same.
    d = o[o["delivered"]][["cust_idx", "delivered_s", "delay"]]
    m = r[["response_id", "cust_idx", "responded_s"]].merge(d, on="cust_idx")
    m = m[(m["delivered_s"] >= m["responded_s"] - win) & (m["delivered_s"] < m["responded_s"])]
    g = m.groupby("response_id").agg(n_delivery=("delay", "size"), gap_delivery=("delay", "mean"),
                                     breach_delivery=("delay", lambda x: int((x > 0).sum())))
    r = r.merge(g, left_on="response_id", right_index=True, how="left")
    m = r[["response_id", "cust_idx", "responded_s"]].merge(
        t[["cust_idx", "opened_s", "gap_hours", "breach"]], on="cust_idx")
    m = m[(m["opened_s"] >= m["responded_s"] - win) & (m["opened_s"] < m["responded_s"])]
    g = m.groupby("response_id").agg(n_support_ticket=("breach", "size"),
                                     gap_support_ticket=("gap_hours", "mean"),
                                     breach_support_ticket=("breach", "sum"))
    r = r.merge(g, left_on="response_id", right_index=True, how="left")
    for tp in ("delivery", "support_ticket"):
        r[f"n_{tp}"] = r[f"n_{tp}"].fillna(0).astype("int64")
        r[f"breach_{tp}"] = r[f"breach_{tp}"].fillna(0).astype("int64")
        r[f"had_{tp}"] = (r[f"n_{tp}"] > 0).astype("int64")
    return r


def _nps_params(rng: np.random.Generator) -> dict:
    dev = {reg: {d: round(float(TAU * np.clip(rng.normal(), -1.5, 1.5)), 4) for d in DRIVERS}
           for reg in REGIONS}
    beta = {reg: {d: round(MU_BETA[d] + dev[reg][d], 4) for d in DRIVERS} for reg in REGIONS}
    a_region = {reg: rng.normal(0, 0.3) for reg in REGIONS}
    a_channel = {ch: rng.normal(0, 0.2) for ch in CHANNELS}
    alpha_raw = {f"{reg}|{ch}": a_region[reg] + a_channel[ch] + rng.normal(0, 0.1)
                 for reg in REGIONS for ch in CHANNELS}
    return {"beta": beta, "alpha_raw": alpha_raw, "mu_beta": dict(MU_BETA), "tau": TAU}


def _rating(mean: np.ndarray, sd: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(np.round(mean + sd * rng.normal(size=len(mean))), 1, 5).astype("int64")


def _scores(r: pd.DataFrame, cust: pd.DataFrame, params: dict,
            rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    c = r["cust_idx"].to_numpy()
    u = cust["latent"].to_numpy()[c]
    region = cust["region"].to_numpy()[c]
    channel = cust["channel"].to_numpy()[c]
    plan = cust["plan"].to_numpy()[c]
    late = np.maximum(r["delay"].to_numpy(), 0)
    r["rating_product"] = _rating(3.7 + 0.7 * u, 0.8, rng)
    r["rating_delivery"] = _rating(4.3 - 0.45 * late + 0.2 * (r["delay"].to_numpy() < 0)
                                   + 0.3 * u, 0.7, rng)
    r["rating_app"] = _rating(3.5 + 0.3 * (channel == "app") + 0.4 * u, 0.9, rng)
    r["rating_price"] = _rating(3.4 - 0.3 * (plan == "premium") + 0.4 * u, 0.9, rng)

    X = r[list(DRIVERS)].to_numpy(dtype=float)
    B = np.array([[params["beta"][reg][d] for d in DRIVERS] for reg in REGIONS])
    reg_idx = pd.Series(region).map({k: i for i, k in enumerate(REGIONS)}).to_numpy()
    xb = np.einsum("ij,ij->i", X, B[reg_idx])
    # Centre the intercepts on the data so the cutpoints sit near zero.
    centre = float(np.mean(xb))
    alpha = {k: round(v - centre, 4) for k, v in params["alpha_raw"].items()}
    eta = np.array([alpha[f"{a}|{b}"] for a, b in zip(region, channel)]) + xb

    cut_rng, draw_rng = rng.spawn(2)
    cut_nps = _logistic_quantile_cutpoints(eta, NPS_SHARES, cut_rng)
    cut_csat = _logistic_quantile_cutpoints(eta, CSAT_SHARES, cut_rng)
    cut_ces = _logistic_quantile_cutpoints(eta, CES_SHARES[::-1], cut_rng)
    r["nps"] = _ordinal_draw(eta, cut_nps, draw_rng).astype("int64")
    r["csat"] = (1 + _ordinal_draw(eta, cut_csat, draw_rng)).astype("int64")
    # CES is reversed: more satisfied (higher eta) means less effort.
    r["ces"] = (7 - _ordinal_draw(eta, cut_ces, draw_rng)).astype("int64")
    r["eta"] = eta
    params = {
        "alpha": alpha, "beta": params["beta"], "mu_beta": params["mu_beta"],
        "tau": params["tau"], "cutpoints": cut_nps.tolist(),
        "segments": "alpha per region|channel, beta per region",
        "csat": {"cutpoints": cut_csat.tolist(), "categories": [1, 2, 3, 4, 5],
                 "rule": "csat = 1 + #(cutpoints < eta + Logistic(0, 1))"},
        "ces": {"cutpoints": cut_ces.tolist(), "categories": [1, 2, 3, 4, 5, 6, 7],
                "rule": "ces = 7 - #(cutpoints < eta + Logistic(0, 1))"},
    }
    return r, params


def _renewals(cust: pd.DataFrame, r: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    last = r.sort_values("responded_s", kind="stable").groupby("cust_idx")["nps"].last()
    nps_last = last.reindex(cust.index).to_numpy()
    plan = cust["plan"]
    r0 = plan.map(RETENTION["r0"]).to_numpy()
    p = 1 / (1 + np.exp(-(r0 + RETENTION["r_nps"] * (nps_last - RETENTION["nps_ref"]))))
    renewed = rng.random(len(cust)) < p
    s0 = plan.map(SPEND["s0"]).to_numpy()
    value = np.exp(s0 + SPEND["s_nps"] * (nps_last - SPEND["nps_ref"])
                   + SPEND["sigma"] * rng.normal(size=len(cust)))
    value = np.where(renewed, np.round(value, 2), 0.0)
    # Renewal on the 2025 anniversary of the signup (Feb 29 falls back to Feb 28), at some
    # hour of the day, so it is strictly after the cutoff and inside the horizon.
    signup = pd.to_datetime(cust["signup_date"])
    anniv = pd.to_datetime(pd.DataFrame({
        "year": 2025, "month": signup.dt.month,
        "day": np.where((signup.dt.month == 2) & (signup.dt.day == 29), 28, signup.dt.day)}))
    secs = (anniv.astype("datetime64[s]").astype("int64").to_numpy()
            + rng.integers(HOUR, 23 * HOUR, len(cust)))
    return pd.DataFrame({
        "customer_id": cust["customer_id"],
        "renewal_at": _fmt_utc(secs),
        "renewed": np.where(renewed, "true", "false"),
        "contract_value": _money(value),
        "nps_last": nps_last,
    })
