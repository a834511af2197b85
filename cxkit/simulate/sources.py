"""A synthetic multi-source CX dataset with known generative truth.

The story: customers sign up, place orders (seen in web/app events), get deliveries that
are sometimes late, open support tickets, answer post-delivery surveys and later renew (or
not). NPS is an ordered logistic function of per-response drivers, retention and spend depend
on the latest NPS. Every table is written the way real systems write them (mixed UTC offsets,
naive local times, epoch milliseconds, tickets keyed by email), with a few bad rows injected,
so ingestion has something to get right and the models have a truth to recover.

All times are handled as integer seconds since the epoch (UTC) and formatted only at the end,
which keeps the window features in ``analysis`` exactly what ingestion recomputes from the
files.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxkit.simulate.verbatim import make_verbatims, topic_truth

from cxkit.simulate.base import (  # noqa: F401  (re-exported: the story's constants)
    DAY,
    HOUR,
    CUTOFF,
    CUTOFF_S,
    SIGNUP_START_S,
    SIGNUP_DAYS,
    HORIZON_DAYS,
    WINDOW_DAYS,
    DEFAULT_N_CUSTOMERS,
    REGIONS,
    REGION_P,
    CHANNELS,
    CHANNEL_P,
    PLANS,
    PLAN_P,
    SLA_HOURS,
    RESPONSE_MEDIAN_HOURS,
    LATE_P,
    DRIVERS,
    MU_BETA,
    TAU,
    NPS_SHARES,
    CSAT_SHARES,
    CES_SHARES,
    RETENTION,
    SPEND,
    OFFSETS,
    OFFSET_P,
    TABLES,
    ANALYSIS_COLUMNS,
    _FIRST,
    _LAST,
    _DOMAINS,
    _fmt_utc,
    _fmt_naive,
    _ambiguous_in_berlin,
    _money,
    _logistic_quantile_cutpoints,
    _ordinal_draw,
)
from cxkit.simulate.outcomes import _nps_params, _renewals, _responses, _scores
from cxkit.simulate.written import _analysis, _truth, _write_tables


@dataclass
class SimulatedData:
    """The simulated sources, their generative truth and the clean analysis frame.

    Attributes
    ----------
    tables : dict of str to DataFrame
        One frame per source file (``customers``, ``orders``, ``deliveries``, ``tickets``,
        ``web_events``, ``surveys``, ``renewals``), exactly as written to CSV, bad rows included.
    truth : dict
        What ``truth.json`` holds: parameters, injected bad rows, expected ingestion counts.
    analysis : DataFrame
        One row per clean survey response with segments, scores, window features, ``promoter``.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    truth: dict = field(default_factory=dict)
    analysis: pd.DataFrame = field(default_factory=pd.DataFrame)


# --------------------------------------------------------------------------------------
# the generator
# --------------------------------------------------------------------------------------

_STREAMS = ("customers", "orders", "deliveries", "surveys", "tickets", "scores", "params",
            "web", "renewals", "inject", "text")


def simulate(seed: int = 42, n_customers: int = DEFAULT_N_CUSTOMERS) -> SimulatedData:
    """Simulate the multi-source CX sample with known truth.

    Parameters
    ----------
    seed : int
        Seed of every random draw; the same seed gives identical tables and truth.
    n_customers : int
        Number of customers (the committed sample has 2000).

    Returns
    -------
    SimulatedData
        ``tables`` as written to CSV (bad rows included), ``truth`` and the clean
        per-response ``analysis`` frame.

    Examples
    --------
    >>> sim = simulate(seed=1, n_customers=200)
    >>> sorted(sim.tables)[:3]
    ['customers', 'deliveries', 'orders']
    >>> bool(sim.analysis["had_delivery"].eq(1).all())
    True
    """
    if n_customers < 20:
        raise ValueError(f"simulate: n_customers={n_customers} is too small; use at least 20 "
                         "so every injected bad row has clean rows to sit among.")
    rngs = dict(zip(_STREAMS, (np.random.default_rng(s)
                               for s in np.random.SeedSequence(seed).spawn(len(_STREAMS)))))

    cust = _customers(n_customers, rngs["customers"])
    orders = _orders(cust, rngs["orders"])
    orders = _deliveries(orders, cust, rngs["deliveries"])
    orders = _survey_selection(orders, rngs["surveys"])
    tickets = _tickets(cust, orders, rngs["tickets"])
    resp = _responses(orders, cust, tickets)
    params = _nps_params(rngs["params"])
    resp, params = _scores(resp, cust, params, rngs["scores"])
    resp["verbatim"], topics = make_verbatims(
        resp["nps"].to_numpy(),
        {k: resp[k].to_numpy() for k in DRIVERS[:4]},
        resp["breach_support_ticket"].to_numpy(), resp["gap_delivery"].to_numpy(),
        rngs["text"])
    renewals = _renewals(cust, resp, rngs["renewals"])
    web = _web_events(cust, orders, rngs["web"])

    tables, injected, conflicts = _write_tables(cust, orders, tickets, web, resp, renewals,
                                                rngs["inject"])
    analysis = _analysis(resp, cust)
    truth = _truth(seed, n_customers, params, injected, conflicts, tables, analysis, orders)
    truth["verbatim_topics"] = topic_truth(resp["response_id"], topics)
    return SimulatedData(tables=tables, truth=truth, analysis=analysis)


