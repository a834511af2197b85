"""'Improve touchpoint X by d': from a driver shift to a revenue change with an interval.

For each scenario and each customer of the value table:

1. take the customer's latest survey response (at or before the table's cutoff) and shift the
   driver by ``delta`` (optionally clipped, e.g. ratings stay in 1-5);
2. ``delta_score = expected_outcome(shifted) - expected_outcome(base)`` per driver draw
   (the driver model's own uncertainty);
3. the customer's new score is ``score + delta_score``; the revenue change is
   ``E[value | new score] - E[value | score]`` under one value-model draw, paired at random
   with the driver draw (the two posteriors are independent, so a random pairing samples
   their joint);
4. sum over customers, per draw.

The customer's observed score is moved by the *expected* change, which assumes the driver
effect is the same for everyone in a segment: the driver model's assumption, not a new one.
A zero delta gives exactly zero change (same inputs, same arithmetic).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit.stats import hdi_1d
from cxkit.value.table import _to_utc

SCENARIO_COLUMNS = ["scenario", "driver", "delta", "delta_score_mean", "delta_revenue_mean",
                    "delta_revenue_low", "delta_revenue_high", "delta_revenue_pct",
                    "p_positive", "rank"]


def latest_responses(responses: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Each table customer's latest response at or before the table's cutoff, in table order.

    Only responses with a non-null value in the table's score column count (the same rule
    :func:`cxkit.value.customer_value_table` used to pick ``score``).
    """
    for col in ("customer_id", "responded_at"):
        if col not in responses.columns:
            raise KeyError(f"responses table has no '{col}' column; pass the ingested "
                           f"responses (docs/ARCHITECTURE.md).")
    resp = responses.copy()
    resp["_ts"] = _to_utc(resp["responded_at"], "responded_at")
    score_name = table.attrs.get("score_name")
    if score_name in resp.columns:
        resp = resp[resp[score_name].notna()]
    cutoff = table.attrs.get("cutoff")
    if cutoff is not None:
        resp = resp[resp["_ts"] <= pd.Timestamp(cutoff)]
    # integer positions in the table: hashing once is far faster than isin on string arrays
    ids = pd.Index(table["customer_id"])
    resp["_pos"] = ids.get_indexer(resp["customer_id"])
    resp = resp[resp["_pos"] >= 0].sort_values(["_pos", "_ts"], kind="mergesort")
    latest = resp.drop_duplicates("_pos", keep="last").set_index("_pos")
    missing = np.setdiff1d(np.arange(len(table)), latest.index.to_numpy())
    if len(missing):
        raise ValueError(f"{len(missing)} customer(s) of the value table have no response "
                         f"before the cutoff (e.g. {list(ids[missing[:3]])}); build the table "
                         f"and the scenarios from the same responses.")
    out = latest.loc[np.arange(len(table))].drop(columns="_ts").reset_index(drop=True)
    return out[["customer_id", *[c for c in out.columns if c != "customer_id"]]]


def _normalise(scenarios) -> list[dict]:
    out = []
    for i, sc in enumerate(scenarios):
        sc = sc.model_dump() if hasattr(sc, "model_dump") else dict(sc)
        if "driver" not in sc or "delta" not in sc:
            raise ValueError(f"scenario #{i} {sc} needs 'driver' and 'delta', e.g. "
                             f"{{'driver': 'gap_delivery', 'delta': -1}}.")
        delta = float(sc["delta"])
        name = sc.get("name") or f"{sc['driver']} {delta:+g}"
        clip = sc.get("clip")
        if clip is not None:
            lo, hi = (float(v) for v in clip)
            if lo > hi:
                raise ValueError(f"scenario '{name}': clip {clip} has low > high.")
            clip = (lo, hi)
        out.append({"name": name, "driver": sc["driver"], "delta": delta, "clip": clip})
    names = [s["name"] for s in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"scenario names must be unique; repeated: {dup}.")
    return out


