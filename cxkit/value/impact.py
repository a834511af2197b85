"""What each initiative is worth: satisfaction, customers kept, revenue, net value, ROI, payback.

For each initiative (definitions from :func:`cxkit.value.initiatives.resolve`) and each
posterior draw ``k``:

1. targeted customers' latest responses get the initiative's driver changes (clipped to the
   observed range, flagged); under driver draw ``k`` each customer's new score is the
   counterfactual given the score they gave (:mod:`cxkit.value.counterfactual`): for a
   gaussian driver model ``score + E[score | changed] - E[score | as is]``, for an ordinal
   one a distribution over the categories; a score band change sets the score instead;
2. the value change is ``E[value | new score] - E[value | score]`` under value draw
   ``pair[k]``: each driver draw is paired with a random value draw, which samples the product
   of the two (independent) posteriors, so both uncertainties reach the interval. Nothing is
   plugged in at a posterior mean;
3. sums over customers give the revenue change and the customers kept (sum of the change in
   P(retain)); revenue scales linearly from the value model's horizon to the initiative's
   (flagged when they differ).

Vectorised without a loop per customer: only customers whose inputs change can change
(a zero change gives exactly zero), and customers with identical inputs give identical draws,
so the driver model is evaluated on distinct input rows (for a gaussian driver model the
change is linear, so only the changed drivers and the segment matter) and the value model on
distinct (cell, score, input row) groups, weighted by their counts, in one fused loop
(numba, parallel over draws; no draws x customers array is ever held).
Money intervals are 90% equal-tailed (``<stat>_low``/``_high``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit.stats import MONEY_PROB, equal_tailed
from cxkit.value.counterfactual import category_index, ordinal_latent, value_sums
from cxkit.value.initiatives import InitiativeError
from cxkit.value.scenarios import latest_responses

INTERVAL = MONEY_PROB
INITIATIVE_COLUMNS = [
    "initiative", "kind", "currency", "horizon_days", "n_targeted", "cost_one_off",
    "cost_per_customer", "cost_per_period", "periods", "cost",
    "delta_satisfaction_mean", "delta_satisfaction_low", "delta_satisfaction_high",
    "customers_kept_mean", "customers_kept_low", "customers_kept_high",
    "revenue_change_mean", "revenue_change_low", "revenue_change_high",
    "net_value_mean", "net_value_low", "net_value_high", "roi_mean", "roi_low", "roi_high",
    "p_roi_positive", "payback_months_mean", "payback_months_low", "payback_months_high",
    "rank", "flags"]
DRAW_COLUMNS = ["initiative", "draw", "revenue_change", "customers_kept", "delta_satisfaction"]
DAYS_PER_MONTH = 365.25 / 12


class _Columns:
    """String views of the table's segment columns, converted once per evaluation."""

    def __init__(self, table: pd.DataFrame):
        self.table, self._cache = table, {}

    def __call__(self, col: str, name: str) -> np.ndarray:
        if col not in self._cache:
            if col not in self.table.columns:
                raise InitiativeError(f"initiative '{name}': target column '{col}' is not a "
                                      f"column of the value table ({list(self.table.columns)}).")
            self._cache[col] = self.table[col].astype(str).to_numpy(dtype=object)
        return self._cache[col]


def target_mask(table: pd.DataFrame, segments_list: list[dict], name: str,
                columns: _Columns | None = None) -> np.ndarray:
    """Customers targeted by any of the target dicts (``{}`` = everybody)."""
    columns = columns or _Columns(table)
    mask = np.zeros(len(table), dtype=bool)
    for segs in segments_list:
        m = np.ones(len(table), dtype=bool)
        for col, values in segs.items():
            v = columns(col, name)
            wanted = np.array(sorted(map(str, values)), dtype=object)
            hit = np.isin(v, wanted)
            unknown = sorted(set(wanted) - set(v[hit]))
            if unknown:
                raise InitiativeError(f"initiative '{name}': {col} {unknown} not in the data "
                                      f"(values: {sorted(set(v))[:10]}).")
            m &= hit
        mask |= m
    return mask


