"""Model builder: validation, coordinates, and the exact reduced likelihoods."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit

from cxkit.drivers.model import (
    add_deterministics,
    build_driver_model,
    choose_parametrization,
    prepare_data,
    segment_labels,
)
from cxkit.simulate import simulate_responses

DRIVERS = ["rating_product", "rating_app", "gap_delivery", "had_support_ticket"]
SIM_DRIVERS = {"rating_product": 0.6, "rating_app": 0.2, "gap_delivery": -0.25,
               "had_support_ticket": -0.5}


def _data(family="gaussian", n=400, two_levels=False, seed=3):
    data, _ = simulate_responses(n, n_segments=3, drivers=SIM_DRIVERS, family=family, seed=seed,
                                 two_levels=two_levels)
    return data


def _model_values(model, names, seed=0):
    """Evaluate ``names`` at a random point of the model's unconstrained space."""
    rng = np.random.default_rng(seed)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in model.initial_point().items()}
    outs = model.replace_rvs_by_values([model[n] if isinstance(n, str) else n for n in names])
    fn = model.compile_fn(outs, point_fn=True, inputs=model.value_vars,
                          on_unused_input="ignore")
    return fn(point)


def _standardised(data, family):
    x = data[DRIVERS].to_numpy(float)
    z = (x - x.mean(0)) / x.std(0)
    seg = data["segment"].astype("category").cat.codes.to_numpy()
    return z, seg


def test_builder_coords_dims_and_original_scale_beta():
    data = _data()
    model = build_driver_model(data, outcome="y", drivers=DRIVERS, segments="segment")
    assert model.coords["segment"] == ("S1", "S2", "S3")
    assert model.coords["driver"] == tuple(DRIVERS)
    assert model.named_vars_to_dims["beta"] == ("segment", "driver")
    assert model.named_vars_to_dims["mu_beta"] == ("driver",)
    beta_std, beta = _model_values(model, ["beta_std", "beta"])
    expected = beta_std * data["y"].std(ddof=0) / data[DRIVERS].std(ddof=0).to_numpy()
    np.testing.assert_allclose(beta, expected, rtol=1e-10)