def _customers(n: int, rng: np.random.Generator) -> pd.DataFrame:
    i = np.arange(1, n + 1)
    first = rng.choice(_FIRST, n)
    last = rng.choice(_LAST, n)
    domain = rng.choice(_DOMAINS, n)
    # The running number keeps emails unique however the names collide.
    email = [f"{f}.{l}{k}@{d}" for f, l, k, d in zip(first, last, i, domain)]
    day = rng.integers(0, SIGNUP_DAYS, n)
    signup_s = SIGNUP_START_S + day * DAY
    signup = pd.to_datetime(signup_s, unit="s")
    cust = pd.DataFrame({
        "customer_id": [f"C{k:06d}" for k in i],
        "email": email,
        "region": rng.choice(REGIONS, n, p=REGION_P),
        "channel": rng.choice(CHANNELS, n, p=CHANNEL_P),
        "plan": rng.choice(PLANS, n, p=PLAN_P),
        "signup_date": signup.strftime("%Y-%m-%d"),
    })
    cust["cohort"] = [f"{y}Q{q}" for y, q in zip(signup.year, signup.quarter)]
    cust["signup_s"] = signup_s
    # Latent satisfaction shared by all of a customer's ratings (drivers are correlated).
    cust["latent"] = rng.normal(size=n)
    return cust


