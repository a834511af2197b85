"""Fit the driver model and hold the result (``DriverResult``): effects, config, diagnostics."""

from __future__ import annotations

import json
import os
import time
import warnings
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from cxkit._json import jsonable as _jsonable
from cxkit.results import ModelResult
from cxkit.stats import HDI_PROB
from cxkit.diagnostics import check_convergence, format_failures, raise_if_failed
from cxkit.drivers.model import (
    Family,
    Parametrization,
    Spread,
    _model_from_prepared,
    add_deterministics,
    choose_parametrization,
    prepare_data,
    segment_labels as _segment_labels,
)
from cxkit.drivers.priors import merge_priors, priors_to_dict
from cxkit.drivers.sampling import sample_model
from cxkit.drivers.separation import cell_separation, separation_warning

_NUTPIE_KW: dict = {}
CONFIG_ATTR = "cxkit_driver_config"
DIAGNOSTICS_ATTR = "cxkit_driver_diagnostics"


class DriverConfig(BaseModel):
    """How a driver model was made: written into ``idata.attrs`` and ``config.json``."""

    model_config = ConfigDict(extra="forbid")

    outcome: str
    drivers: list[str]
    segments: list[str]
    family: str
    priors: dict[str, dict]
    parametrization: str
    spread: str = "shared"
    categories: list[Any] | None = None
    sampler: str = "nutpie"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 0
    target_accept: float = 0.8
    gate: str = "raise"
    missing: str = "raise"
    n_rows: int
    n_dropped: int = 0
    n_cells: int
    segment_labels: list[str]
    level1_labels: list[str] | None = None
    driver_means: dict[str, float]
    driver_sds: dict[str, float]
    outcome_mean: float
    outcome_sd: float
    timings: dict[str, float] = {}
    cxkit_version: str = ""


