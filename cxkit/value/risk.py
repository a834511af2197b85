"""Revenue at risk per quadrant and segment, and the list of active customers to call.

Revenue at risk of a customer over the horizon is ``P(leave) * E[revenue | stays]`` under
the value model: ``(1 - P(retain)) * exp(c + d * x + sigma**2 / 2)``. It is counted only for
customers still *active*: a customer who already left has nothing left to lose (the
``active`` column of the table when present, else ``retained``: paid in the outcome period).
Sums over customers are taken per posterior draw, so the 90% intervals are those of the sums.

The at-risk list names, for each active customer in the chosen quadrants, the two or three
journey measures that cost them most satisfaction: the driver model's effect in their
segment times how far their own value sits from the typical (mean) customer, worst first,
written in words ("delivery 3.0 days late", "2 broken support ticket promises").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit.stats import equal_tailed
from cxkit.value.impact import INTERVAL
from cxkit.value.quadrants import QUADRANTS

RISK_COLUMNS = ["quadrant", "segment_var", "segment_value", "customers",
                "revenue_at_risk_mean", "revenue_at_risk_low", "revenue_at_risk_high",
                "currency", "horizon_days"]
ALL = "(all)"


def active_mask(table: pd.DataFrame) -> np.ndarray:
    """Customers still active: ``active`` if the table has it, else ``retained``."""
    for col in ("active", "retained"):
        if col in table.columns:
            return table[col].astype(bool).to_numpy()
    raise KeyError("table has neither 'active' nor 'retained'; cannot tell who already left "
                   "(build it with cxkit.value.customer_value_table).")


def quadrant_table(q: pd.DataFrame, segments: list[str]) -> pd.DataFrame:
    """The ``quadrants.parquet`` contract from :func:`assign_quadrants` output:
    ``customer_id, <segments>, score, revenue_pre, quadrant, active``."""
    score = q.attrs.get("score_column", "score")
    revenue = q.attrs.get("revenue_column", "revenue_pre")
    out = q[["customer_id", *segments]].copy()
    out["score"] = q[score].astype(float).to_numpy()
    out["revenue_pre"] = q[revenue].astype(float).to_numpy()
    out["quadrant"] = q["quadrant"].astype(str).to_numpy()
    out["active"] = active_mask(q)
    out.attrs.update(q.attrs)
    return out


def _risk_draws(value_result, table, max_samples):
    """Per-customer risk is a function of (cell, score): draws x groups, plus group index."""
    score_col = value_result.config.get("score", "score")
    cell = value_result.cell_index(table)
    score = table[score_col].to_numpy(dtype=float)
    key = pd.DataFrame({"cell": cell, "score": score})
    gid = key.groupby(["cell", "score"], sort=False).ngroup().to_numpy()
    first = np.unique(gid, return_index=True)[1]
    n_value = len(value_result.draws()["sigma"])
    idx = np.linspace(0, n_value - 1, min(max_samples, n_value)).round().astype(int)
    p_ret, spend = value_result._parts(score[first], cell[first], draw_idx=idx)
    return p_ret, spend, gid


def revenue_at_risk(q: pd.DataFrame, value_result, *, segments: list[str], currency: str,
                    horizon_days: int | None = None, max_samples: int = 1000,
                    prob: float = INTERVAL) -> pd.DataFrame:
    """Revenue at risk of active customers per quadrant and segment, with 90% intervals.

    Parameters
    ----------
    q : DataFrame
        :func:`assign_quadrants` output (the value table plus ``quadrant``).
    value_result : ValueResult
        The fitted value model.
    segments : list of str
        Segment columns to break down by (each on its own).
    currency : str
        Currency label of the money columns.
    horizon_days : int, optional
        Horizon of the risk; default the value model's (revenue scales linearly).
    max_samples : int
        Value-model draws used (evenly spaced).

    Returns
    -------
    DataFrame
        ``RISK_COLUMNS``; per quadrant one ``(all)`` row and one row per segment value, then
        quadrant ``(all)`` rows for all customers. Rows of one ``segment_var`` add up within
        a quadrant (their means; intervals do not add).

    Examples
    --------
    >>> q = assign_quadrants(table)  # doctest: +SKIP
    >>> revenue_at_risk(q, vr, segments=["plan"], currency="EUR")  # doctest: +SKIP
    """
    model_h = float(value_result.config.get("horizon_days") or 365)
    horizon_days = int(horizon_days or model_h)
    act = active_mask(q)
    p_ret, spend, gid = _risk_draws(value_result, q, max_samples)
    risk = (1.0 - p_ret) * spend * (horizon_days / model_h)   # draws x groups
    quad = q["quadrant"].astype(str).to_numpy()
    rows = []
    keys = [(ALL, ALL, np.ones(len(q), bool))]
    for col in segments:
        vals = q[col].astype(str).to_numpy()
        keys += [(col, v, vals == v) for v in sorted(set(vals))]
    for qname in [*QUADRANTS, ALL]:
        in_q = act & ((quad == qname) if qname != ALL else True)
        for var, value, m in keys:
            sel = in_q & m
            w = np.bincount(gid[sel], minlength=risk.shape[1]).astype(float)
            total = risk @ w
            lo, hi = equal_tailed(total, prob)
            rows.append({"quadrant": qname, "segment_var": var, "segment_value": value,
                         "customers": int(sel.sum()), "revenue_at_risk_mean": float(total.mean()),
                         "revenue_at_risk_low": lo, "revenue_at_risk_high": hi,
                         "currency": currency, "horizon_days": horizon_days})
    out = pd.DataFrame(rows, columns=RISK_COLUMNS)
    out.attrs.update({"interval": prob, "rule": "P(leave) x expected revenue if the customer "
                      "stays, summed over active customers"})
    return out


def _words(driver: str, v: np.ndarray, typical: float, units: dict) -> np.ndarray:
    kind, _, tp = driver.partition("_")
    name = tp.replace("_", " ") or driver
    s = pd.Series(v)
    if kind == "gap":
        unit = units.get(tp, "units")
        late = s.abs().map(lambda x: f"{x:.1f}")
        return np.where(s > 0, name + " " + late + f" {unit} late",
                        name + " " + late + f" {unit} early")
    if kind == "breach":
        n = s.map(lambda x: f"{x:g}")
        return np.where(s == 1, f"1 broken {name} promise", n + f" broken {name} promises")
    if kind == "had":
        return np.where(s > 0, f"had a {name}", f"no {name}")
    if kind == "n":
        return (s.map(lambda x: f"{x:g}") + f" {name} events").to_numpy()
    label = driver.replace("_", " ")
    return (label + " " + s.map(lambda x: f"{x:g}") + f" (typical {typical:.1f})").to_numpy()


def customer_issues(driver_result, latest: pd.DataFrame, *, n_issues: int = 3,
                    units: dict | None = None) -> pd.DataFrame:
    """The ``n_issues`` journey measures that cost each customer most, in words.

    ``contribution = beta[segment, driver] (posterior mean) * (value - mean value)``; only
    negative contributions (those that lower the score) are named, worst first; the rest are
    empty strings.

    Examples
    --------
    >>> customer_issues(drv, latest, units={"delivery": "days"})  # doctest: +SKIP
    """
    units = units or {}
    cfg = driver_result.config
    drivers = list(cfg.drivers)
    beta = driver_result.idata.posterior["beta"].mean(("chain", "draw"))
    seg_labels = [str(s) for s in beta.coords["segment"].values]
    b = beta.transpose("segment", "driver").sel(driver=drivers).to_numpy()
    lookup = {s: i for i, s in enumerate(seg_labels)}
    seg = np.array([lookup[str(s)] for s in driver_result.segment_labels(latest)], dtype=int)
    x = latest[drivers].to_numpy(dtype=float)
    typical = np.nanmean(x, axis=0)
    contrib = b[seg] * (x - typical)
    contrib = np.where(np.isnan(contrib), 0.0, contrib)
    order = np.argsort(contrib, axis=1)[:, :n_issues]
    words = np.stack([_words(d, x[:, j], typical[j], units) for j, d in enumerate(drivers)],
                     axis=1)
    out = {}
    for k in range(n_issues):
        if k >= order.shape[1]:  # fewer drivers than issues asked for: the rest stay blank
            out[f"issue_{k + 1}"] = np.full(len(x), "", dtype=object)
            continue
        j = order[:, k]
        hurts = contrib[np.arange(len(x)), j] < 0
        out[f"issue_{k + 1}"] = np.where(hurts, words[np.arange(len(x)), j], "")
    return pd.DataFrame(out, index=latest.index)


def at_risk_list(q: pd.DataFrame, value_result, *, segments: list[str], issues=None,
                 quadrants=("At-risk",), max_samples: int = 1000) -> pd.DataFrame:
    """Active customers in ``quadrants``, most revenue at risk first (``at_risk.parquet``).

    Parameters
    ----------
    q : DataFrame
        :func:`assign_quadrants` output.
    value_result : ValueResult
    segments : list of str
        Segment columns to carry.
    issues : DataFrame, optional
        :func:`customer_issues` aligned with ``q`` (``issue_1..3``); empty strings otherwise.
    quadrants : tuple of str
        Which quadrants to list.

    Returns
    -------
    DataFrame
        ``customer_id, <segments>, score, p_leave_mean, expected_value_mean,
        revenue_at_risk_mean, issue_1, issue_2, issue_3``; customers who already left are
        never listed.
    """
    score_col = value_result.config.get("score", "score")
    p_ret, spend, gid = _risk_draws(value_result, q, max_samples)
    p_leave = (1.0 - p_ret).mean(axis=0)[gid]
    ev = spend.mean(axis=0)[gid]
    rar = ((1.0 - p_ret) * spend).mean(axis=0)[gid]
    keep = active_mask(q) & q["quadrant"].astype(str).isin(list(quadrants)).to_numpy()
    out = q.loc[keep, ["customer_id", *segments]].copy()
    out["score"] = q.loc[keep, score_col].astype(float).to_numpy()
    out["p_leave_mean"] = p_leave[keep]
    out["expected_value_mean"] = ev[keep]
    out["revenue_at_risk_mean"] = rar[keep]
    for k in (1, 2, 3):
        col = f"issue_{k}"
        out[col] = (issues.loc[keep, col].to_numpy() if issues is not None and col in issues
                    else "")
    out = out.sort_values("revenue_at_risk_mean", ascending=False, kind="mergesort")
    out.attrs["rule"] = ("active customers in " + ", ".join(quadrants) + "; expected_value = "
                         "revenue over the horizon if they stay")
    return out.reset_index(drop=True)