def _orders(cust: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    end = CUTOFF_S - 45 * DAY
    gap = 60 * DAY
    rows_c, rows_t = [], []
    for c, start in zip(cust.index, cust["signup_s"]):
        span = end - start
        k = int(min(1 + rng.binomial(4, 0.4), 1 + (span - 1) // gap))
        free_minutes = (span - gap * (k - 1)) // 60
        # Sorted uniform minutes plus i*60 days: consecutive orders are >= 60 days apart.
        t = start + np.sort(rng.integers(0, free_minutes, k)) * 60 + np.arange(k) * gap
        rows_c.extend([c] * k)
        rows_t.extend(t.tolist())
    o = pd.DataFrame({"cust_idx": rows_c, "ordered_s": np.array(rows_t, dtype="int64")})
    o = o.sort_values(["ordered_s", "cust_idx"], kind="stable").reset_index(drop=True)
    o["order_id"] = [f"O{k:07d}" for k in range(1, len(o) + 1)]
    o["customer_id"] = cust["customer_id"].to_numpy()[o["cust_idx"]]
    plan = cust["plan"].to_numpy()[o["cust_idx"]]
    meanlog = pd.Series(plan).map({"basic": 3.7, "plus": 4.1, "premium": 4.6}).to_numpy()
    o["revenue"] = np.round(np.exp(meanlog + 0.5 * rng.normal(size=len(o))), 2)
    off = rng.choice(len(OFFSETS), len(o), p=OFFSET_P)
    suffix = np.array([OFFSETS[j][0] for j in off], dtype=object)
    shift = np.array([OFFSETS[j][1] for j in off], dtype="int64")
    # Same instant, written in the local offset of the shop system that took the order.
    o["ordered_at"] = _fmt_naive(o["ordered_s"] + shift, "%Y-%m-%dT%H:%M:%S") + suffix
    return o


def _deliveries(o: pd.DataFrame, cust: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(o)
    days = rng.integers(3, 8, n)
    o["promised_s"] = (o["ordered_s"] // DAY + days) * DAY + 12 * HOUR
    region = cust["region"].to_numpy()[o["cust_idx"]]
    p_late = pd.Series(region).map(LATE_P).to_numpy()
    u = rng.random(n)
    tail = np.minimum(rng.geometric(0.35, n), 10)
    delay = np.where(u < 0.2, -1, np.where(u < 1.0 - p_late, 0, tail))
    o["delay"] = delay.astype("int64")
    # Deliveries land 0-6 h after the promised noon (+ delay days), so the delay in whole
    # days is the same by floor, round or calendar-date difference.
    o["delivered_s"] = o["promised_s"] + o["delay"] * DAY + rng.integers(0, 6 * HOUR, n)
    o["delivered"] = rng.random(n) >= 0.02
    return o


def _survey_selection(o: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    o["surveyed"] = o["delivered"] & (rng.random(len(o)) < 0.7)
    # Every customer answers at least once: force their first delivered order to be surveyed,
    # delivering it first if none of their orders arrived.
    has = o.groupby("cust_idx")["surveyed"].transform("any")
    first = ~o.duplicated("cust_idx")  # orders are sorted by time
    no_delivery = ~o.groupby("cust_idx")["delivered"].transform("any")
    o.loc[first & no_delivery, "delivered"] = True
    delivered = o[o["delivered"]]
    first_delivered = delivered.index[~delivered["cust_idx"].duplicated()]
    force = first_delivered[~has.loc[first_delivered].to_numpy()]
    o.loc[force, "surveyed"] = True
    o["responded_s"] = o["delivered_s"] + rng.integers(DAY + HOUR, 7 * DAY, len(o))
    return o


def _tickets(cust: pd.DataFrame, o: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    latest_open = CUTOFF_S - 7 * DAY
    tenure_years = (CUTOFF_S - cust["signup_s"].to_numpy()) / (365 * DAY)
    k = rng.poisson(0.6 * tenure_years)
    bg_c = np.repeat(cust.index.to_numpy(), k)
    bg_start = cust["signup_s"].to_numpy()[bg_c]
    bg_t = bg_start + (rng.random(len(bg_c)) * (latest_open - bg_start)).astype("int64")
    # Late or missing deliveries make people call support.
    p = np.where(~o["delivered"], 0.5, 0.08 + 0.07 * np.maximum(o["delay"], 0))
    hit = rng.random(len(o)) < p
    oh = o[hit]
    lo = oh["ordered_s"].to_numpy() + DAY
    hi = np.maximum(oh["delivered_s"], oh["promised_s"]).to_numpy() + 2 * DAY
    or_t = lo + (rng.random(len(oh)) * (hi - lo)).astype("int64")
    t = pd.DataFrame({"cust_idx": np.concatenate([bg_c, oh["cust_idx"].to_numpy()]),
                      "opened_s": np.concatenate([bg_t, or_t]).astype("int64")})
    t = t[t["opened_s"] < latest_open].reset_index(drop=True)
    plan = cust["plan"].to_numpy()[t["cust_idx"]]
    median = pd.Series(plan).map(RESPONSE_MEDIAN_HOURS).to_numpy()
    hours = np.clip(np.exp(np.log(median) + 0.6 * rng.normal(size=len(t))), 0.1, 120.0)
    t["response_s"] = t["opened_s"] + np.round(hours * HOUR).astype("int64")
    # Naive Berlin wall-clock times in the DST fall-back hour are ambiguous; move those
    # tickets two hours later so the declared zone alone recovers the instant.
    for _ in range(5):
        bad = _ambiguous_in_berlin(t["opened_s"].to_numpy()) | _ambiguous_in_berlin(
            t["response_s"].to_numpy())
        if not bad.any():
            break
        t.loc[bad, ["opened_s", "response_s"]] += 2 * HOUR
    t["sla_hours"] = pd.Series(plan).map(SLA_HOURS).to_numpy()
    t = t.sort_values(["opened_s", "cust_idx"], kind="stable").reset_index(drop=True)
    t["ticket_id"] = [f"T{k:06d}" for k in range(1, len(t) + 1)]
    t["email"] = cust["email"].to_numpy()[t["cust_idx"]]
    t["gap_hours"] = (t["response_s"] - t["opened_s"]) / HOUR - t["sla_hours"]
    t["breach"] = (t["gap_hours"] > 0).astype("int64")
    return t


def _web_events(cust: pd.DataFrame, o: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(cust)
    n_dev = 1 + (rng.random(n) < 0.3)
    dev_owner = np.repeat(np.arange(n), n_dev)
    device_ids = np.array([f"D{k:06d}" for k in range(1, len(dev_owner) + 1)], dtype=object)
    # First device follows the customer's channel; a second one is the other kind.
    is_app = np.empty(len(dev_owner), dtype=bool)
    first = np.r_[True, dev_owner[1:] != dev_owner[:-1]]
    is_app[first] = cust["channel"].to_numpy()[dev_owner[first]] == "app"
    is_app[~first] = ~is_app[np.flatnonzero(~first) - 1]
    dev_start = np.r_[0, np.cumsum(n_dev)[:-1]]

    rows: list[tuple[int, int, int, str]] = []  # (device index, customer index or -1, ms, event)

    def session(c: int, t0: int, steps: list[tuple[str, float]], end: int | None) -> None:
        d = dev_start[c] + rng.integers(0, n_dev[c])
        t = t0
        events = ["app_open" if is_app[d] else "page_view"]
        events += [e for e, p in steps if rng.random() < p]
        for e in events:
            ms = t * 1000 + int(rng.integers(0, 1000))
            rows.append((d, c if e == "login" else -1, ms, e))
            t += int(rng.integers(20, 300))
            if end is not None:
                t = min(t, end)

    buy = [("login", 0.6), ("search", 0.5), ("page_view", 0.5), ("add_to_cart", 1.0),
           ("checkout", 1.0)]
    browse = [("login", 0.3), ("search", 0.5), ("page_view", 0.6), ("add_to_cart", 0.2)]
    for c, t_order in zip(o["cust_idx"].to_numpy(), o["ordered_s"].to_numpy()):
        session(int(c), int(t_order) - int(rng.integers(5 * 60, 40 * 60)), buy, int(t_order) - 1)
    k = rng.poisson(0.8, n)
    for c in np.flatnonzero(k):
        start = int(cust["signup_s"].iat[c])
        for t0 in np.sort(rng.integers(start, CUTOFF_S - DAY, k[c])):
            session(int(c), int(t0), browse, None)
    w = pd.DataFrame(rows, columns=["dev_idx", "cust_idx", "ts", "event"])
    w = w.sort_values(["ts", "dev_idx"], kind="stable").reset_index(drop=True)
    w["device_id"] = device_ids[w["dev_idx"]]
    w["customer_id"] = np.where(w["cust_idx"] >= 0,
                                cust["customer_id"].to_numpy()[w["cust_idx"].clip(lower=0)], "")
    w.attrs["device_ids"] = device_ids
    w.attrs["dev_owner"] = dev_owner
    return w


# --------------------------------------------------------------------------------------
# bad rows and the tables as written
# --------------------------------------------------------------------------------------


def write_sample(out: Path, *, seed: int = 42, n_customers: int | None = None) -> Path:
    """Write the simulated sources as ``<table>.csv`` plus ``truth.json`` into ``out``.

    Parameters
    ----------
    out : Path
        Output folder, created if missing; existing files of the same names are replaced.
    seed : int
        Random seed; the same seed writes byte-identical files.
    n_customers : int, optional
        Number of customers; None means the committed sample's size (2000).

    Returns
    -------
    Path
        The output folder.

    Examples
    --------
    >>> import tempfile
    >>> d = write_sample(Path(tempfile.mkdtemp()), seed=3, n_customers=100)
    >>> (d / "truth.json").exists()
    True
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sim = simulate(seed=seed, n_customers=DEFAULT_N_CUSTOMERS if n_customers is None
                   else n_customers)
    for name in TABLES:
        sim.tables[name].to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
    (out / "truth.json").write_text(json.dumps(sim.truth, sort_keys=True, indent=2) + "\n",
                                    encoding="utf-8")
    return out
