"""Priors: small objects merged over documented defaults."""

import numpy as np
import pytest

from cxkit.drivers.priors import (
    DEFAULT_PRIORS,
    Gamma,
    HalfNormal,
    Normal,
    cutpoint_centres,
    merge_priors,
    priors_to_dict,
)


def test_merge_keeps_defaults_and_overrides_one():
    merged = merge_priors({"tau_beta": HalfNormal(0.2)})
    assert merged["tau_beta"] == HalfNormal(0.2)
    assert merged["mu_beta"] == DEFAULT_PRIORS["mu_beta"] == Normal(0, 1)
    assert set(merged) == set(DEFAULT_PRIORS)


def test_merge_accepts_saved_dict_form():
    saved = priors_to_dict(merge_priors({"sigma": Gamma(2, 4)}))
    assert saved["sigma"] == {"kind": "gamma", "alpha": 2.0, "beta": 4.0}
    assert merge_priors(saved) == merge_priors({"sigma": Gamma(2, 4)})


def test_unknown_prior_name_is_an_error_naming_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown prior 'tau'.*'tau_beta'"):
        merge_priors({"tau": HalfNormal(1)})


def test_scale_prior_must_be_positive():
    with pytest.raises(ValueError, match="'sigma' is a scale"):
        merge_priors({"sigma": Normal(0, 1)})


def test_invalid_parameters_rejected():
    with pytest.raises(ValueError):
        HalfNormal(-1)


def test_cutpoint_centres_split_logistic_evenly():
    c = cutpoint_centres(4)
    np.testing.assert_allclose(1 / (1 + np.exp(-c)), [0.25, 0.5, 0.75])