def apply_changes(latest, changes, mask: np.ndarray, ranges: dict,
                  values: dict | None = None) -> tuple:
    """Driver values after the changes, for targeted rows.

    Returns ``(values, changed drivers, clipped customers per driver)``; ``values`` maps each
    changed driver to its new array (pass it back in to chain several parts).
    """
    values = dict(values or {})
    drivers, clipped = [], {}
    for ch in changes:
        if ch.kind == "score_band":
            continue
        if ch.driver not in latest.columns:
            raise InitiativeError(f"change of '{ch.driver}': not a column of the responses "
                                  f"(columns: {list(latest.columns)[:20]}).")
        x = (values[ch.driver] if ch.driver in values
             else latest[ch.driver].to_numpy(dtype=float)).copy()
        if np.isnan(x[mask]).any():
            raise InitiativeError(f"change of '{ch.driver}': {int(np.isnan(x[mask]).sum())} "
                                  f"targeted customer(s) have no value; fill it first.")
        moved = x + ch.by if ch.kind == "by" else x - ch.close_gap * np.maximum(x, 0.0)
        lo, hi = ranges[ch.driver]
        out = mask & ((moved < lo) | (moved > hi))
        if out.any():
            clipped[ch.driver] = clipped.get(ch.driver, 0) + int(out.sum())
        x[mask] = np.clip(moved[mask], lo, hi)
        values[ch.driver] = x
        drivers.append(ch.driver)
    return values, list(dict.fromkeys(drivers)), clipped


def _driver_delta(driver_result, base, values, changed_rows, drivers, n_draws):
    """delta_score (n_draws, n_unique) on distinct input rows, each changed row's position, and
    for an ordinal driver model ``(eta0, eta1, cutpoints, category values)`` (else ``None``).

    Rows are distinct by (segment columns, every driver before, changed drivers after). For
    a gaussian driver model the expected score is linear in the drivers, so the change
    depends only on the segment and how far each changed driver moved: rows are then
    distinct by (segment columns, moves), far fewer.
    """
    cfg = getattr(driver_result, "config", None)
    segs = [c for c in (getattr(cfg, "segments", None) or []) if c in base.columns]
    linear = getattr(cfg, "family", None) == "gaussian"
    all_drivers = [c for c in (getattr(cfg, "drivers", None) or []) if c in base.columns]
    if linear:
        key = base.iloc[changed_rows][segs].reset_index(drop=True)
        for drv in drivers:
            key[f"move_{drv}"] = (values[drv][changed_rows]
                                  - base[drv].to_numpy(dtype=float)[changed_rows])
    else:
        before = all_drivers or drivers
        key = base.iloc[changed_rows][segs + before].reset_index(drop=True)
        for drv in drivers:
            key[f"new_{drv}"] = values[drv][changed_rows]
    codes = key.groupby(list(key.columns), sort=False, dropna=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]
    rows = changed_rows[first]
    b = base.iloc[rows]
    b1 = b.assign(**{drv: values[drv][rows] for drv in drivers})
    if getattr(cfg, "family", None) == "ordinal":
        # keep the latent predictor: each customer's new score is conditioned on the one
        # they gave (cxkit.value.counterfactual), not the unconditional shift
        eta0, cut, vals = ordinal_latent(driver_result, b, max_samples=n_draws)
        eta1 = ordinal_latent(driver_result, b1, max_samples=n_draws)[0]
        from scipy.special import expit

        steps = np.diff(vals)

        def expected(eta):
            return vals[0] + sum(steps[j] * expit(eta - cut[:, j, None])
                                 for j in range(cut.shape[1]))

        return expected(eta1) - expected(eta0), codes, (eta0, eta1, cut, vals)
    e0 = np.asarray(driver_result.expected_outcome(b, max_samples=n_draws))
    e1 = np.asarray(driver_result.expected_outcome(b1, max_samples=n_draws))
    return e1 - e0, codes, None


