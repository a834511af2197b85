"""Build the hierarchical driver model as a ``pm.Model``.

The model regresses a CX outcome (NPS, CSAT, satisfied, ...) on driver columns (ratings,
expectation gaps, touchpoint flags) with driver effects partially pooled across one or two
segment levels. Two ideas keep it fast at a million responses:

* Standardise drivers (and a gaussian outcome) so one set of priors fits any units, then
  convert effects back to the original scale with ``pm.Deterministic``.
* Never give the likelihood one term per respondent when an exact reduction exists:
  gaussian -> per-segment sufficient statistics (n, X'X, X'y, y'y); bernoulli -> binomial
  counts of identical (segment, drivers) rows; ordinal -> per-category counts of identical
  (segment, drivers) rows. The log-likelihood is identical (up to a constant) to the
  row-level one, so the posterior is the same.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import pandas as pd

from cxkit.drivers.data import (  # noqa: F401  (re-exported: the model's public data API)
    FAMILIES,
    SEGMENT_SEP,
    UNSEGMENTED,
    Family,
    PreparedData,
    prepare_data,
    segment_labels,
)
from cxkit.drivers.likelihood import bernoulli_loglik, gaussian_loglik, ordinal_loglik
from cxkit.drivers.priors import cutpoint_centres, merge_priors

Parametrization = Literal["auto", "centered", "non_centered"]
Spread = Literal["shared", "per_driver"]

# "auto" switches to the centred hierarchy once the typical (median) segment has this many
# rows per model coefficient: then the data pin each segment's effects more tightly than
# the between-segment spread, and the non-centred form turns into a narrow curved ridge
# (simulated 20k rows x 10 drivers x 20 segments: non-centred R-hat 1.014, centred passed).
# Bernoulli/ordinal rows carry less information each, but a segment's effects are still
# pinned far below the between-segment spread at a few thousand rows: with 6 segments of
# ~3,300 rows and 14 drivers the non-centred form needed 178 gradients per draw (step size
# 0.12, the depth-7 trees seen on real survey data) and the centred one 12.5 (step 0.42),
# see benchmarks/README.md. Ordinal rows carry more information than yes/no ones.
_CENTRED_ROWS_PER_COEF = {"gaussian": 50, "bernoulli": 30, "ordinal": 20}
# ... and only with at least this many segments (the survey case that motivated the
# thresholds above has 6; with 4 the centred form diverged).
_CENTRED_MIN_SEGMENTS = 6
# Precision of the logit families' stored design (see kernel.py): single precision halves
# the memory each gradient reads (it cut the earlier PyTensor kernel from 5.5 to 4.2 ms at
# 120k cells; the fused kernel takes 1.07); the linear predictor and the sums stay double,
# and the log-likelihood matches the row-level one to 1e-6 (tests/drivers/test_model).
KERNEL_DTYPE = "float32"


def choose_parametrization(prep: PreparedData, parametrization: Parametrization = "auto") -> str:
    """Resolve ``"auto"`` to ``"centered"`` or ``"non_centered"`` for the segment effects.

    Centred once the median segment has ``_CENTRED_ROWS_PER_COEF[family]`` rows per
    coefficient. With two levels the level-1 effects are non-centred either way.
    """
    if parametrization not in ("auto", "centered", "non_centered"):
        raise ValueError(
            f"parametrization must be 'auto', 'centered' or 'non_centered', got {parametrization!r}"
        )
    if parametrization != "auto":
        return parametrization
    # With two levels only the cells follow this choice; the few level-1 groups stay
    # non-centred (see _segment_effects): centring them too made the funnel that once
    # needed 4x more rows here (two-level simulation, 500 rows per cell: R-hat 1.32).
    need = _CENTRED_ROWS_PER_COEF[prep.family] * (len(prep.drivers) + 1)
    if prep.level1_labels is not None and prep.family == "gaussian":
        # Gaussian cells pinned this loosely still funnel under centring: the two-level
        # recovery case (4,000 rows, 9 cells) centred gave 5 divergences and tail ESS 295 on
        # the cells' spread; the earlier 4x rule keeps it non-centred, as it passed before.
        need *= 4
    if len(prep.segment_counts) < _CENTRED_MIN_SEGMENTS:
        # With few segments the between-segment spread is weakly identified and the centred
        # form funnels however many rows each has (4 segments x 750 bernoulli rows: 5
        # divergences centred, none non-centred; the 4-region sample and voice fits alike).
        return "non_centered"
    return "centered" if np.median(prep.segment_counts) >= need else "non_centered"


def _hierarchical(name, mean, scale, dims, centered):
    """``mean + scale * z`` (non-centred) or ``Normal(mean, scale)`` (centred)."""
    import pymc as pm

    if centered:
        return pm.Normal(name, mu=mean, sigma=scale, dims=dims)
    z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
    return pm.Deterministic(name, mean + scale * z, dims=dims)


def _model_from_prepared(prep: PreparedData, priors: dict | None = None,
                         parametrization: Parametrization = "auto", spread: Spread = "shared",
                         dtype: str | None = None):
    import pymc as pm

    if spread not in ("shared", "per_driver"):
        raise ValueError(f"spread must be 'shared' or 'per_driver', got {spread!r}")
    priors = merge_priors(priors)
    param = choose_parametrization(prep, parametrization)
    centered = param == "centered"
    coords = {"segment": prep.segment_labels, "driver": prep.drivers}
    if prep.level1_labels is not None:
        coords["level1"] = prep.level1_labels
    if prep.family == "ordinal":
        coords["cutpoint"] = list(range(len(prep.categories) - 1))
    dtype = dtype or KERNEL_DTYPE

    # Original scale: outcome units (gaussian) or log-odds (others) per driver unit.
    scale = original_scale_scale(prep)

    with pm.Model(coords=coords) as model:
        mu_beta_std = priors["mu_beta"].create("mu_beta_std", dims="driver")
        pm.Deterministic("mu_beta", mu_beta_std * scale, dims="driver")
        if prep.segments:
            beta_std = _segment_effects(prep, priors, mu_beta_std, spread, centered, scale)
        else:
            # One segment: its effects are the population's, there is no spread to learn.
            beta_std = pm.Deterministic("beta_std", mu_beta_std[None, :], dims=("segment", "driver"))
        _intercepts_and_likelihood(prep, priors, beta_std, scale, dtype)
    return model


def _segment_effects(prep, priors, mu_beta_std, spread, centered, scale):
    """Standardised effects per segment, partially pooled over one or two levels."""
    import pymc as pm

    # One spread shared by all drivers unless asked: with a handful of segments a spread
    # per driver is barely identified and its funnel gave hundreds of divergences in
    # both parametrizations (simulated 4 segments x 6 drivers); shared, it passed the gate.
    tau_dims = {"dims": "driver"} if spread == "per_driver" else {}
    tau_beta = priors["tau_beta"].create("tau_beta", **tau_dims)
    if prep.level1_labels is not None:
        # Level-1 groups are few and see the data only through their cells, so their
        # effects stay non-centred whatever the cells use: centred, the handful of groups
        # and their spread made a funnel (16 divergences in 500 iterations, 2 x 3 crossed
        # segments, 20k rows, see benchmarks/README.md).
        b1 = _hierarchical("beta_level1_std", mu_beta_std, tau_beta,
                           ("level1", "driver"), centered=False)
        tau_beta_2 = priors["tau_beta"].create("tau_beta_level2", **tau_dims)
        pm.Deterministic("beta_level1", b1 * scale, dims=("level1", "driver"))
        prior_mean, prior_sd = b1[prep.parent_idx], tau_beta_2
    else:
        prior_mean, prior_sd = mu_beta_std, tau_beta

    return _hierarchical("beta_std", prior_mean, prior_sd, ("segment", "driver"), centered)


def _intercepts_and_likelihood(prep, priors, beta_std, scale, dtype):
    import pymc as pm
    import pytensor.tensor as pt

    # Segment intercepts are not pooled: every segment's rows pin its own level far
    # better than the effects, and a pooled intercept made a funnel (divergences) with
    # few segments. Ordinal intercepts sum to zero because the cutpoints carry the level.
    if prep.family == "ordinal" and len(prep.segment_labels) == 1:
        alpha_std = pm.Deterministic("alpha_std", pt.zeros(1), dims="segment")
    elif prep.family == "ordinal":
        alpha_std = pm.ZeroSumNormal("alpha_std", sigma=priors["alpha"].sigma, dims="segment")
    else:
        alpha_std = priors["alpha"].create("alpha_std", dims="segment")

    beta = pm.Deterministic("beta", beta_std * scale, dims=("segment", "driver"))
    shift = pt.sum(beta * prep.x_mean, axis=1)
    if prep.family == "gaussian":
        pm.Deterministic("alpha", prep.y_mean + prep.y_sd * alpha_std - shift, dims="segment")
        sigma_std = priors["sigma"].create("sigma_std")
        pm.Deterministic("sigma", sigma_std * prep.y_sd)
        gaussian_loglik(prep.stats, alpha_std, beta_std, sigma_std)
    else:
        pm.Deterministic("alpha", alpha_std - shift, dims="segment")
        if prep.family == "bernoulli":
            bernoulli_loglik(prep.stats, alpha_std, beta_std, dtype)
        else:
            centres = cutpoint_centres(len(prep.categories))
            cut = priors["cutpoints"].create(
                "cutpoints", mu=centres + priors["cutpoints"].mu, dims="cutpoint",
                transform=pm.distributions.transforms.ordered, initval=centres,
            )
            ordinal_loglik(prep.stats, alpha_std, beta_std, cut, dtype)


def original_scale_scale(prep: PreparedData) -> np.ndarray:
    """Factor from standardised to original-scale effects, per driver."""
    return (prep.y_sd if prep.family == "gaussian" else 1.0) / prep.x_sd


def add_deterministics(posterior, prep: PreparedData, parametrization: str):
    """Compute the model's Deterministics from the free variables' draws, in numpy.

    Equivalent to ``pm.compute_deterministics`` for this model (a test checks that), but
    needs no compilation: sampling stores only the free variables because compiling the
    Deterministics too added about a third to nutpie's compile time.
    """
    import xarray as xr

    post = posterior
    centered = parametrization == "centered"
    scale = xr.DataArray(original_scale_scale(prep), dims="driver")
    x_mean = xr.DataArray(prep.x_mean, dims="driver")
    new = {}
    if prep.level1_labels is not None:
        b1 = post["mu_beta_std"] + post["tau_beta"] * post["beta_level1_std_z"]
        b1 = b1.transpose("chain", "draw", "level1", "driver")
        parent = xr.DataArray(prep.parent_idx, dims="segment")
        b = post["beta_std"] if centered else (
            b1.isel(level1=parent).drop_vars("level1", errors="ignore")
            + post["tau_beta_level2"] * post["beta_std_z"])
        new["beta_level1_std"] = b1
        new["beta_level1"] = b1 * scale
    elif not prep.segments:
        b = post["mu_beta_std"].expand_dims(segment=prep.segment_labels)
    else:
        b = post["beta_std"] if centered else (
            post["mu_beta_std"] + post["tau_beta"] * post["beta_std_z"])
    b = b.transpose("chain", "draw", "segment", "driver")
    new["beta_std"] = b
    new["beta"] = b * scale
    new["mu_beta"] = post["mu_beta_std"] * scale
    shift = (new["beta"] * x_mean).sum("driver")
    if "alpha_std" not in post:  # ordinal with one segment: the cutpoints carry the level
        new["alpha_std"] = xr.zeros_like(shift)
        post = post.assign(alpha_std=new["alpha_std"])
    if prep.family == "gaussian":
        new["alpha"] = prep.y_mean + prep.y_sd * post["alpha_std"] - shift
        new["sigma"] = post["sigma_std"] * prep.y_sd
    else:
        new["alpha"] = post["alpha_std"] - shift
    out = post.assign({k: v for k, v in new.items()})
    return out


def build_driver_model(
    data: pd.DataFrame,
    *,
    outcome: str,
    drivers: str | Sequence[str],
    segments: str | Sequence[str],
    family: Family = "gaussian",
    priors: dict | None = None,
    categories: Sequence | None = None,
    missing: str = "raise",
    parametrization: Parametrization = "auto",
    spread: Spread = "shared",
):
    """Build the hierarchical driver model (without sampling it).

    Parameters
    ----------
    data
        One row per survey response.
    outcome
        Outcome column: a score for ``"gaussian"`` (NPS 0-10, CSAT as a scale), 0/1 for
        ``"bernoulli"`` (satisfied, promoter), ordered values for ``"ordinal"``.
    drivers
        Driver columns: ratings, expectation gaps (e.g. delivery delay in days), 0/1 flags.
    segments
        One column (``"region"``) or two nested levels (``["region", "channel"]``); effects
        are partially pooled within each level.
    family
        ``"gaussian"``, ``"bernoulli"`` or ``"ordinal"`` (cumulative logit).
    priors
        Overrides of ``cxkit.drivers.priors.DEFAULT_PRIORS``, e.g. ``{"tau_beta": HalfNormal(0.2)}``.
    categories
        Ordinal only: all category values in order. Defaults to the observed values;
        declare it to include categories nobody chose.
    missing
        ``"raise"`` (default) names the columns with missing values; ``"drop"`` drops those rows.
    parametrization
        ``"non_centered"`` (best with few rows per segment), ``"centered"`` (best with many),
        or ``"auto"`` (picks by the median segment's row count per coefficient).
    spread
        ``"shared"`` (default): one between-segment sd ``tau_beta`` for all (standardised)
        driver effects, well identified even with 4 segments; ``"per_driver"``: one per
        driver, for many segments.

    Returns
    -------
    pm.Model
        Coordinates ``segment``, ``driver`` (and ``level1``, ``cell``, ``cutpoint``); the
        driver effects on the original scale are the Deterministic ``beta`` (segment x driver).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"region": rng.choice(["N", "S"], 200), "x": rng.normal(size=200)})
    >>> df["nps"] = 7 + 0.5 * df["x"] + rng.normal(size=200)
    >>> model = build_driver_model(df, outcome="nps", drivers=["x"], segments="region")
    >>> model.named_vars_to_dims["beta"]
    ('segment', 'driver')
    """
    prep = prepare_data(data, outcome=outcome, drivers=drivers, segments=segments,
                        family=family, categories=categories, missing=missing)
    return _model_from_prepared(prep, priors, parametrization, spread)
