"""The multi-source sample: reproducible, sized, bad rows as declared, truth consistent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxkit.simulate import simulate, write_sample
from cxkit.simulate.sources import ANALYSIS_COLUMNS, REGIONS, TABLES

CUTOFF = pd.Timestamp("2025-01-01", tz="UTC")
COMMITTED = Path(__file__).resolve().parents[2] / "data" / "sample"
KNOWN_EVENTS = {"page_view", "search", "add_to_cart", "checkout", "app_open", "login"}


def _utc(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, format="ISO8601", utc=True, errors="coerce")


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = write_sample(tmp_path / "a", seed=11, n_customers=120)
    b = write_sample(tmp_path / "b", seed=11, n_customers=120)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted([f"{t}.csv" for t in TABLES] + ["truth.json"])
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_different_seeds_differ(tmp_path):
    a = write_sample(tmp_path / "a", seed=1, n_customers=120)
    b = write_sample(tmp_path / "b", seed=2, n_customers=120)
    for name in ("orders.csv", "surveys.csv", "truth.json"):
        assert (a / name).read_bytes() != (b / name).read_bytes(), name


def test_default_sample_is_small_and_matches_the_committed_one(default_sample):
    out = default_sample["dir"]
    total = sum(p.stat().st_size for p in out.iterdir())
    assert total < 10 * 1024 * 1024
    assert default_sample["truth"]["n_customers"] == 2000
    if not COMMITTED.exists():
        pytest.skip(f"no committed sample at {COMMITTED}")
    for p in sorted(out.iterdir()):
        assert (COMMITTED / p.name).read_bytes() == p.read_bytes(), (
            f"data/sample/{p.name} is stale: run `cxkit simulate --seed 42 --out data/sample`")


def test_columns_follow_the_contract(small_sample):
    t = small_sample["tables"]
    assert list(t["customers"]) == ["customer_id", "email", "region", "channel", "plan",
                                    "signup_date"]
    assert list(t["orders"]) == ["order_id", "customer_id", "ordered_at", "revenue"]
    assert list(t["deliveries"]) == ["order_id", "customer_id", "promised_at", "delivered_at"]
    assert list(t["tickets"]) == ["ticket_id", "email", "opened_at", "first_response_at",
                                  "sla_hours"]
    assert list(t["web_events"]) == ["device_id", "customer_id", "ts", "event"]
    assert list(t["surveys"]) == ["response_id", "customer_id", "responded_at", "nps", "csat",
                                  "ces", "rating_product", "rating_delivery", "rating_app",
                                  "rating_price", "verbatim"]
    assert list(t["renewals"]) == ["customer_id", "renewal_at", "renewed", "contract_value"]
    assert list(small_sample["sim"].analysis) == ANALYSIS_COLUMNS
    # The in-memory tables are what was written.
    for name, df in small_sample["sim"].tables.items():
        assert len(df) == len(t[name]), name


def test_injected_bad_rows_match_truth(small_sample):
    t, truth = small_sample["tables"], small_sample["truth"]
    orders = t["orders"]
    assert _utc(orders["ordered_at"]).isna().sum() == 3
    assert orders.duplicated().sum() == 4
    surveys = t["surveys"]
    out_of_range = (surveys["nps"].astype(int) > 10) | (surveys["csat"].astype(int) > 5)
    assert out_of_range.sum() == 3
    assert (surveys["customer_id"] == "").sum() == 2
    emails = set(t["customers"]["email"])
    assert (~t["tickets"]["email"].isin(emails)).sum() == 3
    web = t["web_events"]
    assert (~web["event"].isin(KNOWN_EVENTS)).sum() == 5
    ts = web["ts"].astype("int64")
    assert (ts > pd.Timestamp("2099-01-01", tz="UTC").value // 10**6).sum() == 2
    logins = web[web["event"] == "login"]
    multi = logins.groupby("device_id")["customer_id"].nunique()
    conflict_devices = sorted(multi[multi > 1].index)
    assert conflict_devices == sorted(c["device_id"] for c in truth["identity_conflicts"])
    assert truth["injected"] == {
        "customers": {}, "deliveries": {}, "renewals": {},
        "orders": {"bad_timestamp": 3, "duplicate_event": 4},
        "surveys": {"score_out_of_range": 3, "missing_id": 2},
        "tickets": {"orphan": 3},
        "web_events": {"unknown_touchpoint": 5, "future_timestamp": 2, "identity_conflict": 2},
    }
    for name, df in t.items():
        counts = truth["expected_counts"][name]
        assert counts["rows_in"] == len(df), name
        assert counts["rows_in"] == counts["kept"] + counts["quarantined"], name
        assert counts["quarantined"] == sum(truth["injected"][name].values()), name


def test_identity_conflict_intruder_logs_in_after_the_owner(small_sample):
    web = small_sample["tables"]["web_events"]
    for c in small_sample["truth"]["identity_conflicts"]:
        logins = web[(web["device_id"] == c["device_id"]) & (web["event"] == "login")]
        first = logins.loc[logins["ts"].astype("int64").idxmin()]
        assert first["customer_id"] == c["owner"]
        assert (logins["customer_id"] == c["intruder"]).sum() == 1


def test_timestamps_mixed_offsets_and_bounds(small_sample):
    t = small_sample["tables"]
    ordered = t["orders"]["ordered_at"]
    suffixes = set(ordered.str.extract(r"(Z|[+-]\d\d:\d\d)$")[0].dropna())
    assert {"Z", "+01:00", "-03:00"} <= suffixes
    orders = t["orders"].drop_duplicates().assign(ts=lambda d: _utc(d["ordered_at"])).dropna()
    signup = pd.to_datetime(t["customers"].set_index("customer_id")["signup_date"], utc=True)
    assert (orders["ts"] >= orders["customer_id"].map(signup)).all()
    assert (orders["ts"] < CUTOFF - pd.Timedelta(days=45)).all()
    spacing = orders.sort_values("ts").groupby("customer_id")["ts"].diff().dropna()
    assert spacing.min() >= pd.Timedelta(days=60)
    assert orders.groupby("customer_id").size().between(1, 5).all()
    d = t["deliveries"]
    for col in ("promised_at", "delivered_at"):
        assert (_utc(d[col]).dropna() < CUTOFF).all()
    assert 0.005 < (d["delivered_at"] == "").mean() < 0.04
    s = t["surveys"]
    assert (_utc(s["responded_at"]) < CUTOFF).all()
    r = _utc(t["renewals"]["renewal_at"])
    assert ((r > CUTOFF) & (r < CUTOFF + pd.Timedelta(days=365))).all()
    web = t["web_events"]["ts"].astype("int64")
    assert (web < CUTOFF.value // 10**6).sum() == len(web) - 2


def test_analysis_is_consistent(small_sample):
    sim = small_sample["sim"]
    a, cust = sim.analysis, sim.tables["customers"]
    assert set(a["customer_id"]) == set(cust["customer_id"])  # everyone answered once at least
    assert str(a["responded_at"].dt.tz) == "UTC"
    assert a["nps"].between(0, 10).all() and a["csat"].between(1, 5).all()
    assert a["ces"].between(1, 7).all()
    for r in ("rating_product", "rating_delivery", "rating_app", "rating_price"):
        assert a[r].between(1, 5).all()
    assert (a["promoter"] == (a["nps"] >= 9)).all()
    assert set(a["region"]) == set(REGIONS)
    assert a["cohort"].str.fullmatch(r"20(23|24)Q[1-4]").all()
    # Late deliveries get worse delivery ratings.
    late = a["gap_delivery"] > 2
    assert a.loc[late, "rating_delivery"].mean() < a.loc[~late, "rating_delivery"].mean() - 0.5
    # Undelivered orders never get a survey.
    d = sim.tables["deliveries"]
    assert a["customer_id"].isin(d.loc[d["delivered_at"] != "", "customer_id"]).all()


def test_verbatims_follow_the_scores(small_sample):
    a = small_sample["sim"].analysis
    prom = a[a["nps"] >= 9]["verbatim"]
    detr = a[a["nps"] <= 6]["verbatim"]
    assert not detr.str.contains("Great experience|Very satisfied|Excellent").any()
    assert not prom.str.contains("Disappointed|Would not recommend|Poor experience").any()
    assert a["verbatim"].str.len().between(10, 200).all()


def test_rejects_tiny_samples():
    with pytest.raises(ValueError, match="n_customers=5 is too small"):
        simulate(seed=0, n_customers=5)


def test_no_accidental_duplicates_and_tickets_before_cutoff(small_sample):
    t = small_sample["tables"]
    for name in ("web_events", "tickets", "surveys", "deliveries", "customers", "renewals"):
        assert not t[name].duplicated().any(), name
    assert t["customers"]["email"].is_unique
    assert (t["customers"]["email"] == t["customers"]["email"].str.lower()).all()
    for col in ("opened_at", "first_response_at"):
        local = pd.to_datetime(t["tickets"][col], format="%Y-%m-%d %H:%M:%S")
        utc = local.dt.tz_localize("Europe/Berlin").dt.tz_convert("UTC")  # raises if ambiguous
        assert (utc < CUTOFF).all()