def _touched(table, changes, segs, name, ctx) -> np.ndarray:
    """Customers a part of an initiative reaches: its target segments and, when all its
    changes are score bands, only customers inside one of the bands."""
    m = target_mask(table, [segs], name, ctx["columns"])
    if changes and all(c.kind == "score_band" for c in changes):
        s = ctx["score"]
        m &= np.logical_or.reduce([(s >= c.score_band.band_from[0])
                                   & (s <= c.score_band.band_from[1]) for c in changes])
    return m


def _effects(d, table, latest, ranges, driver_result, value_result, pair, ctx):
    """Per-draw revenue change, customers kept and mean score change of one initiative."""
    n = len(pair)
    flags = []
    score = ctx["score"]
    mask = np.zeros(len(table), dtype=bool)
    band = np.zeros(len(table))
    values, drivers, clipped = {}, [], {}
    for changes, segs in d["parts"]:
        part_mask = _touched(table, changes, segs, d["name"], ctx)
        mask |= part_mask
        values, drv, clp = apply_changes(latest, changes, part_mask, ranges, values)
        drivers += [x for x in drv if x not in drivers]
        for k, v in clp.items():
            clipped[k] = clipped.get(k, 0) + v
        for ch in changes:
            if ch.kind == "score_band":
                lo, hi = ch.score_band.band_from
                inb = part_mask & (score >= lo) & (score <= hi)
                band[inb] += ch.score_band.to - score[inb]
    n_t = int(mask.sum())
    if n_t == 0:
        flags.insert(0, "targets no customer")
    flags += [f"clipped: {k} customers ({drv} kept in its observed range "
              f"{ranges[drv][0]:g} to {ranges[drv][1]:g})" for drv, k in clipped.items()]
    changed = band != 0
    for drv in drivers:
        changed |= values[drv] != latest[drv].to_numpy(dtype=float)
    moved = np.flatnonzero(mask & changed)
    if len(moved) == 0:
        zero = np.zeros(n)
        return zero, zero.copy(), zero.copy(), n_t, flags
    latent = None
    if drivers:
        dd, row_code, latent = _driver_delta(driver_result, latest, values, moved, drivers, n)
        if dd.shape[0] != n:
            raise ValueError(f"driver_result.expected_outcome returned {dd.shape[0]} draws, "
                             f"expected {n}; pass max_samples <= the driver posterior size.")
    else:
        dd, row_code = np.zeros((n, 1)), np.zeros(len(moved), dtype=np.int64)
    # groups of customers with identical inputs: (cell, score, band move, driver input row)
    g = pd.DataFrame({"cell": ctx["cell"][moved], "score": score[moved], "band": band[moved],
                      "row": row_code})
    grp = g.groupby(["cell", "score", "band", "row"], sort=True).size().reset_index(name="w")
    cs_id = grp.groupby(["cell", "score"], sort=False).ngroup().to_numpy(np.int64)
    first = np.unique(cs_id, return_index=True)[1]
    cfg = value_result.config
    lo = cfg.get("score_min")
    hi = cfg.get("score_max")
    p = ctx["params"]
    kobs = np.full(len(grp), -1, dtype=np.int64)
    eta0 = eta1 = cut = np.zeros((1, 1))
    vals = np.zeros(1)
    if latent is not None:
        eta0, eta1, cut, vals = latent
        kobs = category_index(grp["score"].to_numpy(float), vals)
        kobs[grp["band"].to_numpy() != 0] = -1  # a score band sets the score: plain shift
        off = int(grp["w"].to_numpy()[(kobs < 0) & (grp["band"].to_numpy() == 0)].sum())
        if off:
            flags.append(f"{off} customers' score is not a category of the driver model: "
                         f"their expected change was added to it")
    rev, kept, dsat, beyond = value_sums()(
        p["a"], p["b"], p["c"], p["d"], p["sigma"], pair.astype(np.int64),
        grp["cell"].to_numpy(np.int64)[first], grp["score"].to_numpy(float)[first], cs_id,
        grp["band"].to_numpy(float), grp["row"].to_numpy(np.int64),
        grp["w"].to_numpy(float), np.ascontiguousarray(dd, dtype=float),
        float(cfg["score_ref"]), -1e300 if lo is None else float(lo),
        1e300 if hi is None else float(hi),  # finite bounds: fastmath assumes no inf
        kobs, np.ascontiguousarray(eta0, dtype=float), np.ascontiguousarray(eta1, dtype=float),
        np.ascontiguousarray(cut, dtype=float), np.ascontiguousarray(vals, dtype=float))
    if beyond.mean() >= 0.5:
        flags.append(f"clipped: {beyond.mean():.0f} customers (score kept in {lo:g} to "
                     f"{hi:g})")
    rev = rev * (d["horizon_days"] / ctx["model_horizon"])
    return rev, kept, dsat / max(n_t, 1), n_t, flags