def simulate_scenarios(driver_result, value_result, responses: pd.DataFrame,
                       table: pd.DataFrame, scenarios, *, seed: int = 0,
                       max_samples: int = 1000, hdi_prob: float = 0.94,
                       return_draws: bool = False):
    """Revenue change of shifting drivers, with a 94% HDI, ranked.

    Parameters
    ----------
    driver_result
        Fitted driver model with ``expected_outcome(data, *, max_samples) -> (n_samples, n)``
        on the score's scale (e.g. expected NPS).
    value_result : ValueResult
        Fitted value model (:func:`cxkit.value.fit_value_model`).
    responses : DataFrame
        Ingested responses holding the driver columns.
    table : DataFrame
        The value table the value model was fitted on.
    scenarios : list of dict
        ``{"driver": "gap_delivery", "delta": -1, "name": "...", "clip": [lo, hi]}``; delta in
        the driver's units; ``name`` and ``clip`` optional.
    seed : int
        Seed of the random pairing of driver and value draws.
    max_samples : int
        Driver draws to use.
    hdi_prob : float
        Interval mass (0.94 as in the rest of cxkit).
    return_draws : bool
        Also return the posterior draws of each scenario's revenue change, tidy
        (``scenario, draw, delta_revenue``): the dashboard's what-if slider reads them.

    Returns
    -------
    DataFrame
        One row per scenario: ``scenario, driver, delta, delta_score_mean`` (mean over
        customers and draws), ``delta_revenue_mean`` (summed over customers),
        ``delta_revenue_low/high``, ``delta_revenue_pct`` (of the expected baseline
        revenue), ``p_positive`` (posterior share of draws with a gain), ``rank`` (1 = largest
        mean gain). Sorted by rank.

    Examples
    --------
    >>> simulate_scenarios(driver_res, value_res, responses, table,
    ...                    [{"driver": "gap_delivery", "delta": -1}])  # doctest: +SKIP
    """
    specs = _normalise(scenarios)
    latest = latest_responses(responses, table)
    for s in specs:
        if s["driver"] not in latest.columns:
            raise KeyError(f"scenario '{s['name']}': driver '{s['driver']}' is not a column of "
                           f"responses (columns: {list(latest.columns)}).")
    score_col = value_result.config.get("score", "score")
    seg_idx = value_result.cell_index(table)
    scores = table[score_col].to_numpy(dtype=float)

    base_pred = np.asarray(driver_result.expected_outcome(latest, max_samples=max_samples),
                           dtype=float)
    n_draws = base_pred.shape[0]
    n_value = len(value_result.draws()["sigma"])
    rng = np.random.default_rng(seed)
    # random pairing; with replacement only when the value posterior is the smaller one
    pair = rng.choice(n_value, size=n_draws, replace=n_value < n_draws)
    base_value = value_result._expected_value(scores, seg_idx, draw_idx=pair)
    baseline_total = float(base_value.sum(axis=1).mean())

    rows, draws = [], []
    for s in specs:
        shifted = latest.copy()
        col = shifted[s["driver"]].astype(float) + s["delta"]
        if s["clip"] is not None:
            col = col.clip(*s["clip"])
        shifted[s["driver"]] = col
        new_pred = np.asarray(driver_result.expected_outcome(shifted, max_samples=max_samples),
                              dtype=float)
        if new_pred.shape != base_pred.shape:
            raise ValueError(f"driver_result.expected_outcome returned {new_pred.shape} for the "
                             f"shifted data but {base_pred.shape} for the base; it must return "
                             f"the same draws for the same number of rows.")
        d_score = new_pred - base_pred
        new_value = value_result._expected_value(scores[None, :] + d_score, seg_idx,
                                                 draw_idx=pair)
        d_rev = (new_value - base_value).sum(axis=1)
        draws.append(pd.DataFrame({"scenario": s["name"], "draw": np.arange(len(d_rev)),
                                   "delta_revenue": d_rev}))
        lo, hi = hdi_1d(d_rev, hdi_prob)
        mean = float(d_rev.mean())
        rows.append({
            "scenario": s["name"], "driver": s["driver"], "delta": s["delta"],
            "delta_score_mean": float(d_score.mean()),
            "delta_revenue_mean": mean, "delta_revenue_low": lo,
            "delta_revenue_high": hi,
            "delta_revenue_pct": 100.0 * mean / baseline_total if baseline_total else np.nan,
            "p_positive": float((d_rev > 0).mean()),
        })
    out = pd.DataFrame(rows, columns=SCENARIO_COLUMNS[:-1])
    out["rank"] = out["delta_revenue_mean"].rank(ascending=False, method="min").astype(int)
    out = out.sort_values(["rank", "scenario"], kind="mergesort").reset_index(drop=True)
    out.attrs.update({"baseline_revenue_mean": baseline_total, "n_customers": int(len(table)),
                      "n_draws": int(n_draws), "hdi_prob": hdi_prob, "seed": seed})
    if return_draws:
        tidy = (pd.concat(draws, ignore_index=True) if draws
                else pd.DataFrame(columns=["scenario", "draw", "delta_revenue"]))
        return out, tidy
    return out
