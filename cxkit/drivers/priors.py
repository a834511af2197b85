"""Priors for the driver model: small objects merged with documented defaults.

Every prior acts on the *standardised* scale the model samples on (drivers scaled to mean 0,
sd 1; for the gaussian family the outcome too), so one set of defaults suits any units.
Effects are converted back to the original scale after sampling.

Defaults (``DEFAULT_PRIORS``):

=============  ======================  ==================================================
name           default                 what it governs
=============  ======================  ==================================================
``mu_beta``    ``Normal(0, 1)``        population mean effect of each driver
``tau_beta``   ``HalfNormal(0.5)``     spread of the effects between segments (per driver)
``alpha``      ``Normal(0, 1.5)``      each segment's intercept (not pooled; ordinal:
                                       sum-to-zero with this sd, the cutpoints set the level)
``sigma``      ``HalfNormal(1)``       residual sd (gaussian only)
``cutpoints``  ``Normal(0, 2)``        ordinal cutpoints, centred on evenly spaced values
=============  ======================  ==================================================

With two segment levels, ``tau_beta`` is used for both levels.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, TypeAdapter


class _Prior(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def create(self, name: str, **kwargs):  # pragma: no cover - overridden
        raise NotImplementedError


class Normal(_Prior):
    """Normal prior ``Normal(mu, sigma)``.

    Examples
    --------
    >>> Normal(mu=0, sigma=0.5)
    Normal(kind='normal', mu=0.0, sigma=0.5)
    """

    kind: Literal["normal"] = "normal"
    mu: float = 0.0
    sigma: PositiveFloat = 1.0

    def __init__(self, mu: float = 0.0, sigma: float = 1.0, **kwargs):
        super().__init__(mu=mu, sigma=sigma, **kwargs)

    def create(self, name: str, **kwargs):
        import pymc as pm

        mu = kwargs.pop("mu", self.mu)
        return pm.Normal(name, mu=mu, sigma=self.sigma, **kwargs)


class HalfNormal(_Prior):
    """Half-normal prior for scales, ``HalfNormal(sigma)``.

    Examples
    --------
    >>> HalfNormal(0.3).sigma
    0.3
    """

    kind: Literal["halfnormal"] = "halfnormal"
    sigma: PositiveFloat = 1.0

    def __init__(self, sigma: float = 1.0, **kwargs):
        super().__init__(sigma=sigma, **kwargs)

    def create(self, name: str, **kwargs):
        import pymc as pm

        return pm.HalfNormal(name, sigma=self.sigma, **kwargs)


class Exponential(_Prior):
    """Exponential prior for scales, ``Exponential(lam)`` (mean ``1 / lam``).

    Examples
    --------
    >>> Exponential(2).lam
    2.0
    """

    kind: Literal["exponential"] = "exponential"
    lam: PositiveFloat = 1.0

    def __init__(self, lam: float = 1.0, **kwargs):
        super().__init__(lam=lam, **kwargs)

    def create(self, name: str, **kwargs):
        import pymc as pm

        return pm.Exponential(name, lam=self.lam, **kwargs)


class Gamma(_Prior):
    """Gamma prior for scales, ``Gamma(alpha, beta)`` (mean ``alpha / beta``).

    With ``alpha > 1`` its density is zero at zero ("boundary avoiding", Chung et al. 2013),
    which suits the spread between a handful of segments: the data cannot rule out zero
    there, and a prior that piles up at zero makes a funnel the sampler cannot explore.

    Examples
    --------
    >>> Gamma(2, 10).alpha
    2.0
    """

    kind: Literal["gamma"] = "gamma"
    alpha: PositiveFloat = 2.0
    beta: PositiveFloat = 1.0

    def __init__(self, alpha: float = 2.0, beta: float = 1.0, **kwargs):
        super().__init__(alpha=alpha, beta=beta, **kwargs)

    def create(self, name: str, **kwargs):
        import pymc as pm

        return pm.Gamma(name, alpha=self.alpha, beta=self.beta, **kwargs)


Prior = Annotated[Union[Normal, HalfNormal, Exponential, Gamma], Field(discriminator="kind")]
_PRIOR_ADAPTER = TypeAdapter(Prior)

DEFAULT_PRIORS: dict[str, _Prior] = {
    "mu_beta": Normal(0.0, 1.0),
    "tau_beta": HalfNormal(0.5),
    "alpha": Normal(0.0, 1.5),
    "sigma": HalfNormal(1.0),
    "cutpoints": Normal(0.0, 2.0),
}

# Scales must stay positive: a Normal there would let the sampler wander to negative sds.
_SCALE_PRIORS = {"tau_beta", "sigma"}


def merge_priors(priors: dict | None = None) -> dict[str, _Prior]:
    """Merge user priors over ``DEFAULT_PRIORS`` (``defaults | user``).

    Parameters
    ----------
    priors
        Mapping of prior name to a prior object (``Normal(0, 0.5)``) or its dict form
        (``{"kind": "normal", "mu": 0, "sigma": 0.5}``, as stored in a saved config).

    Returns
    -------
    dict
        Name -> prior object, covering every name in ``DEFAULT_PRIORS``.

    Raises
    ------
    ValueError
        For an unknown name, or a location prior (``Normal``) given for a scale parameter.

    Examples
    --------
    >>> merge_priors({"tau_beta": HalfNormal(0.2)})["tau_beta"].sigma
    0.2
    """
    merged = dict(DEFAULT_PRIORS)
    for name, value in (priors or {}).items():
        if name not in DEFAULT_PRIORS:
            raise ValueError(
                f"unknown prior {name!r}; the driver model has priors "
                f"{sorted(DEFAULT_PRIORS)} (see cxkit.drivers.priors)"
            )
        prior = value if isinstance(value, _Prior) else _PRIOR_ADAPTER.validate_python(value)
        if name in _SCALE_PRIORS and isinstance(prior, Normal):
            raise ValueError(
                f"prior {name!r} is a scale and needs a positive prior "
                f"(HalfNormal or Exponential), got {prior!r}"
            )
        merged[name] = prior
    return merged


def priors_to_dict(priors: dict[str, _Prior]) -> dict[str, dict]:
    """JSON-ready form of merged priors (used in the saved config)."""
    return {name: prior.model_dump() for name, prior in priors.items()}


def cutpoint_centres(n_categories: int) -> np.ndarray:
    """Evenly spaced logistic quantiles, a neutral centre for the ordered cutpoints.

    They split a standard logistic latent variable into equally likely categories, so the
    prior favours no category and gives the sampler an ordered starting point.
    """
    p = np.arange(1, n_categories) / n_categories
    return np.log(p / (1 - p))
