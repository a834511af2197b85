"""Convergence gate: a fit that does not meet the thresholds is not published.

Thresholds follow current practice (Vehtari et al. 2021): R-hat < 1.01, bulk and tail
ESS > 400, no divergent transitions, and E-BFMI > 0.3 in every chain.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


class ConvergenceError(RuntimeError):
    """Raised when a fit fails the convergence gate.

    ``.diagnostics`` holds the numbers and ``.result`` the fitted result itself (or
    ``None``), so minutes of sampling are not lost: inspect it, or save it for later
    (``err.result.save(...)``) - but never publish it.

    Examples
    --------
    >>> try:                                                        # doctest: +SKIP
    ...     result = fit_drivers(responses, outcome="nps", drivers=drivers, segments="region")
    ... except ConvergenceError as err:
    ...     err.result.summary()       # the failed fit, for inspection only
    """

    def __init__(self, message: str, diagnostics: dict, result=None):
        super().__init__(message)
        self.diagnostics = diagnostics
        self.result = result


def _worst(per_var: dict[str, float], *, largest: bool, n: int = 3) -> list[tuple[str, float]]:
    items = sorted(per_var.items(), key=lambda kv: kv[1], reverse=largest)
    return [(k, float(v)) for k, v in items[:n]]


def _per_variable(ds, reducer) -> dict[str, float]:
    """Reduce each variable of a diagnostics Dataset to its worst element (NaN-safe)."""
    out = {}
    for name, da in ds.data_vars.items():
        values = np.asarray(da.values, dtype=float).ravel()
        values = values[np.isfinite(values)]
        if values.size:
            out[name] = float(reducer(values))
    return out


def check_convergence(
    idata,
    *,
    rhat_max: float = 1.01,
    ess_min: float = 400,
    bfmi_min: float = 0.3,
    var_names: Sequence[str] | None = None,
    raise_on_failure: bool = False,
) -> dict:
    """Compute convergence diagnostics and whether they pass the gate.

    Parameters
    ----------
    idata
        InferenceData with ``posterior`` and ``sample_stats`` (``diverging``, ``energy``).
    rhat_max, ess_min, bfmi_min
        Thresholds: R-hat must be below ``rhat_max``, bulk and tail ESS above ``ess_min``,
        every chain's E-BFMI above ``bfmi_min``; divergences must be zero.
    var_names
        Posterior variables to check (default: all of them, including Deterministics).
    raise_on_failure
        Raise :class:`ConvergenceError` (message and ``.diagnostics`` carry the numbers)
        instead of returning a failing dict.

    Returns
    -------
    dict
        ``max_r_hat, min_ess_bulk, min_ess_tail, divergences, min_bfmi, passed`` plus
        ``failures`` (one line per failing criterion, with value, threshold and the worst
        variables) and ``thresholds``. Use :func:`raise_if_failed` to turn it into an error.

    Examples
    --------
    >>> diag = check_convergence(idata)          # doctest: +SKIP
    >>> diag["passed"], diag["max_r_hat"]        # doctest: +SKIP
    (True, 1.003)
    """
    import arviz as az

    names = list(var_names) if var_names is not None else list(idata.posterior.data_vars)
    if not names:
        raise ValueError("the posterior has no variables to check")
    n_chains = idata.posterior.sizes["chain"]
    rhat = _per_variable(az.rhat(idata, var_names=names), np.max) if n_chains > 1 else {}
    ess_bulk = _per_variable(az.ess(idata, var_names=names, method="bulk"), np.min)
    ess_tail = _per_variable(az.ess(idata, var_names=names, method="tail"), np.min)

    stats = idata.sample_stats
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    bfmi = np.atleast_1d(az.bfmi(idata)) if "energy" in stats else np.array([np.nan])

    # R-hat needs several chains; with one chain it is undefined and counts as a failure.
    max_rhat = max(rhat.values()) if rhat else float("nan")
    min_bulk = min(ess_bulk.values()) if ess_bulk else float("nan")
    min_tail = min(ess_tail.values()) if ess_tail else float("nan")
    min_bfmi = float(np.nanmin(bfmi)) if np.isfinite(bfmi).any() else float("nan")

    failures = []
    if not max_rhat < rhat_max:
        worst = _worst(rhat, largest=True) if rhat else "needs at least 2 chains"
        failures.append(f"r_hat: max {max_rhat:.4f} >= {rhat_max} (worst: {worst})")
    if not min_bulk > ess_min:
        failures.append(f"ess_bulk: min {min_bulk:.0f} <= {ess_min} (worst: {_worst(ess_bulk, largest=False)})")
    if not min_tail > ess_min:
        failures.append(f"ess_tail: min {min_tail:.0f} <= {ess_min} (worst: {_worst(ess_tail, largest=False)})")
    if divergences > 0:
        failures.append(f"divergences: {divergences} > 0")
    if not min_bfmi > bfmi_min:
        failures.append(f"bfmi: min {min_bfmi:.3f} <= {bfmi_min} (per chain: {np.round(bfmi, 3).tolist()})")

    diagnostics = {
        "max_r_hat": max_rhat,
        "min_ess_bulk": min_bulk,
        "min_ess_tail": min_tail,
        "divergences": divergences,
        "min_bfmi": min_bfmi,
        "passed": not failures,
        "failures": failures,
        "thresholds": {"rhat_max": rhat_max, "ess_min": ess_min, "bfmi_min": bfmi_min},
    }
    if raise_on_failure:
        raise_if_failed(diagnostics)
    return diagnostics


def format_failures(diagnostics: dict, settings: dict | None = None) -> str:
    """One message listing every failing criterion and the settings that usually help.

    Parameters
    ----------
    diagnostics
        As returned by :func:`check_convergence`.
    settings
        The fit's settings (``target_accept, draws, tune, parametrization``) so the advice
        can name values to try; any may be missing.

    Examples
    --------
    >>> diag = {"failures": ["divergences: 3 > 0"], "divergences": 3, "max_r_hat": 1.0,
    ...         "min_ess_bulk": 900, "min_ess_tail": 800}
    >>> "target_accept=0.95" in format_failures(diag, {"target_accept": 0.8})
    True
    """
    lines = "\n  ".join(diagnostics["failures"])
    return (f"the fit failed the convergence gate:\n  {lines}\n"
            + "Settings that usually help: " + "; ".join(_advice(diagnostics, settings or {}))
            + ". Pass gate='warn' only to inspect a failed fit (it must not be published); "
            "the error's .result holds this one.")


def _advice(diagnostics: dict, settings: dict) -> list[str]:
    def now(key):
        return f" (now {settings[key]!r})" if key in settings else ""

    advice = []
    param = settings.get("parametrization")
    other = {"centered": "'non_centered'", "non_centered": "'centered'"}.get(param, "the other one")
    if diagnostics.get("divergences", 0) > 0:
        ta = settings.get("target_accept", 0.8)
        advice.append(f"divergences -> target_accept={0.99 if ta >= 0.95 else 0.95}{now('target_accept')}, "
                      f"or parametrization={other}{now('parametrization')}")
    ess = min(diagnostics.get("min_ess_bulk", np.inf), diagnostics.get("min_ess_tail", np.inf))
    if not ess > 400:
        draws = settings.get("draws", 1000)
        advice.append(f"low ESS -> draws={2 * draws}{now('draws')}")
    if not diagnostics.get("max_r_hat", 0.0) < 1.01:
        tune = settings.get("tune", 1000)
        advice.append(f"high R-hat -> tune={2 * tune}{now('tune')} and chains >= 4, "
                      f"or parametrization={other}{now('parametrization')}")
    advice.append("if that fails: tighter priors, or fewer or less correlated drivers")
    return advice


def raise_if_failed(diagnostics: dict, settings: dict | None = None, result=None) -> None:
    """Raise :class:`ConvergenceError` carrying the numbers when the gate failed.

    Examples
    --------
    >>> raise_if_failed({"passed": True, "failures": []})
    """
    if not diagnostics["passed"]:
        raise ConvergenceError(format_failures(diagnostics, settings), diagnostics, result)