def evaluate_initiatives(definitions, driver_result, value_result, responses: pd.DataFrame,
                         table: pd.DataFrame, *, max_samples: int = 1000, seed: int = 0,
                         prob: float = INTERVAL) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Price initiatives: one contract row each (``initiatives.parquet``) and their draws.

    Parameters
    ----------
    definitions : list of dict
        From :func:`cxkit.value.initiatives.load_initiatives` / ``resolve``.
    driver_result
        Fitted driver model (``expected_outcome(data, *, max_samples)``); may be ``None``
        when every change is a score band.
    value_result : ValueResult
        Fitted value model; its table's customers are the population.
    responses : DataFrame
        Ingested responses with the driver columns (latest before the cutoff is used).
    table : DataFrame
        The value table the value model was fitted on.
    max_samples : int
        Posterior draws (driver draws, each paired with a random value draw).
    seed : int
        Seed of the pairing.
    prob : float
        Interval mass (0.9 for money).

    Returns
    -------
    (DataFrame, DataFrame)
        ``INITIATIVE_COLUMNS`` ranked by expected net value (1 = best), and the long draws
        ``DRAW_COLUMNS``. ``attrs`` say the interval, draws and customers.

    Examples
    --------
    >>> defs = load_initiatives(["params/initiatives/sample.yaml"])  # doctest: +SKIP
    >>> table, draws = evaluate_initiatives(defs, drv, val, responses, tbl)  # doctest: +SKIP
    """
    score_col = value_result.config.get("score", "score")
    needs_driver = any(c.kind != "score_band" for d in definitions for c in d["changes"])
    if needs_driver and driver_result is None:
        raise InitiativeError("initiatives change drivers but no driver model was given.")
    latest = latest_responses(responses, table) if needs_driver else table
    ranges = {}
    for d in definitions:
        for c in d["changes"]:
            if c.kind != "score_band" and c.driver in responses.columns:
                v = pd.to_numeric(responses[c.driver], errors="coerce")
                ranges[c.driver] = (float(v.min()), float(v.max()))
    n_value = len(value_result.draws()["sigma"])
    if needs_driver:
        probe = driver_result.expected_outcome(latest.iloc[:1], max_samples=max_samples)
        n = int(np.asarray(probe).shape[0])
    else:
        n = min(max_samples, n_value)
    rng = np.random.default_rng(seed)
    pair = rng.choice(n_value, size=n, replace=n_value < n)
    model_horizon = float(value_result.config.get("horizon_days")
                          or table.attrs.get("horizon_days") or 365)
    params = {k: np.ascontiguousarray(v, dtype=float) for k, v in value_result.draws().items()}
    ctx = {"columns": _Columns(table), "score": table[score_col].to_numpy(dtype=float),
           "cell": value_result.cell_index(table).astype(np.int64), "params": params,
           "model_horizon": model_horizon}
    rows, draws = [], []
    for d in definitions:
        rev, kept, dsat, n_t, flags = _effects(d, table, latest, ranges, driver_result,
                                               value_result, pair, ctx)
        if d["horizon_days"] != model_horizon:
            flags.append(f"revenue scaled from the value model's {model_horizon:g}-day "
                         f"horizon to {d['horizon_days']} days (customers kept: over "
                         f"{model_horizon:g} days)")
        n_parts = [int(_touched(table, ch, segs, d["name"], ctx).sum()) for ch, segs in d["parts"]]
        n_parts.append(n_t)  # a combination's own cost is per customer it reaches
        rows.append(_summary_row(d, n_parts, rev, kept, dsat, n_t, flags, prob))
        draws.append(pd.DataFrame({"initiative": d["name"], "draw": np.arange(n),
                                   "revenue_change": rev, "customers_kept": kept,
                                   "delta_satisfaction": dsat}))
    out = pd.DataFrame(rows, columns=INITIATIVE_COLUMNS[:-2] + ["flags"])
    out.insert(len(out.columns) - 1, "rank",
               out["net_value_mean"].rank(ascending=False, method="min").astype(int))
    out = out.sort_values(["rank", "initiative"], kind="mergesort").reset_index(drop=True)
    tidy = (pd.concat(draws, ignore_index=True) if draws
            else pd.DataFrame(columns=DRAW_COLUMNS))
    meta = {"interval": prob, "n_draws": int(n), "n_customers": int(len(table)), "seed": seed,
            "value_horizon_days": model_horizon, "score": table.attrs.get("score_name")}
    out.attrs.update(meta)
    tidy.attrs.update(meta)
    return out, tidy


def _summary_row(d, n_parts, rev, kept, dsat, n_t, flags, prob) -> dict:
    horizon = int(d["horizon_days"])
    cost = 0.0
    for c, n_c in zip((c for c, _ in d["costs"]), n_parts):
        cost += c.total(n_c, horizon)
    first = d["costs"][0][0]
    net = rev - cost
    months = horizon / DAYS_PER_MONTH
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = net / cost if cost > 0 else np.full_like(rev, np.nan)
        payback = np.where(rev > 0, cost / (rev / months), np.inf)
    if cost == 0:
        flags = [*flags, "no cost given: ROI undefined"]
    mean_rev = float(rev.mean())
    row = {"initiative": d["name"], "kind": d["kind"], "currency": d["currency"],
           "horizon_days": horizon, "n_targeted": n_t,
           "cost_one_off": float(sum(c.one_off for c, _ in d["costs"])),
           "cost_per_customer": float(first.per_customer) if d["kind"] == "single" else np.nan,
           "cost_per_period": float(sum(c.per_period for c, _ in d["costs"])),
           "periods": int(max(c.periods(horizon) for c, _ in d["costs"])), "cost": float(cost),
           "p_roi_positive": float((rev > cost).mean()) if cost > 0 else np.nan,
           "payback_months_mean": (cost / (mean_rev / months) if mean_rev > 0 else np.inf),
           "flags": "; ".join(flags)}
    for stat, x in (("delta_satisfaction", dsat), ("customers_kept", kept),
                    ("revenue_change", rev), ("net_value", net), ("roi", roi)):
        row[f"{stat}_mean"] = float(np.mean(x)) if not np.isnan(x).all() else np.nan
        row[f"{stat}_low"], row[f"{stat}_high"] = (equal_tailed(x, prob) if not np.isnan(x).all()
                                                   else (np.nan, np.nan))
    row["payback_months_low"], row["payback_months_high"] = equal_tailed(payback, prob)
    return row
