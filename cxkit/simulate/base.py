"""The simulated story's fixed parameters (calendar, segments, true effects, bad-row
offsets) and the helpers that format integer epoch seconds the way each source system
writes times, shared by :mod:`cxkit.simulate.sources` (the generator) and
:mod:`cxkit.simulate.written` (the tables as written and the truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY = 86_400
HOUR = 3_600
CUTOFF = "2025-01-01T00:00:00Z"
CUTOFF_S = 1_735_689_600  # 2025-01-01 00:00:00 UTC
SIGNUP_START_S = 1_672_531_200  # 2023-01-01 00:00:00 UTC
SIGNUP_DAYS = 547  # 2023-01-01 .. 2024-06-30 inclusive
HORIZON_DAYS = 365
WINDOW_DAYS = 30
DEFAULT_N_CUSTOMERS = 2000
TICKET_TZ = "Europe/Berlin"

REGIONS = ("North", "South", "East", "West")
REGION_P = (0.35, 0.28, 0.22, 0.15)
CHANNELS = ("web", "app", "store")
CHANNEL_P = (0.45, 0.35, 0.20)
PLANS = ("basic", "plus", "premium")
PLAN_P = (0.5, 0.3, 0.2)
SLA_HOURS = {"basic": 24, "plus": 8, "premium": 4}
# Median first-response time per plan: support mostly meets the SLA, about a third breach.
RESPONSE_MEDIAN_HOURS = {"basic": 17.0, "plus": 5.5, "premium": 2.8}
# Share of late deliveries per region: South and West are served by a worse carrier.
LATE_P = {"North": 0.15, "South": 0.35, "East": 0.20, "West": 0.30}

DRIVERS = ("rating_product", "rating_delivery", "rating_app", "rating_price",
           "gap_delivery", "had_support_ticket", "breach_support_ticket")
MU_BETA = {"rating_product": 0.7, "rating_delivery": 0.45, "rating_app": 0.3,
           "rating_price": 0.4, "gap_delivery": -0.25, "had_support_ticket": -0.5,
           "breach_support_ticket": -0.9}
TAU = 0.12
# Target NPS shares for 0..10: 20% detractors (0-6), 40% passives, 40% promoters.
NPS_SHARES = (0.03, 0.015, 0.02, 0.02, 0.025, 0.04, 0.05, 0.17, 0.23, 0.20, 0.20)
CSAT_SHARES = (0.05, 0.08, 0.17, 0.35, 0.35)  # csat 1..5
CES_SHARES = (0.25, 0.25, 0.18, 0.12, 0.10, 0.06, 0.04)  # ces 1..7, low effort = good
RETENTION = {"r0": {"basic": 0.4, "plus": 0.8, "premium": 1.2}, "r_nps": 0.25, "nps_ref": 7}
SPEND = {"s0": {"basic": 5.0, "plus": 5.6, "premium": 6.3}, "s_nps": 0.04, "sigma": 0.3,
         "nps_ref": 7}
OFFSETS = (("Z", 0), ("+01:00", HOUR), ("-03:00", -3 * HOUR), ("+05:30", 5 * HOUR + 1800),
           ("-05:00", -5 * HOUR))
OFFSET_P = (0.4, 0.25, 0.15, 0.1, 0.1)

TABLES = ("customers", "orders", "deliveries", "tickets", "web_events", "surveys", "renewals")
ANALYSIS_COLUMNS = [
    "response_id", "customer_id", "responded_at", "region", "channel", "plan", "cohort",
    "nps", "csat", "ces", "rating_product", "rating_delivery", "rating_app", "rating_price",
    "verbatim", "had_delivery", "n_delivery", "gap_delivery", "breach_delivery",
    "had_support_ticket", "n_support_ticket", "gap_support_ticket", "breach_support_ticket",
    "promoter",
]

_FIRST = ("anna", "ben", "carla", "david", "eva", "felix", "greta", "hugo", "ines", "jonas",
          "katrin", "lukas", "maria", "niko", "olga", "paul", "rosa", "sven", "tina", "umar")
_LAST = ("schmidt", "silva", "nowak", "jones", "rossi", "garcia", "kim", "meyer", "dubois",
         "costa", "novak", "smith", "weber", "lopez", "berg", "martin")
_DOMAINS = ("example.com", "example.org", "example.net")



# --------------------------------------------------------------------------------------
# formatting helpers
# --------------------------------------------------------------------------------------

def _fmt_utc(secs: np.ndarray) -> np.ndarray:
    return pd.to_datetime(np.asarray(secs, dtype="int64"), unit="s").strftime(
        "%Y-%m-%dT%H:%M:%SZ").to_numpy(dtype=object)


def _fmt_naive(secs: np.ndarray, fmt: str) -> np.ndarray:
    return pd.to_datetime(np.asarray(secs, dtype="int64"), unit="s").strftime(fmt).to_numpy(
        dtype=object)


def _fmt_berlin(secs: np.ndarray) -> np.ndarray:
    ts = pd.to_datetime(np.asarray(secs, dtype="int64"), unit="s", utc=True)
    return ts.tz_convert(TICKET_TZ).strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)


def _ambiguous_in_berlin(secs: np.ndarray) -> np.ndarray:
    """True where the Berlin wall-clock time of ``secs`` is ambiguous (DST fall-back hour)."""
    naive = pd.to_datetime(pd.Series(_fmt_berlin(secs)))
    local = naive.dt.tz_localize(TICKET_TZ, ambiguous="NaT", nonexistent="NaT")
    return local.isna().to_numpy()


def _money(x: np.ndarray) -> np.ndarray:
    return np.array([f"{v:.2f}" for v in x], dtype=object)


def _insert_rows(clean: pd.DataFrame, bad: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Scatter ``bad`` rows at random positions of ``clean``, keeping clean order."""
    key = np.concatenate([np.arange(len(clean), dtype=float),
                          rng.uniform(0, len(clean), len(bad))])
    both = pd.concat([clean, bad], ignore_index=True)
    return both.iloc[np.argsort(key, kind="stable")].reset_index(drop=True)


def _logistic_quantile_cutpoints(eta: np.ndarray, shares, rng: np.random.Generator) -> np.ndarray:
    """Cutpoints giving the target category shares for latent eta + Logistic(0, 1)."""
    reps = max(1, 200_000 // max(len(eta), 1))
    latent = np.repeat(eta, reps) + rng.logistic(size=len(eta) * reps)
    cum = np.cumsum(shares)[:-1]
    return np.round(np.quantile(latent, cum), 4)


def _ordinal_draw(eta: np.ndarray, cutpoints: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # An ordered logistic draw is the number of cutpoints below eta + Logistic noise.
    return np.searchsorted(cutpoints, eta + rng.logistic(size=len(eta)), side="left")