class DriverResult(ModelResult):
    """A fitted driver model.

    Attributes
    ----------
    idata : arviz.InferenceData
        Posterior with ``beta`` (segment x driver, original scale: outcome units - or
        log-odds for bernoulli/ordinal - per driver unit), ``mu_beta`` (driver), ``alpha``
        (segment, original-scale intercept), with two levels ``beta_level1``, for gaussian
        ``sigma``, for ordinal ``cutpoints``.
    config : DriverConfig
    diagnostics : dict
        ``max_r_hat, min_ess_bulk, min_ess_tail, divergences, min_bfmi, passed``, ...,
        and for bernoulli/ordinal ``separation``: the findings of
        :func:`cxkit.drivers.separation.detect_separation` as records (see
        :attr:`separation`).
    """

    CONFIG_ATTR = CONFIG_ATTR
    DIAGNOSTICS_ATTR = DIAGNOSTICS_ATTR
    NAME = "driver"

    def __init__(self, idata, config: DriverConfig, diagnostics: dict):
        self.idata = idata
        self.config = config
        self.diagnostics = diagnostics

    def __repr__(self) -> str:
        c = self.config
        status = "passed" if self.diagnostics.get("passed") else "FAILED"
        return (f"DriverResult({c.family}, outcome={c.outcome!r}, {len(c.drivers)} drivers, "
                f"{len(c.segment_labels)} segments, n={c.n_rows}, gate {status})")

    # -- tables ---------------------------------------------------------------------------
    @property
    def separation(self) -> pd.DataFrame:
        """Separation and weak identification found in the data, per segment and driver.

        Columns ``segment, driver, issue, detail, n`` (see
        :func:`cxkit.drivers.separation.detect_separation`); empty when every effect is
        identified by the data (always empty for a gaussian outcome).
        """
        from cxkit.drivers.separation import COLUMNS

        return pd.DataFrame(self.diagnostics.get("separation") or [], columns=COLUMNS)

    def summary(self, var_name: str = "beta") -> pd.DataFrame:
        """Tidy effect table: ``segment, driver, mean, sd, hdi_low, hdi_high, r_hat, ess_bulk,
        ess_tail, separation``.

        ``separation`` names what the data cannot identify for that segment and driver
        (``"quasi-complete separation"``, ``"no variation"``, ...; ``""`` when nothing):
        such an effect's size rests on the prior, so read its upper end with care.

        Parameters
        ----------
        var_name
            ``"beta"`` (per segment), ``"mu_beta"`` (population mean, segment ``"(all)"``)
            or ``"beta_level1"`` (two levels: the level-1 effects).

        Examples
        --------
        >>> result.summary().query("driver == 'rating_delivery'")   # doctest: +SKIP
        """
        import arviz as az

        if var_name not in self.idata.posterior:
            raise KeyError(f"{var_name!r} is not in the posterior; have {list(self.idata.posterior.data_vars)}")
        da = self.idata.posterior[var_name]
        table = pd.DataFrame({
            "mean": da.mean(("chain", "draw")).to_series(),
            "sd": da.std(("chain", "draw")).to_series(),
        })
        hdi = az.hdi(self.idata, var_names=[var_name], hdi_prob=HDI_PROB)[var_name]
        table["hdi_low"] = hdi.sel(hdi="lower").to_series()
        table["hdi_high"] = hdi.sel(hdi="higher").to_series()
        table["r_hat"] = az.rhat(self.idata, var_names=[var_name])[var_name].to_series()
        table["ess_bulk"] = az.ess(self.idata, var_names=[var_name], method="bulk")[var_name].to_series()
        table["ess_tail"] = az.ess(self.idata, var_names=[var_name], method="tail")[var_name].to_series()
        table = table.reset_index()
        if var_name == "mu_beta":
            table.insert(0, "segment", "(all)")
        elif var_name == "beta_level1":
            table = table.rename(columns={"level1": "segment"})
        table["separation"] = self._separation_column(table)
        return table[["segment", "driver", "mean", "sd", "hdi_low", "hdi_high",
                      "r_hat", "ess_bulk", "ess_tail", "separation"]]

    def _separation_column(self, table: pd.DataFrame) -> pd.Series:
        """Per row of an effect table: the issues found for its segment and driver."""
        found = self.separation
        if found.empty:
            return pd.Series([""] * len(table), index=table.index, dtype="str")
        # A segment-wide issue (driver "") applies to every driver of that segment.
        issues: dict[tuple[str, str], list[str]] = {}
        for seg, drv, issue in found[["segment", "driver", "issue"]].itertuples(index=False):
            targets = [drv] if drv else self.config.drivers
            for d in targets:
                issues.setdefault((seg, d), []).append(issue)
        return pd.Series(["; ".join(issues.get((s, d), [])) for s, d in
                          zip(table["segment"], table["driver"])], index=table.index, dtype="str")

    def segment_labels(self, data: pd.DataFrame) -> pd.Series:
        """Segment label of each row of ``data`` as used in the ``segment`` coordinate."""
        return _segment_labels(data, self.config.segments)

    # -- prediction -----------------------------------------------------------------------
    def _draw_index(self, max_samples: int) -> np.ndarray:
        total = self.idata.posterior.sizes["chain"] * self.idata.posterior.sizes["draw"]
        if total <= max_samples:
            return np.arange(total)
        # Evenly spaced, not random: two calls (baseline and scenario) use the same draws,
        # so their difference carries no extra Monte Carlo noise.
        return np.linspace(0, total - 1, max_samples).round().astype(int)

    def _flat(self, name: str, idx: np.ndarray) -> np.ndarray:
        da = self.idata.posterior[name]
        values = da.values.reshape((-1,) + da.shape[2:])
        return values[idx]

    def expected_outcome(self, data: pd.DataFrame, *, max_samples: int = 1000) -> np.ndarray:
        """Posterior draws of the expected outcome for each row, on the outcome's own scale.

        gaussian: the mean score; bernoulli: the probability; ordinal: the expected category
        value (e.g. expected NPS 0-10 using the original category values).

        Parameters
        ----------
        data
            Rows with the driver and segment columns (the outcome is not needed). Segments
            must be ones the model was fitted on.
        max_samples
            At most this many posterior draws, evenly spaced (the same draws on every call).

        Returns
        -------
        ndarray of shape (n_samples, n_rows)

        Examples
        --------
        >>> base = result.expected_outcome(responses)                     # doctest: +SKIP
        >>> better = result.expected_outcome(responses.assign(rating_app=lambda d: d.rating_app + 1))  # doctest: +SKIP
        >>> (better - base).mean(axis=1)   # posterior of the average uplift  # doctest: +SKIP
        """
        from scipy.special import expit

        c = self.config
        absent = [col for col in [*c.drivers, *c.segments] if col not in data.columns]
        if absent:
            raise KeyError(f"column(s) {absent} needed for expected_outcome are not in the data")
        x = data[c.drivers].to_numpy(dtype=float)
        if np.isnan(x).any():
            bad = data[c.drivers].isna().sum()
            raise ValueError(f"missing driver values: {bad[bad > 0].to_dict()}; fill or drop those rows")
        labels = self.segment_labels(data).to_numpy()
        lookup = {label: i for i, label in enumerate(c.segment_labels)}
        unknown = sorted(set(labels) - set(lookup))
        if unknown:
            raise ValueError(
                f"segment(s) {unknown[:10]} were not in the data the model was fitted on "
                f"(fitted segments: {c.segment_labels[:10]}{' ...' if len(lookup) > 10 else ''})"
            )
        seg = np.array([lookup[label] for label in labels], dtype=int)

        idx = self._draw_index(max_samples)
        alpha, beta = self._flat("alpha", idx), self._flat("beta", idx)
        eta = np.empty((len(idx), len(data)))
        # Loop over segments, not rows: keeps memory at draws x rows.
        for s in np.unique(seg):
            rows = np.flatnonzero(seg == s)
            eta[:, rows] = alpha[:, s, None] + beta[:, s, :] @ x[rows].T
        if c.family == "gaussian":
            return eta
        if c.family == "bernoulli":
            return expit(eta)
        values = np.asarray(c.categories, dtype=float)
        cut = self._flat("cutpoints", idx)
        # E[y] = v_0 + sum_c (v_c - v_{c-1}) P(y >= c), with P(y >= c) = 1 - sigmoid(cut_{c-1} - eta).
        out = np.full_like(eta, values[0])
        for j in range(cut.shape[1]):
            out += (values[j + 1] - values[j]) * expit(eta - cut[:, j, None])
        return out

    # -- persistence (save/load: cxkit.results.ModelResult) ---------------------------------
    def _config_dict(self) -> dict:
        return _jsonable(self.config.model_dump())

    @classmethod
    def _from_saved(cls, idata, config: dict, diagnostics: dict) -> "DriverResult":
        return cls(idata, DriverConfig(**config), diagnostics)


