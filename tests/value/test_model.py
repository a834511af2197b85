import numpy as np
import pandas as pd
import pytest

from cxkit.value.model import _build, build_value_model, default_score_ref

PARAMS = {"a": [0.5, 1.0], "b": [0.3, 0.2], "c": [5.0, 6.0], "d": [0.05, 0.1], "sigma": 0.3}


def _fake_table(n=300, seed=0, r_nps=0.25, s_nps=0.04):
    """The simulator's retention / spend rules on a hand-rolled table (two plans)."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "premium"], n)
    nps = rng.integers(0, 11, n).astype(float)
    r0 = np.where(plan == "basic", 0.4, 1.2)
    s0 = np.where(plan == "basic", 5.0, 6.3)
    retained = rng.random(n) < 1 / (1 + np.exp(-(r0 + r_nps * (nps - 7))))
    spend = np.exp(s0 + s_nps * (nps - 7) + 0.3 * rng.normal(size=n))
    t = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "plan": plan, "score": nps,
                      "revenue_pre": 100.0, "retained": retained,
                      "revenue_post": np.where(retained, spend, 0.0)})
    t.attrs["score_name"] = "nps"
    t.attrs["segments"] = ["plan"]  # what customer_value_table records
    return t


def _with_region(table, seed=5):
    rng = np.random.default_rng(seed)
    out = table.assign(region=rng.choice(["N", "S", "E"], len(table)))
    out.attrs = {**table.attrs, "segments": ["plan", "region"]}
    return out


def _naive_loglik(table, a, b, c, d, sigma, cells, score_ref=7.0):
    """Per-customer log-likelihood (Bernoulli + Normal on log spend) at cell parameters."""
    seg = pd.Categorical(table["plan"] + "|" + table["region"], categories=cells).codes
    x = table["score"].to_numpy() - score_ref
    ret = table["retained"].to_numpy()
    y_mask = ret & (table["revenue_post"].to_numpy() > 0)
    y = np.log(table["revenue_post"].to_numpy()[y_mask])
    eta = a[seg] + b[seg] * x
    ll = np.sum(ret * eta - np.log1p(np.exp(eta)))
    mu = c[seg][y_mask] + d[seg][y_mask] * x[y_mask]
    return ll + np.sum(-np.log(sigma) - 0.5 * ((y - mu) / sigma) ** 2)


@pytest.mark.parametrize("hierarchical", [False, True])
def test_sufficient_statistics_match_per_customer_likelihood(hierarchical):
    """logp differences between two points equal the per-customer likelihood's."""
    table = _with_region(_fake_table())
    model, meta = _build(table, score="score", segment="plan", hierarchical=hierarchical)
    assert meta["segment_columns"] == ["plan", "region"] and len(meta["segments"]) == 6
    assert meta["n_retention_cells"] <= 66  # 6 cells x 11 scores, not 300 rows
    like = model.compile_fn(model.observedlogp, inputs=model.value_vars,
                            on_unused_input="ignore", point_fn=True)
    cell_fn = model.compile_fn(
        model.replace_rvs_by_values([model[v] for v in ("a", "b", "c", "d", "sigma")]),
        inputs=model.value_vars, on_unused_input="ignore", point_fn=True)
    rng = np.random.default_rng(1)
    vals = []
    for _ in range(2):
        pt = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in model.initial_point().items()}
        a, b, c, d, sigma = cell_fn(pt)
        sigma = float(sigma)
        vals.append((float(like(pt)), _naive_loglik(table, a, b, c, d, sigma,
                                                     meta["segments"])))
    (s1, n1), (s2, n2) = vals
    assert s1 - s2 == pytest.approx(n1 - n2, rel=1e-8, abs=1e-6)
    assert abs(n1 - n2) > 1  # the points really differ


def test_default_form_levels_covariates_and_one_standardised_slope():
    table = _with_region(_fake_table())
    model, meta = _build(table, score="score", segment="plan")
    free = {v.name for v in model.free_RVs}
    assert free == {"alpha", "gamma", "alpha_region", "gamma_region", "mu_b_std", "mu_d_std",
                    "sigma"}
    sd = meta["score_sd"]
    assert sd == pytest.approx(table["score"].std(ddof=0))
    b = model["b"].eval({model["mu_b_std"]: np.array(0.6)})
    assert np.allclose(b, 0.6 / sd) and len(b) == 6  # one slope per score point, every cell
    # covariates=[] pools by plan alone (the pre-#10 model)
    m0, meta0 = _build(table, score="score", segment="plan", covariates=[])
    assert meta0["segments"] == ["basic", "premium"] and "alpha_region" not in m0.named_vars


def test_hierarchical_form_pools_levels_and_slopes():
    model, _ = _build(_fake_table(), score="score", segment="plan", hierarchical=True)
    free = {v.name for v in model.free_RVs}
    assert {"alpha", "gamma", "z_b", "z_d", "tau_a", "tau_b"} <= free and "b" not in free


def test_unknown_prior_is_refused():
    with pytest.raises(KeyError, match="unknown prior"):
        build_value_model(_fake_table(), segment="plan", priors={"mu_x_sigma": 1})


def test_too_few_retained_refuses_with_reason():
    t = _fake_table(n=60)
    t["retained"] = False
    t.loc[:4, "retained"] = True
    with pytest.raises(ValueError, match="only 5 of 60 customers were retained"):
        build_value_model(t, segment="plan")


def test_missing_values_and_columns_are_located():
    t = _fake_table(n=50)
    t.loc[7, "score"] = np.nan
    with pytest.raises(ValueError, match=r"rows \[7\]"):
        build_value_model(t, segment="plan")
    with pytest.raises(KeyError, match="no column 'region'"):
        build_value_model(_fake_table(n=50), segment="region")