@pytest.mark.parametrize("parametrization", ["centered", "non_centered"])
def test_gaussian_sufficient_statistics_equal_row_level_loglik(parametrization):
    data = _data(n=500)
    model = build_driver_model(data, outcome="y", drivers=DRIVERS, segments="segment",
                               parametrization=parametrization)
    loglik, alpha, beta, sigma = _model_values(
        model, [model.potentials[0], "alpha_std", "beta_std", "sigma_std"])
    z, seg = _standardised(data, "gaussian")
    y = data["y"].to_numpy(float)
    ys = (y - y.mean()) / y.std()
    rows = stats.norm.logpdf(ys, alpha[seg] + (z * beta[seg]).sum(1), sigma).sum()
    np.testing.assert_allclose(loglik, rows, rtol=1e-9)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bernoulli_counts_equal_row_level_loglik(dtype):
    from cxkit.drivers.model import _model_from_prepared

    data = _data("bernoulli", n=600)
    data["rating_app"] = data["rating_app"].clip(upper=2)  # fewer distinct rows: real collapsing
    data = data.drop(columns="gap_delivery")
    drivers = ["rating_product", "rating_app", "had_support_ticket"]
    prep = prepare_data(data, outcome="y", drivers=drivers, segments="segment", family="bernoulli")
    assert prep.n_cells < 100 < len(data)
    assert np.all(np.diff(prep.stats["seg_idx"]) >= 0)  # cells sorted into segment blocks
    model = _model_from_prepared(prep, None, "centered", dtype=dtype)
    x = data[drivers].to_numpy(float)
    z = (x - x.mean(0)) / x.std(0)
    seg = data["segment"].astype("category").cat.codes.to_numpy()
    for s in (1, 2):
        lp, alpha, beta = _model_values(model, [model.potentials[0], "alpha_std", "beta_std"], seed=s)
        p = expit(alpha[seg] + (z * beta[seg]).sum(1))
        # k eta - n softplus(eta) per cell is the row-level log-likelihood exactly.
        rtol = 1e-9 if dtype == "float64" else 1e-6
        np.testing.assert_allclose(lp, stats.bernoulli.logpmf(data["y"], p).sum(), rtol=rtol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_ordinal_counts_equal_row_level_loglik(dtype):
    from cxkit.drivers.model import _model_from_prepared

    data = _data("ordinal", n=500)
    prep = prepare_data(data, outcome="y", drivers=DRIVERS, segments="segment", family="ordinal")
    model = _model_from_prepared(prep, None, "centered", dtype=dtype)
    loglik, alpha, beta, cut = _model_values(
        model, [model.potentials[0], "alpha_std", "beta_std", "cutpoints"])
    assert np.all(np.diff(cut) > 0)
    assert alpha.sum() == pytest.approx(0, abs=1e-9)  # sum-to-zero intercepts
    z, seg = _standardised(data, "ordinal")
    eta = alpha[seg] + (z * beta[seg]).sum(1)
    cdf = np.column_stack([np.zeros(len(eta)), expit(cut[None] - eta[:, None]), np.ones(len(eta))])
    y = data["y"].to_numpy()
    rows = np.log(cdf[np.arange(len(y)), y + 1] - cdf[np.arange(len(y)), y]).sum()
    np.testing.assert_allclose(loglik, rows, rtol=1e-9 if dtype == "float64" else 1e-6)


def test_ordinal_categories_observed_or_declared():
    data = _data("ordinal", n=300)
    data = data[data["y"] != data["y"].max()]
    prep = prepare_data(data, outcome="y", drivers=DRIVERS, segments="segment", family="ordinal")
    assert prep.categories == sorted(data["y"].unique().tolist())
    full = prepare_data(data, outcome="y", drivers=DRIVERS, segments="segment", family="ordinal",
                        categories=range(5))
    assert full.categories == [0, 1, 2, 3, 4]
    assert full.stats["counts"][:, 4].sum() == 0
    with pytest.raises(ValueError, match=r"values \[3\] that are not in categories"):
        prepare_data(data, outcome="y", drivers=DRIVERS, segments="segment", family="ordinal",
                     categories=[0, 1, 2])


def test_two_levels_labels_and_parent_index():
    data = _data(n=600, two_levels=True)
    model = build_driver_model(data, outcome="y", drivers=DRIVERS,
                               segments=["segment", "subsegment"])
    assert model.coords["level1"] == ("S1", "S2", "S3")
    assert model.coords["segment"][:3] == ("S1|a", "S1|b", "S1|c")
    assert model.named_vars_to_dims["beta_level1"] == ("level1", "driver")
    labels = segment_labels(data, ["segment", "subsegment"])
    assert set(labels) == set(model.coords["segment"])


@pytest.mark.parametrize("parametrization", ["centered", "non_centered"])
@pytest.mark.parametrize("two_levels", [False, True])
def test_numpy_deterministics_match_pymc(parametrization, two_levels):
    import arviz as az
    import pymc as pm

    data = _data(n=400, two_levels=two_levels)
    segments = ["segment", "subsegment"] if two_levels else "segment"
    prep = prepare_data(data, outcome="y", drivers=DRIVERS, segments=segments)
    from cxkit.drivers.model import _model_from_prepared

    model = _model_from_prepared(prep, None, parametrization)
    with model:
        prior = pm.sample_prior_predictive(draws=20, random_seed=1, var_names=[v.name for v in model.free_RVs])
    free = prior.prior
    ours = add_deterministics(free, prep, parametrization)
    theirs = pm.compute_deterministics(free, model=model, progressbar=False)
    for name in theirs.data_vars:
        np.testing.assert_allclose(ours[name].transpose(*theirs[name].dims).values,
                                   theirs[name].values, rtol=1e-8, err_msg=name)


def test_missing_values_raise_with_columns_and_counts_or_drop():
    data = _data(n=200)
    data.loc[[3, 5], "rating_app"] = np.nan
    data.loc[7, "y"] = np.nan
    with pytest.raises(ValueError, match=r"y: 1, rating_app: 2.*missing='drop'"):
        prepare_data(data, outcome="y", drivers=DRIVERS, segments="segment")
    prep = prepare_data(data, outcome="y", drivers=DRIVERS, segments="segment", missing="drop")
    assert (prep.n_rows, prep.n_dropped) == (197, 3)


def test_input_errors_name_the_problem():
    data = _data(n=200)
    with pytest.raises(KeyError, match=r"\['nope'\] not in the data"):
        prepare_data(data, outcome="y", drivers=["nope"], segments="segment")
    with pytest.raises(ValueError, match=r"\['const'\] take a single value"):
        prepare_data(data.assign(const=1.0), outcome="y", drivers=["const"], segments="segment")
    with pytest.raises(ValueError, match="must be 0/1 or boolean; .* rows"):
        prepare_data(data, outcome="y", drivers=DRIVERS, segments="segment", family="bernoulli")
    with pytest.raises(ValueError, match="family must be one of"):
        prepare_data(data, outcome="y", drivers=DRIVERS, segments="segment", family="poisson")
    with pytest.raises(TypeError, match="must be numeric"):
        prepare_data(data.assign(txt="a"), outcome="y", drivers=["txt"], segments="segment")


def test_auto_parametrization_follows_rows_per_segment():
    small = prepare_data(_data(n=300), outcome="y", drivers=DRIVERS, segments="segment")
    big = prepare_data(_data(n=20_000), outcome="y", drivers=DRIVERS, segments="segment")
    many, _ = simulate_responses(20_000, n_segments=8, drivers=SIM_DRIVERS, seed=3)
    many = prepare_data(many, outcome="y", drivers=DRIVERS, segments="segment")
    assert choose_parametrization(small) == "non_centered"
    assert choose_parametrization(big) == "non_centered"  # 3 segments: spread too weak
    assert choose_parametrization(many) == "centered"
    assert choose_parametrization(big, "non_centered") == "non_centered"
    with pytest.raises(ValueError, match="parametrization must be"):
        choose_parametrization(big, "sideways")
