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

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from cxkit.drivers.priors import cutpoint_centres, merge_priors

FAMILIES = ("gaussian", "bernoulli", "ordinal")
Family = Literal["gaussian", "bernoulli", "ordinal"]
Parametrization = Literal["auto", "centered", "non_centered"]
Spread = Literal["shared", "per_driver"]
SEGMENT_SEP = "|"

# "auto" switches to the centred hierarchy once the typical (median) segment has this many
# rows per model coefficient: then the data pin each segment's effects more tightly than
# the between-segment spread, and the non-centred form turns into a narrow curved ridge
# (simulated 20k rows x 10 drivers x 20 segments: non-centred R-hat 1.014, centred passed).
# Bernoulli/ordinal rows carry less information each, so they need more.
_CENTRED_ROWS_PER_COEF = {"gaussian": 50, "bernoulli": 400, "ordinal": 200}


@dataclass
class PreparedData:
    """Validated, standardised and reduced data for the likelihood (internal).

    ``stats`` holds the reduced likelihood inputs: for gaussian ``n, xx, xy, yy`` per
    segment (the design includes a leading intercept column); for bernoulli
    ``seg_idx, x, trials, successes`` per cell of identical rows; for ordinal
    ``seg_idx, x, counts`` (cell x category).
    """

    family: str
    outcome: str
    drivers: list[str]
    segments: list[str]
    segment_labels: list[str]
    level1_labels: list[str] | None
    parent_idx: np.ndarray | None
    x_mean: np.ndarray
    x_sd: np.ndarray
    y_mean: float
    y_sd: float
    categories: list | None
    n_rows: int
    n_dropped: int
    segment_counts: np.ndarray
    stats: dict = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        """Number of likelihood terms after the exact reduction."""
        if self.family == "gaussian":
            return len(self.segment_labels)
        return len(self.stats["seg_idx"])


