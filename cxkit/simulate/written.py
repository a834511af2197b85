"""The simulated tables as the source systems write them (formats, injected bad rows), the
analysis table and ``truth.json``'s content."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit.simulate.base import (
    DAY,
    HOUR,
    CUTOFF,
    CUTOFF_S,
    HORIZON_DAYS,
    WINDOW_DAYS,
    TICKET_TZ,
    REGIONS,
    CHANNELS,
    PLANS,
    DRIVERS,
    RETENTION,
    SPEND,
    TABLES,
    ANALYSIS_COLUMNS,
    _fmt_utc,
    _fmt_berlin,
    _money,
    _insert_rows,
)


def _write_tables(cust, o, t, w, r, ren, rng):
    injected: dict[str, dict[str, int]] = {}

    customers = cust[["customer_id", "email", "region", "channel", "plan", "signup_date"]].copy()

    orders = o[["order_id", "customer_id", "ordered_at", "revenue"]].copy()
    orders["revenue"] = _money(orders["revenue"].to_numpy())
    bad_ts = ["2024-02-30T10:15:00Z", "not available", "31/13/2024 25:61"]
    bad = orders.iloc[rng.choice(len(orders), 3, replace=False)].copy()
    bad["order_id"] = [f"O{k:07d}" for k in range(len(orders) + 1, len(orders) + 4)]
    bad["ordered_at"] = bad_ts
    dup = orders.iloc[rng.choice(len(orders), 4, replace=False)].copy()
    orders = _insert_rows(orders, pd.concat([bad, dup]), rng)
    injected["orders"] = {"bad_timestamp": 3, "duplicate_event": 4}

    deliveries = pd.DataFrame({
        "order_id": o["order_id"], "customer_id": o["customer_id"],
        "promised_at": _fmt_utc(o["promised_s"]),
        "delivered_at": np.where(o["delivered"], _fmt_utc(o["delivered_s"]), ""),
    })

    tickets = pd.DataFrame({
        "ticket_id": t["ticket_id"], "email": t["email"],
        "opened_at": _fmt_berlin(t["opened_s"]), "first_response_at": _fmt_berlin(t["response_s"]),
        "sla_hours": t["sla_hours"],
    })
    bad = tickets.iloc[rng.choice(len(tickets), 3, replace=False)].copy()
    bad["ticket_id"] = [f"T{k:06d}" for k in range(len(tickets) + 1, len(tickets) + 4)]
    bad["email"] = [f"nobody.known{k}@example.com" for k in range(1, 4)]
    tickets = _insert_rows(tickets, bad, rng)
    injected["tickets"] = {"orphan": 3}

    web = w[["device_id", "customer_id", "ts", "event"]].copy()
    lo, hi = int(web["ts"].min()), int(web["ts"].max())
    pick = rng.choice(len(web), 7, replace=False)
    unknown = pd.DataFrame({
        "device_id": web["device_id"].to_numpy()[pick[:5]], "customer_id": "",
        "ts": rng.integers(lo, hi, 5), "event": ["hover", "scroll", "video_play", "share",
                                                 "wishlist"]})
    future = pd.DataFrame({
        "device_id": web["device_id"].to_numpy()[pick[5:]], "customer_id": "",
        # 2099-01-01 .. 2099-12-31 in epoch milliseconds.
        "ts": rng.integers(4_070_908_800_000, 4_102_358_400_000, 2), "event": "page_view"})
    # Identity conflicts: a second customer logs in on a device whose owner logged in first.
    logins = w[w["event"] == "login"]
    first_login = logins.groupby("device_id")["ts"].min()
    candidates = first_login[first_login < (CUTOFF_S - 40 * DAY) * 1000].index.to_numpy()
    conflict_dev = np.sort(rng.choice(candidates, 2, replace=False))
    owner = logins.drop_duplicates("device_id").set_index("device_id")["customer_id"]
    intruders, conflict_rows = [], []
    for d in conflict_dev:
        others = cust["customer_id"].to_numpy()
        other = owner[d]
        while other == owner[d]:
            other = others[rng.integers(0, len(others))]
        ts = int(first_login[d]) + int(rng.integers(DAY, 30 * DAY)) * 1000
        intruders.append({"device_id": d, "customer_id": other, "ts": ts, "event": "login"})
        conflict_rows.append({"device_id": str(d), "owner": str(owner[d]),
                              "intruder": str(other), "ts": ts})
    web = _insert_rows(web, pd.concat([unknown, future, pd.DataFrame(intruders)]), rng)
    injected["web_events"] = {"unknown_touchpoint": 5, "future_timestamp": 2,
                              "identity_conflict": 2}

    surveys = pd.DataFrame({
        "response_id": r["response_id"], "customer_id": r["customer_id"],
        "responded_at": _fmt_utc(r["responded_s"]),
        **{k: r[k] for k in ("nps", "csat", "ces", "rating_product", "rating_delivery",
                              "rating_app", "rating_price", "verbatim")},
    })
    bad = surveys.iloc[rng.choice(len(surveys), 5, replace=False)].copy()
    n_s = len(surveys)
    bad["response_id"] = [f"R{k:06d}" for k in range(n_s + 1, n_s + 6)]
    bad["responded_at"] = _fmt_utc(r["responded_s"].to_numpy()[
        rng.choice(len(r), 5, replace=False)] + HOUR)
    bad["nps"] = bad["nps"].to_numpy()
    bad.iloc[0, bad.columns.get_loc("nps")] = 11
    bad.iloc[1, bad.columns.get_loc("nps")] = 11
    bad.iloc[2, bad.columns.get_loc("csat")] = 9
    bad.iloc[3:, bad.columns.get_loc("customer_id")] = ""
    surveys = _insert_rows(surveys, bad, rng)
    injected["surveys"] = {"score_out_of_range": 3, "missing_id": 2}

    renewals = ren[["customer_id", "renewal_at", "renewed", "contract_value"]].copy()

    tables = {"customers": customers, "orders": orders, "deliveries": deliveries,
              "tickets": tickets, "web_events": web, "surveys": surveys, "renewals": renewals}
    tables = {k: v.reset_index(drop=True) for k, v in tables.items()}
    for name in TABLES:
        injected.setdefault(name, {})
    return tables, injected, conflict_rows


def _analysis(r: pd.DataFrame, cust: pd.DataFrame) -> pd.DataFrame:
    a = r.copy()
    for col in ("region", "channel", "plan", "cohort"):
        a[col] = cust[col].to_numpy()[a["cust_idx"]]
    a["responded_at"] = pd.to_datetime(a["responded_s"], unit="s", utc=True)
    a["gap_delivery"] = a["gap_delivery"].astype(float)
    a["promoter"] = (a["nps"] >= 9).astype("int64")
    return a[ANALYSIS_COLUMNS].reset_index(drop=True)


def _truth(seed, n_customers, params, injected, conflicts, tables, analysis, o) -> dict:
    expected = {}
    for name, df in tables.items():
        q = sum(injected[name].values())
        expected[name] = {"rows_in": len(df), "kept": len(df) - q, "quarantined": q}
    nps = analysis["nps"]
    return {
        "seed": seed,
        "n_customers": n_customers,
        "cutoff": CUTOFF,
        "horizon_days": HORIZON_DAYS,
        "window_days": WINDOW_DAYS,
        "drivers": list(DRIVERS),
        "segments": {"region": list(REGIONS), "channel": list(CHANNELS), "plan": list(PLANS)},
        "nps": params,
        "retention": {**RETENTION,
                      "rule": "renewed ~ Bernoulli(logistic(r0[plan] + r_nps * (nps_last - "
                              "nps_ref))); nps_last = latest NPS before the cutoff"},
        "spend": {**SPEND,
                  "rule": "contract_value ~ LogNormal(s0[plan] + s_nps * (nps_last - nps_ref),"
                          " sigma) if renewed else 0"},
        "injected": injected,
        "expected_counts": expected,
        "identity_conflicts": conflicts,
        "rules": {
            "ticket_timezone": TICKET_TZ,
            "delivery_gap": "whole days: delivered_at = promised_at + delay days + 0-6 h, so "
                            "floor((delivered_at - promised_at) / 1 day) = delay; empty "
                            "delivered_at = never delivered (not a bad row)",
            "support_ticket_gap": "hours (first_response_at - opened_at) - sla_hours, elapsed "
                                  "time after converting the Europe/Berlin wall clock to UTC; "
                                  "breach when > 0",
            "window": "a touchpoint counts for a response if its time is in "
                      "[responded_at - 30 days, responded_at); delivery time = delivered_at, "
                      "ticket time = opened_at",
            "identity_conflict": "the first customer to log in on a device keeps it; the later "
                                 "login row of another customer is quarantined",
            "duplicate_event": "exact duplicate rows; the first copy is kept",
        },
        "summary": {
            "n_orders": int(len(o)),
            "n_delivered": int(o["delivered"].sum()),
            "n_responses": int(len(analysis)),
            "share_promoter": round(float((nps >= 9).mean()), 4),
            "share_detractor": round(float((nps <= 6).mean()), 4),
            "share_with_ticket": round(float(analysis["had_support_ticket"].mean()), 4),
        },
    }