def fit_drivers(
    data: pd.DataFrame,
    *,
    outcome: str,
    drivers: str | Sequence[str],
    segments: str | Sequence[str],
    family: Family = "gaussian",
    priors: dict | None = None,
    categories: Sequence | None = None,
    parametrization: Parametrization = "auto",
    spread: Spread = "shared",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    cores: int | None = None,
    target_accept: float = 0.9,
    gate: Literal["raise", "warn", "off"] = "raise",
    missing: Literal["raise", "drop"] = "raise",
    sampler: Literal["nutpie", "pymc"] = "nutpie",
    progress: bool | None = None,
) -> DriverResult:
    """Fit the hierarchical driver model and check convergence.

    Parameters
    ----------
    data, outcome, drivers, segments, family, priors, categories, missing, parametrization, spread
        As in :func:`cxkit.drivers.build_driver_model`.
    draws, tune, chains, seed, target_accept
        Sampler settings (per chain).
    cores
        Chains run in parallel (default: ``min(chains, CPU count)``).
    gate
        ``"raise"`` (default): a fit failing the convergence gate raises
        :class:`~cxkit.diagnostics.ConvergenceError` with the numbers, the
        settings that usually help, and the failed result itself (``err.result``).
        ``"warn"``: warn and return the result (``result.diagnostics["passed"]`` is False;
        a report built on it must say so first). ``"off"``: compute diagnostics only.
    sampler
        ``"nutpie"`` (default) or ``"pymc"``.
    progress
        Show progress with a time estimate: ``None`` (default) when the fit is expected
        to take more than about 20 s (timed on the compiled model before sampling),
        ``True`` always, ``False`` never.

    Returns
    -------
    DriverResult

    Examples
    --------
    >>> result = fit_drivers(responses, outcome="nps", segments="region",
    ...                      drivers=["rating_delivery", "rating_app"])     # doctest: +SKIP
    >>> result.summary().head()                                             # doctest: +SKIP
    """
    if gate not in ("raise", "warn", "off"):
        raise ValueError(f"gate must be 'raise', 'warn' or 'off', got {gate!r}")
    t0 = time.perf_counter()
    prep = prepare_data(data, outcome=outcome, drivers=drivers, segments=segments, family=family,
                        categories=categories, missing=missing)
    merged = merge_priors(priors)
    resolved = choose_parametrization(prep, parametrization)
    model = _model_from_prepared(prep, merged, resolved, spread)
    prep_s = time.perf_counter() - t0
    cores = cores or min(chains, os.cpu_count() or 1)
    separation = cell_separation(prep) if prep.family != "gaussian" else None
    idata, timings = sample_model(model, sampler=sampler, draws=draws, tune=tune, chains=chains,
                                  seed=seed, cores=cores, target_accept=target_accept,
                                  progress=progress, family=prep.family)
    idata.posterior = add_deterministics(idata.posterior, prep, resolved)
    timings = {"prepare_s": prep_s, **timings}
    if separation is not None:
        timings["separation_s"] = separation.attrs["seconds"]

    from importlib.metadata import PackageNotFoundError, version

    try:
        cx_version = version("cxkit")
    except PackageNotFoundError:  # running from a source tree that is not installed
        cx_version = "unknown"
    config = DriverConfig(
        outcome=outcome, drivers=prep.drivers, segments=prep.segments, family=family,
        priors=priors_to_dict(merged), parametrization=resolved, spread=spread, categories=prep.categories,
        sampler=sampler, draws=draws, tune=tune, chains=chains, seed=seed,
        target_accept=target_accept, gate=gate, missing=missing, n_rows=prep.n_rows,
        n_dropped=prep.n_dropped, n_cells=prep.n_cells, segment_labels=prep.segment_labels,
        level1_labels=prep.level1_labels,
        driver_means=dict(zip(prep.drivers, prep.x_mean.tolist())),
        driver_sds=dict(zip(prep.drivers, prep.x_sd.tolist())),
        outcome_mean=prep.y_mean, outcome_sd=prep.y_sd, timings=timings,
        cxkit_version=cx_version,
    )
    idata.attrs[CONFIG_ATTR] = json.dumps(_jsonable(config.model_dump()))
    diagnostics = check_convergence(idata)
    if separation is not None:
        diagnostics["separation"] = separation.to_dict("records")
    idata.attrs[DIAGNOSTICS_ATTR] = json.dumps(_jsonable(diagnostics))
    result = DriverResult(idata, config, diagnostics)
    if prep.n_dropped:
        warnings.warn(f"missing='drop': dropped {prep.n_dropped} rows with missing values "
                      "(recorded in result.config.n_dropped)", UserWarning, stacklevel=2)
    if separation is not None and not separation.empty:
        warnings.warn(separation_warning(separation, prep.outcome), UserWarning, stacklevel=2)
    if not diagnostics["passed"] and gate != "off":
        settings = {"target_accept": target_accept, "draws": draws, "tune": tune,
                    "parametrization": resolved}
        if gate == "raise":
            raise_if_failed(diagnostics, settings, result)
        warnings.warn("gate='warn': " + format_failures(diagnostics, settings), RuntimeWarning,
                      stacklevel=2)
    return result