def test_default_score_ref():
    t = pd.DataFrame({"score": [1.0, 2.0, 4.0, 5.0]})
    assert default_score_ref(t) == 3.0
    t.attrs["score_name"] = "nps"
    assert default_score_ref(t) == 7.0


@pytest.mark.slow
def test_gate_trips_on_a_deliberately_bad_fit(monkeypatch):
    import nutpie

    from cxkit.diagnostics import ConvergenceError
    from cxkit.value.model import fit_value_model

    # compile once: both fits below build the same model, compilation dominates the cost
    compiled = {}
    real_compile = nutpie.compile_pymc_model
    monkeypatch.setattr(nutpie, "compile_pymc_model",
                        lambda m, **kw: compiled.setdefault("m", real_compile(m, **kw)))
    with pytest.raises(ConvergenceError, match="r_hat") as info:
        fit_value_model(_fake_table(), segment="plan", draws=20, tune=20, chains=1, seed=1)
    assert info.value.diagnostics["passed"] is False
    with pytest.warns(UserWarning, match="failed the convergence gate"):
        res = fit_value_model(_fake_table(), segment="plan", draws=20, tune=20, chains=1,
                              seed=1, gate="warn")
    assert res.diagnostics["passed"] is False
    assert res.idata.posterior.sizes["draw"] == 20
    assert len(compiled) == 1

def _mix_confounded(n=1500, seed=0, s_nps=0.04, r_nps=0.2):
    """Plan sets spend and retention and premium customers score higher; regions differ in
    their plan mix. A model pooled by region alone credits the score with the plan's spend."""
    rng = np.random.default_rng(seed)
    region = rng.choice(["N", "S", "E"], n)
    p_premium = np.select([region == "N", region == "S"], [0.6, 0.3], 0.1)
    plan = np.where(rng.random(n) < p_premium, "premium", "basic")
    prem = plan == "premium"
    score = np.clip(np.round(np.where(prem, 8.0, 5.0) + 1.8 * rng.normal(size=n)), 0, 10)
    x = score - 7
    retained = rng.random(n) < 1 / (1 + np.exp(-(0.3 + 1.0 * prem + r_nps * x)))
    spend = np.exp(5.0 + 1.2 * prem + s_nps * x + 0.3 * rng.normal(size=n))
    t = pd.DataFrame({"customer_id": np.arange(n), "region": region, "plan": plan,
                      "score": score, "retained": retained,
                      "revenue_post": np.where(retained, spend, 0.0)})
    t.attrs.update({"score_name": "nps", "segments": ["region", "plan"]})
    return t


@pytest.mark.slow
def test_segment_mix_no_longer_moves_the_estimate_with_the_pooling_column():
    """Issue #10 point 3: adjusted for every segment column, the spend and retention slopes
    agree whichever column is pooled, and cover the truth; pooled by region alone (no
    adjustment) the spend slope soaks up the plan mix and misses it."""
    from cxkit.value.model import fit_value_model

    t = _mix_confounded()
    kw = {"draws": 1000, "tune": 1000, "chains": 2, "seed": 3, "gate": "raise"}
    by_region = fit_value_model(t, segment="region", **kw).summary().set_index("parameter")
    by_plan = fit_value_model(t, segment="plan", **kw).summary().set_index("parameter")
    naive = fit_value_model(t, segment="region", covariates=[], **kw).summary()
    naive = naive.set_index("parameter")
    for name, true in (("mu_d", 0.04), ("mu_b", 0.2)):
        a, b = by_region.loc[name], by_plan.loc[name]
        assert a["hdi_low"] < true < a["hdi_high"] and b["hdi_low"] < true < b["hdi_high"]
        # the two specifications differ by far less than either interval's half-width
        assert abs(a["mean"] - b["mean"]) < 0.5 * min(a["hdi_high"] - a["hdi_low"],
                                                      b["hdi_high"] - b["hdi_low"])
    # without the adjustment the estimate depends on the pooling column (and is wrong)
    assert naive.loc["mu_d", "hdi_low"] > 0.04 + 0.05
    assert naive.loc["mu_d", "mean"] > 3 * by_region.loc["mu_d", "mean"]


@pytest.mark.slow
def test_all_or_nothing_retention_warns_stays_finite_and_is_gated():
    """Issue #9 point 6: retention separated by score band -> a stated warning, finite
    estimates through the standardised prior, and the convergence gate still runs."""
    from cxkit.value.model import fit_value_model

    rng = np.random.default_rng(0)
    n = 300
    t = pd.DataFrame({"customer_id": np.arange(n), "plan": rng.choice(["basic", "pro"], n),
                      "score": rng.integers(0, 11, n).astype(float)})
    t["retained"] = t["score"] >= 6  # everyone scoring 0-5 left, everyone 6-10 stayed
    t["revenue_post"] = np.where(t["retained"], np.exp(5 + 0.3 * rng.normal(size=n)), 0.0)
    t.attrs["score_name"] = "nps"
    with pytest.warns(UserWarning, match=r"all customers: every customer with score <= 5 left "
                      r"and every customer with score >= 6 stayed: complete separation"):
        res = fit_value_model(t, segment="plan", draws=1000, tune=1000, chains=2, seed=1,
                              gate="raise")
    assert res.diagnostics["passed"] and res.diagnostics["divergences"] == 0
    assert res.config["separation"] and res.diagnostics["separation"]
    b_std = res.idata.posterior["mu_b_std"].to_numpy()
    assert np.isfinite(b_std).all() and b_std.max() < 25  # bounded by the prior, not inf
    assert 0 < b_std.mean() < 15