def _as_list(value: str | Sequence[str], what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    out = list(value)
    if not out:
        raise ValueError(f"{what} is empty: give at least one column name")
    return out


def segment_labels(data: pd.DataFrame, segments: str | Sequence[str]) -> pd.Series:
    """Segment label of each row: the value, or values joined by ``"|"`` for two levels.

    Examples
    --------
    >>> df = pd.DataFrame({"region": ["North", "South"], "channel": ["web", "app"]})
    >>> segment_labels(df, ["region", "channel"]).tolist()
    ['North|web', 'South|app']
    """
    segments = _as_list(segments, "segments")
    missing = [c for c in segments if c not in data.columns]
    if missing:
        raise KeyError(f"segment column(s) {missing} not in the data; columns are {list(data.columns)}")
    labels = data[segments[0]].astype(str)
    for col in segments[1:]:
        labels = labels + SEGMENT_SEP + data[col].astype(str)
    labels.name = "segment"
    return labels


def _check_columns(data: pd.DataFrame, outcome: str, drivers: list[str], segments: list[str]) -> None:
    wanted = [outcome, *drivers, *segments]
    absent = [c for c in wanted if c not in data.columns]
    if absent:
        raise KeyError(
            f"column(s) {absent} not in the data; columns are {list(data.columns)}. "
            "Check the outcome=, drivers= and segments= arguments."
        )
    if len(segments) > 2:
        raise ValueError(f"at most two segment levels are supported, got {segments}")
    if len(set(drivers)) != len(drivers):
        raise ValueError(f"drivers contain duplicates: {drivers}")
    non_numeric = [c for c in [outcome, *drivers] if not pd.api.types.is_numeric_dtype(data[c])
                   and not pd.api.types.is_bool_dtype(data[c])]
    if non_numeric:
        raise TypeError(
            f"column(s) {non_numeric} must be numeric (ratings, gaps in days, 0/1 flags); "
            "convert them before fitting"
        )


def _handle_missing(data: pd.DataFrame, cols: list[str], missing: str) -> tuple[pd.DataFrame, int]:
    na = data[cols].isna()
    counts = na.sum()
    counts = counts[counts > 0]
    if counts.empty:
        return data, 0
    if missing == "raise":
        detail = ", ".join(f"{c}: {int(n)}" for c, n in counts.items())
        first = na.any(axis=1).to_numpy().nonzero()[0][:5].tolist()
        raise ValueError(
            f"missing values in the model columns ({detail}; first rows by position {first}). "
            "Impute or filter them, or pass missing='drop' to drop those rows "
            "(the count is recorded in the result)."
        )
    if missing != "drop":
        raise ValueError(f"missing must be 'raise' or 'drop', got {missing!r}")
    keep = ~na.any(axis=1)
    return data.loc[keep], int((~keep).sum())


def prepare_data(
    data: pd.DataFrame,
    *,
    outcome: str,
    drivers: str | Sequence[str],
    segments: str | Sequence[str],
    family: Family = "gaussian",
    categories: Sequence | None = None,
    missing: str = "raise",
) -> PreparedData:
    """Validate, standardise and reduce the data for the driver model.

    See :func:`build_driver_model` for the parameters.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    drivers = _as_list(drivers, "drivers")
    segments = _as_list(segments, "segments")
    _check_columns(data, outcome, drivers, segments)
    data, n_dropped = _handle_missing(data, [outcome, *drivers, *segments], missing)
    if len(data) == 0:
        raise ValueError("no rows left to fit after removing rows with missing values")

    x = data[drivers].to_numpy(dtype=float)
    x_mean = x.mean(axis=0)
    x_sd = x.std(axis=0)
    constant = [d for d, s in zip(drivers, x_sd) if not s > 0]
    if constant:
        raise ValueError(
            f"driver(s) {constant} take a single value in the data, so their effect cannot "
            "be estimated; remove them from drivers="
        )
    z = (x - x_mean) / x_sd

    # Segment index: sorted labels so the coordinate order is stable between runs.
    seg_frame = data[segments].astype(str)
    codes = seg_frame.groupby(segments, sort=True).ngroup().to_numpy()
    uniq = seg_frame.drop_duplicates().sort_values(segments)
    labels = segment_labels(uniq, segments).tolist()
    level1_labels = parent_idx = None
    if len(segments) == 2:
        level1_labels = sorted(uniq[segments[0]].unique().tolist())
        parent_idx = np.array([level1_labels.index(v) for v in uniq[segments[0]]])
    seg_counts = np.bincount(codes, minlength=len(labels))

    y_raw = data[outcome].to_numpy()
    y_mean, y_sd, cats = 0.0, 1.0, None
    stats: dict = {}
    if family == "gaussian":
        y = y_raw.astype(float)
        y_mean, y_sd = float(y.mean()), float(y.std())
        if not y_sd > 0:
            raise ValueError(f"outcome {outcome!r} is constant ({y_mean}); nothing to explain")
        stats = _gaussian_stats(z, (y - y_mean) / y_sd, codes, len(labels))
    elif family == "bernoulli":
        y = y_raw.astype(float)
        bad = ~np.isin(y, (0.0, 1.0))
        if bad.any():
            rows = bad.nonzero()[0][:5].tolist()
            raise ValueError(
                f"bernoulli outcome {outcome!r} must be 0/1 or boolean; {int(bad.sum())} rows "
                f"are not (first rows by position {rows}, values {np.unique(y[bad])[:5].tolist()}). "
                "Recode it, e.g. satisfied = csat >= 4."
            )
        stats = _count_cells(z, y.astype(int), codes, n_categories=2)
        stats = {"seg_idx": stats["seg_idx"], "x": stats["x"],
                 "trials": stats["counts"].sum(axis=1), "successes": stats["counts"][:, 1]}
    else:
        observed = sorted(pd.unique(y_raw).tolist())
        cats = sorted(categories) if categories is not None else observed
        unknown = sorted(set(observed) - set(cats))
        if unknown:
            raise ValueError(
                f"ordinal outcome {outcome!r} has values {unknown} that are not in "
                f"categories={cats}; add them to categories="
            )
        if len(cats) < 3:
            raise ValueError(
                f"ordinal outcome {outcome!r} has {len(cats)} categories {cats}; use "
                "family='bernoulli' for two"
            )
        y_idx = np.searchsorted(np.asarray(cats), y_raw)
        stats = _count_cells(z, y_idx, codes, n_categories=len(cats))
        cats = [c.item() if hasattr(c, "item") else c for c in cats]

    return PreparedData(
        family=family, outcome=outcome, drivers=drivers, segments=segments,
        segment_labels=labels, level1_labels=level1_labels, parent_idx=parent_idx,
        x_mean=x_mean, x_sd=x_sd, y_mean=y_mean, y_sd=y_sd, categories=cats,
        n_rows=len(data), n_dropped=n_dropped, segment_counts=seg_counts, stats=stats,
    )


def _gaussian_stats(z: np.ndarray, y: np.ndarray, codes: np.ndarray, n_seg: int) -> dict:
    """Per-segment sufficient statistics of the linear model with an intercept column."""
    a = np.hstack([np.ones((len(z), 1)), z])
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_seg + 1))
    k = a.shape[1]
    xx = np.zeros((n_seg, k, k))
    xy = np.zeros((n_seg, k))
    yy = np.zeros(n_seg)
    n = np.zeros(n_seg)
    for s in range(n_seg):
        rows = order[bounds[s]:bounds[s + 1]]
        a_s, y_s = a[rows], y[rows]
        xx[s] = a_s.T @ a_s
        xy[s] = a_s.T @ y_s
        yy[s] = y_s @ y_s
        n[s] = len(rows)
    return {"n": n, "xx": xx, "xy": xy, "yy": yy}


def _count_cells(z: np.ndarray, y_idx: np.ndarray, codes: np.ndarray, n_categories: int) -> dict:
    """Collapse identical (segment, drivers) rows into per-category counts."""
    frame = pd.DataFrame(z)
    frame.columns = [f"x{i}" for i in range(z.shape[1])]
    keys = ["seg", *frame.columns]
    frame["seg"] = codes
    frame["y"] = y_idx
    counts = frame.groupby([*keys, "y"], sort=False).size().unstack("y", fill_value=0)
    counts = counts.reindex(columns=range(n_categories), fill_value=0)
    cells = counts.index.to_frame(index=False)
    return {
        "seg_idx": cells["seg"].to_numpy(dtype=int),
        "x": cells[keys[1:]].to_numpy(dtype=float),
        "counts": counts.to_numpy(dtype=float),
    }


def choose_parametrization(prep: PreparedData, parametrization: Parametrization = "auto") -> str:
    """Resolve ``"auto"`` to ``"centered"`` or ``"non_centered"`` (see module notes)."""
    if parametrization not in ("auto", "centered", "non_centered"):
        raise ValueError(
            f"parametrization must be 'auto', 'centered' or 'non_centered', got {parametrization!r}"
        )
    if parametrization != "auto":
        return parametrization
    need = _CENTRED_ROWS_PER_COEF[prep.family] * (len(prep.drivers) + 1)
    if prep.level1_labels is not None:
        # Cells vary around their level-1 group by less than groups vary, so the data must
        # be that much more informative before centring pays (two-level simulation with
        # 500 rows per cell: centred R-hat 1.32, non-centred passed).
        need *= 4
    return "centered" if np.median(prep.segment_counts) >= need else "non_centered"


def _hierarchical(name, mean, scale, dims, centered):
    """``mean + scale * z`` (non-centred) or ``Normal(mean, scale)`` (centred)."""
    import pymc as pm

    if centered:
        return pm.Normal(name, mu=mean, sigma=scale, dims=dims)
    z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
    return pm.Deterministic(name, mean + scale * z, dims=dims)


def _model_from_prepared(prep: PreparedData, priors: dict | None = None,
                         parametrization: Parametrization = "auto", spread: Spread = "shared"):
    import pymc as pm
    import pytensor.tensor as pt

    if spread not in ("shared", "per_driver"):
        raise ValueError(f"spread must be 'shared' or 'per_driver', got {spread!r}")
    priors = merge_priors(priors)
    param = choose_parametrization(prep, parametrization)
    centered = param == "centered"
    two_levels = prep.level1_labels is not None
    coords = {"segment": prep.segment_labels, "driver": prep.drivers}
    if two_levels:
        coords["level1"] = prep.level1_labels
    if prep.family == "ordinal":
        coords["cutpoint"] = list(range(len(prep.categories) - 1))
    if prep.family != "gaussian":
        coords["cell"] = np.arange(prep.n_cells)

    # Original scale: outcome units (gaussian) or log-odds (others) per driver unit.
    scale = original_scale_scale(prep)

    with pm.Model(coords=coords) as model:
        mu_beta_std = priors["mu_beta"].create("mu_beta_std", dims="driver")
        # One spread shared by all drivers unless asked: with a handful of segments a spread
        # per driver is barely identified and its funnel gave hundreds of divergences in
        # both parametrizations (simulated 4 segments x 6 drivers); shared, it passed the gate.
        tau_dims = {"dims": "driver"} if spread == "per_driver" else {}
        tau_beta = priors["tau_beta"].create("tau_beta", **tau_dims)
        pm.Deterministic("mu_beta", mu_beta_std * scale, dims="driver")
        if two_levels:
            b1 = _hierarchical("beta_level1_std", mu_beta_std, tau_beta,
                               ("level1", "driver"), centered)
            tau_beta_2 = priors["tau_beta"].create("tau_beta_level2", **tau_dims)
            pm.Deterministic("beta_level1", b1 * scale, dims=("level1", "driver"))
            prior_mean, prior_sd = b1[prep.parent_idx], tau_beta_2
        else:
            prior_mean, prior_sd = mu_beta_std, tau_beta

        beta_std = _hierarchical("beta_std", prior_mean, prior_sd, ("segment", "driver"), centered)
        # Segment intercepts are not pooled: every segment's rows pin its own level far
        # better than the effects, and a pooled intercept made a funnel (divergences) with
        # few segments. Ordinal intercepts sum to zero because the cutpoints carry the level.
        if prep.family == "ordinal":
            alpha_std = pm.ZeroSumNormal("alpha_std", sigma=priors["alpha"].sigma, dims="segment")
        else:
            alpha_std = priors["alpha"].create("alpha_std", dims="segment")

        beta = pm.Deterministic("beta", beta_std * scale, dims=("segment", "driver"))
        shift = pt.sum(beta * prep.x_mean, axis=1)
        if prep.family == "gaussian":
            pm.Deterministic("alpha", prep.y_mean + prep.y_sd * alpha_std - shift, dims="segment")
            sigma_std = priors["sigma"].create("sigma_std")
            pm.Deterministic("sigma", sigma_std * prep.y_sd)
            _gaussian_loglik(prep, alpha_std, beta_std, sigma_std)
        else:
            pm.Deterministic("alpha", alpha_std - shift, dims="segment")
            st = prep.stats
            eta = alpha_std[st["seg_idx"]] + pt.sum(beta_std[st["seg_idx"]] * st["x"], axis=1)
            if prep.family == "bernoulli":
                pm.Binomial("y", n=st["trials"].astype(int), logit_p=eta,
                            observed=st["successes"].astype(int), dims="cell")
            else:
                centres = cutpoint_centres(len(prep.categories))
                cut = priors["cutpoints"].create(
                    "cutpoints", mu=centres + priors["cutpoints"].mu, dims="cutpoint",
                    transform=pm.distributions.transforms.ordered, initval=centres,
                )
                _ordinal_loglik(st, eta, cut)
    return model


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
        b1 = post["beta_level1_std"] if centered else (
            post["mu_beta_std"] + post["tau_beta"] * post["beta_level1_std_z"])
        b1 = b1.transpose("chain", "draw", "level1", "driver")
        parent = xr.DataArray(prep.parent_idx, dims="segment")
        b = post["beta_std"] if centered else (
            b1.isel(level1=parent).drop_vars("level1", errors="ignore")
            + post["tau_beta_level2"] * post["beta_std_z"])
        new["beta_level1_std"] = b1
        new["beta_level1"] = b1 * scale
    else:
        b = post["beta_std"] if centered else (
            post["mu_beta_std"] + post["tau_beta"] * post["beta_std_z"])
    b = b.transpose("chain", "draw", "segment", "driver")
    new["beta_std"] = b
    new["beta"] = b * scale
    new["mu_beta"] = post["mu_beta_std"] * scale
    shift = (new["beta"] * x_mean).sum("driver")
    if prep.family == "gaussian":
        new["alpha"] = prep.y_mean + prep.y_sd * post["alpha_std"] - shift
        new["sigma"] = post["sigma_std"] * prep.y_sd
    else:
        new["alpha"] = post["alpha_std"] - shift
    out = post.assign({k: v for k, v in new.items()})
    return out


def _gaussian_loglik(prep, alpha_std, beta_std, sigma_std):
    """Exact gaussian log-likelihood from per-segment sufficient statistics.

    RSS_s = y'y - 2 w'X'y + w'X'X w with w = (alpha_s, beta_s), so the cost per gradient
    depends on segments x drivers^2, not on the number of respondents.
    """
    import pymc as pm
    import pytensor.tensor as pt

    st = prep.stats
    w = pt.concatenate([alpha_std[:, None], beta_std], axis=1)
    quad = pt.sum(w[:, :, None] * st["xx"] * w[:, None, :], axis=(1, 2))
    rss = st["yy"] - 2.0 * pt.sum(w * st["xy"], axis=1) + quad
    n = st["n"]
    loglik = -0.5 * n.sum() * pt.log(2 * np.pi * sigma_std**2) - pt.sum(rss) / (2 * sigma_std**2)
    pm.Potential("loglik", loglik)


def _ordinal_loglik(st, eta, cut):
    """Cumulative-logit log-likelihood weighted by the per-category counts of each cell."""
    import pymc as pm
    import pytensor.tensor as pt

    # P(y <= c) = sigmoid(cut_c - eta); category probabilities are successive differences.
    cdf = pm.math.sigmoid(cut[None, :] - eta[:, None])
    n_cell = st["counts"].shape[0]
    cdf = pt.concatenate([pt.zeros((n_cell, 1)), cdf, pt.ones((n_cell, 1))], axis=1)
    prob = pt.clip(cdf[:, 1:] - cdf[:, :-1], 1e-12, 1.0)
    pm.Potential("loglik", pt.sum(st["counts"] * pt.log(prob)))


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
