"""Retention and spend as functions of the experience score, adjusted for segment mix.

Model (cell ``g`` = one combination of the segment columns, ``x = score - score_ref``,
``z = x / sd(score)``)::

    retained_i    ~ Bernoulli(p_i)
    logit p_i     = alpha[pool_i] + sum_k alpha_k[level_ik] + b_std * z_i
    log(spend_i)  ~ Normal(gamma[pool_i] + sum_k gamma_k[level_ik] + d_std * z_i, sigma)
                    (retained customers with spend > 0)

``pool`` is the pooling column (``segment=``, e.g. ``plan``): each of its levels has its own
retention and spend level. Every other segment column ``k`` (``covariates=``; default all the
segment columns of the value table) enters as sum-to-zero effects ``alpha_k, gamma_k ~
ZeroSumNormal(1)``. Without them the score slope soaks up the segments' mix: when a segment
that spends more also scores higher, a model that ignores it credits the score with the
segment's spend (the "3.6 times over" of issue #10). With them, the estimate no longer depends
on which column is the pooling column (``tests/value/test_model.py`` builds such data).

Deterministics on the customer's scale: ``a[g], c[g]`` (cell levels), ``b[g] = b_std / sd``,
``d[g] = d_std / sd`` (per score point), ``mu_b, mu_d``. Expected horizon revenue is
``P(retain) * exp(c + d * x + sigma**2 / 2)``.

Priors live on the standardised score (one sd of the score), so they mean the same on NPS
0-10 and on a 1-5 review: ``b_std ~ Normal(0, 2.5)`` (log-odds per sd, Gelman et al.'s weakly
informative logistic prior), ``d_std ~ Normal(0, 1)``, levels ``Normal(0, 1.5)`` (retention)
and ``Normal(mean log spend, 2)``, ``sigma ~ HalfNormal(1)``. They keep the estimates finite
when retention is all-or-nothing by score band (separation, :mod:`cxkit.value.separation`):
the fit then warns in words that the prior, not the data, bounds the slope, and the
convergence gate still applies.

``hierarchical=True`` partially pools the pool column's levels and slopes (``alpha ~
Normal(mu_a, tau_a)``, slopes ``b_std[pool] = mu_b_std + tau_b * z_b``); the default keeps
independent levels and one slope, which samples cleanly with a handful of levels.

Cost does not grow with customers: retention enters as binomial counts per (cell, score), and
log-spend through per-cell sufficient statistics (``ybar_g ~ Normal(mu_g, sigma/sqrt(n_g))``,
``SS_within ~ sigma**2 chi2(N - G)``), equal to the per-customer likelihood up to a constant.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd

from cxkit.value.result import ValueResult, cell_labels
from cxkit.value.separation import detect_separation
from cxkit.value.table import MIN_RETAINED

DEFAULT_PRIORS = {
    "mu_a_sigma": 1.5,        # retention level (log-odds) of each pool level
    "mu_b_sigma": 2.5,        # retention slope, log-odds per sd of the score
    "mu_c_sigma": 2.0,        # log-spend level around the mean log spend
    "mu_d_sigma": 1.0,        # spend slope, log-spend per sd of the score
    "segment_effect_sigma": 1.0,  # covariate segment effects (log-odds / log-spend)
    "tau_sigma": 0.5,         # hierarchical=True: spread of levels
    "tau_slope_mode": 0.1,    # hierarchical=True: mode of the slopes' spread (per sd)
    "sigma_sigma": 1.0,
}
_PARAMS = ("a", "b", "c", "d")
DEFAULT_HIERARCHICAL = False


def default_score_ref(table: pd.DataFrame, score: str = "score") -> float:
    """Reference score the model centres on: 7 for NPS, else the median score.

    Examples
    --------
    >>> t = pd.DataFrame({"score": [1.0, 2.0, 5.0]})
    >>> default_score_ref(t)
    2.0
    >>> t.attrs["score_name"] = "nps"
    >>> default_score_ref(t)
    7.0
    """
    if table.attrs.get("score_name") == "nps" or score == "nps":
        return 7.0
    return float(np.median(table[score].to_numpy(dtype=float)))


def default_covariates(table: pd.DataFrame, segment: str) -> list[str]:
    """Segment columns other than ``segment`` with at least two levels and no gaps."""
    cols = table.attrs.get("segments") or []  # set by customer_value_table / read_snapshot
    return [c for c in cols if c != segment and c in table.columns
            and table[c].notna().all() and table[c].nunique() > 1]


def _check(table, score, columns):
    for col in (score, *columns, "retained", "revenue_post"):
        if col not in table.columns:
            raise KeyError(f"value table has no column '{col}' (columns: {list(table.columns)}). "
                           f"Build it with cxkit.value.customer_value_table.")
    bad = table[[score, *columns]].isna().any(axis=1)
    if bad.any():
        rows = list(table.index[bad][:5])
        raise ValueError(f"value table has missing '{score}' or segment values "
                         f"({', '.join(columns)}) at rows {rows} ({int(bad.sum())} in all); "
                         f"drop or fill them before fitting.")
    n_ret = int(table["retained"].sum())
    if n_ret < MIN_RETAINED:
        raise ValueError(
            f"only {n_ret} of {len(table)} customers were retained; the data cannot support a "
            f"retention / spend model (need at least {MIN_RETAINED}). Use an earlier cutoff "
            f"or longer horizon, or use the table descriptively (assign_quadrants).")
    return n_ret


def _cells(table, score, columns, score_ref, score_sd):
    """Cell index per customer, binomial counts and log-spend statistics per (cell, score)."""
    labels = cell_labels(table, columns)
    cells = sorted(set(labels))
    df = pd.DataFrame({
        "cell": pd.Categorical(labels, categories=cells).codes,
        "z": (table[score].to_numpy(dtype=float) - score_ref) / score_sd,
        "retained": table["retained"].astype(bool).to_numpy(),
        "revenue_post": table["revenue_post"].to_numpy(dtype=float),
    })
    ret = df.groupby(["cell", "z"], sort=True)["retained"].agg(n="size", k="sum").reset_index()
    spend = df[df["retained"] & (df["revenue_post"] > 0)].copy()
    spend["y"] = np.log(spend["revenue_post"])
    st = (spend.groupby(["cell", "z"], sort=True)["y"]
          .agg(n="size", ybar="mean", ss=lambda v: float(((v - v.mean()) ** 2).sum()))
          .reset_index())
    parts = pd.DataFrame([c.split("|") for c in cells], columns=columns)
    return cells, parts, ret, st, spend["y"].to_numpy()


def build_value_model(table: pd.DataFrame, *, score: str = "score", segment: str,
                      covariates: list[str] | None = None, score_ref: float | None = None,
                      priors: dict | None = None, hierarchical: bool = DEFAULT_HIERARCHICAL):
    """Build the retention + spend model (no sampling).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`cxkit.value.customer_value_table`.
    score, segment : str
        Score column and pooling column of ``table``.
    covariates : list of str, optional
        Other segment columns adjusted for; default :func:`default_covariates` (all of them);
        ``[]`` reproduces a model pooled by ``segment`` alone.
    score_ref : float, optional
        Centre of the score; default :func:`default_score_ref`.
    priors : dict, optional
        Overrides of ``DEFAULT_PRIORS``.
    hierarchical : bool
        Partially pool the ``segment`` levels and slopes.

    Returns
    -------
    pymc.Model
        Coords ``segment`` (cells), the pool levels and each covariate's levels; deterministics
        ``a, b, c, d`` (dims ``segment``), ``mu_b, mu_d``.

    Examples
    --------
    >>> model = build_value_model(table, segment="plan")  # doctest: +SKIP
    """
    return _build(table, score=score, segment=segment, covariates=covariates,
                  score_ref=score_ref, priors=priors, hierarchical=hierarchical)[0]


def _build(table, *, score, segment, covariates=None, score_ref=None, priors=None,
           hierarchical=DEFAULT_HIERARCHICAL):
    import pymc as pm
    import pytensor.tensor as pt

    if segment not in table.columns:
        _check(table, score, [segment])
    covariates = default_covariates(table, segment) if covariates is None else list(covariates)
    columns = [segment, *[c for c in covariates if c != segment]]
    n_ret = _check(table, score, columns)
    pri = DEFAULT_PRIORS | (priors or {})
    unknown = set(pri) - set(DEFAULT_PRIORS)
    if unknown:
        raise KeyError(f"unknown prior(s) {sorted(unknown)}; allowed: {sorted(DEFAULT_PRIORS)}")
    score_ref = default_score_ref(table, score) if score_ref is None else float(score_ref)
    score_sd = float(np.std(table[score].to_numpy(dtype=float))) or 1.0
    cells, parts, ret, st, y = _cells(table, score, columns, score_ref, score_sd)

    coords = {"segment": cells}
    for col in columns:
        coords[f"{col}_level"] = sorted(parts[col].unique())
    idx = {col: pd.Categorical(parts[col], categories=coords[f"{col}_level"]).codes
           for col in columns}
    pool = f"{segment}_level"
    with pm.Model(coords=coords) as model:
        if hierarchical:
            mu_a = pm.Normal("mu_a", 0.0, pri["mu_a_sigma"])
            mu_c = pm.Normal("mu_c", float(y.mean()), pri["mu_c_sigma"])
            alpha = pm.Normal("alpha", mu_a, pm.HalfNormal("tau_a", pri["tau_sigma"]), dims=pool)
            gamma = pm.Normal("gamma", mu_c, pm.HalfNormal("tau_c", pri["tau_sigma"]), dims=pool)
            slopes = []
            for p in ("b", "d"):
                mu = pm.Normal(f"mu_{p}_std", 0.0, pri[f"mu_{p}_sigma"])
                # zero-avoiding spread: with few levels a half-normal lets tau -> 0 (funnel)
                tau = pm.Gamma(f"tau_{p}", alpha=4.0, beta=3.0 / pri["tau_slope_mode"])
                z = pm.Normal(f"z_{p}", 0.0, 1.0, dims=pool)
                slopes.append(mu + tau * z)
            b_pool, d_pool = slopes
        else:
            alpha = pm.Normal("alpha", 0.0, pri["mu_a_sigma"], dims=pool)
            gamma = pm.Normal("gamma", float(y.mean()), pri["mu_c_sigma"], dims=pool)
            b_std = pm.Normal("mu_b_std", 0.0, pri["mu_b_sigma"])
            d_std = pm.Normal("mu_d_std", 0.0, pri["mu_d_sigma"])
            b_pool = b_std + pt.zeros(len(coords[pool]))
            d_pool = d_std + pt.zeros(len(coords[pool]))
        a_cell = alpha[idx[segment]]
        c_cell = gamma[idx[segment]]
        for col in columns[1:]:
            dims = f"{col}_level"
            if len(coords[dims]) < 2:
                continue
            ea = pm.ZeroSumNormal(f"alpha_{col}", sigma=pri["segment_effect_sigma"], dims=dims)
            ec = pm.ZeroSumNormal(f"gamma_{col}", sigma=pri["segment_effect_sigma"], dims=dims)
            a_cell = a_cell + ea[idx[col]]
            c_cell = c_cell + ec[idx[col]]
        b_cell, d_cell = b_pool[idx[segment]], d_pool[idx[segment]]
        pm.Deterministic("a", a_cell, dims="segment")
        pm.Deterministic("c", c_cell, dims="segment")
        pm.Deterministic("b", b_cell / score_sd, dims="segment")
        pm.Deterministic("d", d_cell / score_sd, dims="segment")
        pm.Deterministic("mu_b", pt.mean(b_pool) / score_sd)
        pm.Deterministic("mu_d", pt.mean(d_pool) / score_sd)
        sigma = pm.HalfNormal("sigma", sigma=pri["sigma_sigma"])

        r_cell = ret["cell"].to_numpy()
        pm.Binomial("retained", n=ret["n"].to_numpy(),
                    logit_p=a_cell[r_cell] + b_cell[r_cell] * ret["z"].to_numpy(),
                    observed=ret["k"].to_numpy())
        s_cell = st["cell"].to_numpy()
        pm.Normal("log_spend_mean", mu=c_cell[s_cell] + d_cell[s_cell] * st["z"].to_numpy(),
                  sigma=sigma / np.sqrt(st["n"].to_numpy()), observed=st["ybar"].to_numpy())
        dof = len(y) - len(st)
        if dof > 0:
            # within-cell scatter identifies sigma; SS / sigma^2 ~ chi2(dof)
            pm.Gamma("log_spend_ss", alpha=dof / 2.0, beta=1.0 / (2.0 * sigma**2),
                     observed=float(st["ss"].sum()))
    effect_names = ["alpha", "gamma", *(f"{p}_{c}" for c in columns[1:] for p in ("alpha", "gamma")
                                        if f"{p}_{c}" in model.named_vars)]
    meta = {"score_ref": score_ref, "score_sd": score_sd, "hierarchical": bool(hierarchical),
            "segment_columns": columns, "covariates": columns[1:], "segments": cells,
            "effect_names": effect_names, "priors": pri,
            "n_customers": int(len(table)), "n_retained": n_ret,
            "score_min": float(table[score].min()), "score_max": float(table[score].max()),
            "n_spend": int(len(y)), "n_retention_cells": int(len(ret)),
            "n_spend_cells": int(len(st))}
    return model, meta


def _separation_warnings(table, score, columns) -> list[str]:
    found = detect_separation(table, score=score, outcome="retained", by=columns, min_n=5)
    return found["message"].tolist()


def fit_value_model(table: pd.DataFrame, *, score: str = "score", segment: str,
                    covariates: list[str] | None = None, draws: int = 1000, tune: int = 1000,
                    chains: int = 4, seed: int = 0, gate: str = "raise",
                    score_ref: float | None = None, priors: dict | None = None,
                    hierarchical: bool = DEFAULT_HIERARCHICAL, target_accept: float = 0.9,
                    cores: int | None = None) -> ValueResult:
    """Fit retention and spend on the score with nutpie, then run the convergence gate.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`cxkit.value.customer_value_table`.
    score, segment : str
        Columns of ``table``; ``segment`` is the pooling column.
    covariates : list of str, optional
        Segment columns adjusted for (default: all the others; ``[]``: none).
    draws, tune, chains, seed : int
        Sampler settings (nutpie).
    gate : {"raise", "warn", "off"}
        Convergence gate :func:`cxkit.diagnostics.check_convergence`. ``"raise"``:
        ``ConvergenceError``; ``"warn"``: a warning and the result; ``"off"``: skipped.
    score_ref : float, optional
        Centre of the score; default 7 for NPS, else the median.
    priors : dict, optional
        Overrides of ``DEFAULT_PRIORS``.
    hierarchical : bool
        Partially pool the pool column's levels and slopes.
    target_accept : float
        NUTS target acceptance (raise towards 0.95 when the gate reports divergences).
    cores : int, optional
        Parallel chains (default: nutpie's choice).

    Returns
    -------
    ValueResult
        ``config["separation"]`` lists, in words, where retention separates by score (also
        warned as ``UserWarning``); ``diagnostics`` holds the gate.

    Examples
    --------
    >>> res = fit_value_model(table, segment="plan", draws=500, tune=500, chains=2)  # doctest: +SKIP
    >>> res.summary().query("parameter in ['mu_b', 'mu_d']")  # doctest: +SKIP
    """
    import nutpie

    if gate not in ("raise", "warn", "off"):
        raise ValueError(f"gate must be 'raise', 'warn' or 'off', got {gate!r}.")
    model, meta = _build(table, score=score, segment=segment, covariates=covariates,
                         score_ref=score_ref, priors=priors, hierarchical=hierarchical)
    separation = _separation_warnings(table, score, meta["segment_columns"])
    for msg in separation:
        warnings.warn(f"value model: {msg}", UserWarning, stacklevel=2)
    config = {"score": score, "segment": segment, "score_name": table.attrs.get("score_name"),
              "cutoff": table.attrs.get("cutoff"), "horizon_days": table.attrs.get("horizon_days"),
              "draws": draws, "tune": tune, "chains": chains, "seed": seed, "gate": gate,
              "target_accept": target_accept, "separation": separation, **meta}
    compiled = nutpie.compile_pymc_model(model)
    kwargs = {"cores": cores} if cores else {}
    # low-rank mass matrix: levels and covariate effects are correlated (additive cells)
    idata = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, seed=seed,
                          progress_bar=False, save_warmup=False,
                          low_rank_modified_mass_matrix=True, target_accept=target_accept,
                          **kwargs)
    idata.attrs[ValueResult.CONFIG_ATTR] = json.dumps(config, default=str)
    result = ValueResult(idata=idata, config=config)
    if gate != "off":
        from cxkit.diagnostics import check_convergence, raise_if_failed

        result.diagnostics = check_convergence(idata)
        result.diagnostics["separation"] = separation
        if not result.diagnostics["passed"]:
            if gate == "raise":
                raise_if_failed(result.diagnostics)
            warnings.warn("value model failed the convergence gate (do not publish): "
                          + "; ".join(result.diagnostics["failures"]), UserWarning,
                          stacklevel=2)
    return result


__all__ = ["DEFAULT_PRIORS", "ValueResult", "build_value_model", "default_covariates",
           "default_score_ref", "fit_value_model"]
