"""A fast response-level generator with known driver effects, for driver-model tests.

Unlike :mod:`cxkit.simulate.sources`, which tells the whole multi-source story, this builds
the analysis frame directly: segments, drivers and an outcome drawn from a hierarchical
regression whose truth is returned alongside. Everything is vectorised numpy, so a million
rows take a second or two.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_DRIVERS = {
    "rating_product": 0.6,
    "rating_delivery": 0.4,
    "rating_app": 0.2,
    "rating_price": 0.3,
    "gap_delivery": -0.25,
    "had_support_ticket": -0.5,
}
FAMILIES = ("gaussian", "bernoulli", "ordinal")
N_CATEGORIES = 5
SUBSEGMENTS = ("a", "b", "c")
# Rating shares for 1..5: skewed to the top like real survey ratings.
RATING_P = np.array([0.05, 0.10, 0.25, 0.35, 0.25])
RATING_MEAN = float(np.dot(np.arange(1, 6), RATING_P))
FLAG_P = 0.25
# Cutpoints around the mean latent value giving category shares of about 10/15/30/25/20 %
# with the default drivers (the driver spread widens the latent beyond Logistic(0, 1)).
ORDINAL_BASE_CUTS = (-2.2, -0.9, 0.7, 2.1)


def driver_kind(name: str) -> str:
    """How a driver is drawn, from its name.

    ``rating_*`` are integer ratings 1-5, ``had_*`` / ``is_*`` / ``*_flag`` are 0/1 flags,
    anything else is continuous, standard normal.

    Examples
    --------
    >>> driver_kind("rating_app"), driver_kind("had_support_ticket"), driver_kind("gap_delivery")
    ('rating', 'flag', 'continuous')
    """
    if name.startswith("rating_"):
        return "rating"
    if name.startswith(("had_", "is_")) or name.endswith("_flag"):
        return "flag"
    return "continuous"


def _expected(kind: str) -> float:
    return {"rating": RATING_MEAN, "flag": FLAG_P, "continuous": 0.0}[kind]


def simulate_responses(n: int, *, n_segments: int = 4, drivers: dict[str, float] | None = None,
                       family: str = "gaussian", tau: float = 0.15, seed: int = 0,
                       two_levels: bool = False,
                       separate: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """Simulate survey responses from a hierarchical driver model with known effects.

    Parameters
    ----------
    n : int
        Number of responses (rows).
    n_segments : int
        Number of segments ``S1`` .. ``Sk`` (unequal sizes).
    drivers : dict of str to float, optional
        Driver name -> population mean effect ``mu_beta`` (outcome units per driver unit,
        log-odds for bernoulli/ordinal). The name sets how the driver is drawn, see
        :func:`driver_kind`. Default: six CX drivers (four ratings, a delivery gap in days,
        a support-ticket flag).
    family : {"gaussian", "bernoulli", "ordinal"}
        gaussian: ``y = alpha_s + X beta_s + N(0, sigma)``; bernoulli:
        ``y ~ Bernoulli(logistic(alpha_s + X beta_s))``; ordinal: ordered logistic on the same
        linear predictor with ``K = 5`` categories ``0..4``.
    tau : float
        Standard deviation of the segment deviations of every driver effect.
    seed : int
        Random seed.
    two_levels : bool
        Add a crossed ``subsegment`` column (``a``, ``b``, ``c``); effects then vary by
        ``"S1|a"`` cell: ``beta = mu_beta + dev_segment + dev_cell`` with ``dev_cell`` of
        sd ``tau / 2``.
    separate : dict, optional
        Build separation into one segment x rating driver, as real surveys show it:
        ``{"segment": "S1|a", "driver": "rating_app", "below": 3, "above": 5}`` makes every
        row of that segment rating the driver ``<= below`` the lowest outcome (0) and every
        row rating it ``>= above`` the highest (1, or the top category); rows in between
        keep the model's draw. ``above = below + 1`` gives complete separation, a gap
        quasi-complete (the ratings in between carry both outcomes). Not for gaussian.

    Returns
    -------
    data : DataFrame
        ``segment`` (and ``subsegment``), one column per driver, ``y``.
    truth : dict
        ``beta[label][driver]``, ``alpha[label]``, ``mu_beta``, ``tau``, ``sigma`` (gaussian),
        ``cutpoints`` (ordinal), ``segments`` (labels), ``driver_kind``, ``family``, ``seed``,
        ``separated`` (list of ``{"segment", "driver", "kind"}``; empty without
        ``separate``; that cell's ``beta`` is the effect among the in-between rows only).
        Labels are the segment values, or ``"S1|a"`` with two levels.

    Examples
    --------
    >>> data, truth = simulate_responses(1000, seed=1)
    >>> list(data.columns)[:2], truth["segments"][:2]
    (['segment', 'rating_product'], ['S1', 'S2'])
    """
    if family not in FAMILIES:
        raise ValueError(f"simulate_responses: family={family!r} is not one of {FAMILIES}; "
                         "pick one of those.")
    if n < 1 or n_segments < 1:
        raise ValueError(f"simulate_responses: need n >= 1 and n_segments >= 1, got n={n}, "
                         f"n_segments={n_segments}.")
    drivers = dict(DEFAULT_DRIVERS if drivers is None else drivers)
    if not drivers:
        raise ValueError("simulate_responses: drivers is empty; give at least one "
                         "{name: mean effect}.")
    names = list(drivers)
    kinds = {d: driver_kind(d) for d in names}
    if separate is not None:
        separate = _check_separate(separate, family, names, kinds)
    rng = np.random.default_rng(seed)
    param_rng, data_rng = rng.spawn(2)

    # ---- parameters (rounded to 4 decimals, and the rounded values are the ones used) ----
    seg_labels = [f"S{k}" for k in range(1, n_segments + 1)]
    mu = np.array([drivers[d] for d in names], dtype=float)
    seg_dev = param_rng.normal(0, tau, (n_segments, len(names)))
    if two_levels:
        labels = [f"{s}|{c}" for s in seg_labels for c in SUBSEGMENTS]
        cell_dev = param_rng.normal(0, tau / 2, (n_segments, len(SUBSEGMENTS), len(names)))
        B = (mu + seg_dev[:, None, :] + cell_dev).reshape(len(labels), len(names))
    else:
        labels = seg_labels
        B = mu + seg_dev
    B = np.round(B, 4)
    ex = np.array([_expected(kinds[d]) for d in names])
    # Intercepts put the average outcome where it would be on a real survey: about 7 on a
    # 0-10 scale (gaussian), 60% positive (bernoulli), centred latent scale (ordinal).
    level = {"gaussian": 7.0, "bernoulli": 0.4, "ordinal": 0.0}[family]
    spread = {"gaussian": 0.5, "bernoulli": 0.3, "ordinal": 0.3}[family]
    alpha = np.round(level - B @ ex + param_rng.normal(0, spread, len(labels)), 4)

    # ---- data ----
    seg_p = param_rng.dirichlet(np.full(n_segments, 4.0))
    seg_idx = data_rng.choice(n_segments, n, p=seg_p)
    if two_levels:
        sub_idx = data_rng.choice(len(SUBSEGMENTS), n, p=[0.5, 0.3, 0.2])
        cell = seg_idx * len(SUBSEGMENTS) + sub_idx
    else:
        cell = seg_idx
    X = np.empty((n, len(names)))
    for j, d in enumerate(names):
        if kinds[d] == "rating":
            X[:, j] = data_rng.choice(5, n, p=RATING_P) + 1
        elif kinds[d] == "flag":
            X[:, j] = data_rng.random(n) < FLAG_P
        else:
            X[:, j] = data_rng.standard_normal(n)
    eta = alpha[cell] + np.einsum("ij,ij->i", X, B[cell])
    if separate is not None and separate["segment"] not in labels:
        raise ValueError(f"simulate_responses: separate segment {separate['segment']!r} is not "
                         f"one of the segments {labels}")

    truth: dict = {"family": family, "seed": seed, "n": n, "drivers": names,
                   "driver_kind": kinds, "segments": labels,
                   "beta": {lab: dict(zip(names, map(float, B[k])))
                            for k, lab in enumerate(labels)},
                   "alpha": dict(zip(labels, map(float, alpha))),
                   "mu_beta": dict(zip(names, map(float, mu))), "tau": tau}
    if family == "gaussian":
        sigma = 1.5
        y = eta + data_rng.normal(0, sigma, n)
        truth["sigma"] = sigma
    elif family == "bernoulli":
        y = (data_rng.random(n) < 1 / (1 + np.exp(-eta))).astype("int64")
    else:
        centre = float(np.mean(alpha) + mu @ ex)
        cuts = np.round(centre + np.array(ORDINAL_BASE_CUTS), 4)
        # An ordered logistic draw is the number of cutpoints below eta + Logistic noise.
        y = np.searchsorted(cuts, eta + data_rng.logistic(size=n), side="left").astype("int64")
        truth["cutpoints"] = cuts.tolist()
        truth["n_categories"] = N_CATEGORIES

    truth["separated"] = []
    if separate is not None:
        rows = cell == labels.index(separate["segment"])
        x_sep = X[:, names.index(separate["driver"])]
        y = y.copy()
        y[rows & (x_sep <= separate["below"])] = 0
        y[rows & (x_sep >= separate["above"])] = 1 if family == "bernoulli" else N_CATEGORIES - 1
        kind = "complete" if separate["above"] - separate["below"] <= 1 else "quasi-complete"
        truth["separated"] = [{"segment": separate["segment"], "driver": separate["driver"],
                               "kind": kind}]

    cols: dict = {"segment": np.array(seg_labels, dtype=object)[seg_idx]}
    if two_levels:
        cols["subsegment"] = np.array(SUBSEGMENTS, dtype=object)[sub_idx]
    for j, d in enumerate(names):
        cols[d] = X[:, j] if kinds[d] == "continuous" else X[:, j].astype("int64")
    cols["y"] = y
    return pd.DataFrame(cols), truth


def _check_separate(separate: dict, family: str, names: list[str], kinds: dict) -> dict:
    spec = {"below": 3, "above": 5, **separate}
    unknown = set(spec) - {"segment", "driver", "below", "above"}
    if unknown or "segment" not in spec or "driver" not in spec:
        raise ValueError("simulate_responses: separate needs 'segment' and 'driver' (and "
                         f"optionally 'below', 'above'), got {sorted(separate)}")
    if family == "gaussian":
        raise ValueError("simulate_responses: separate applies to bernoulli or ordinal "
                         "outcomes; a gaussian outcome cannot be separated")
    if kinds.get(spec["driver"]) != "rating":
        raise ValueError(f"simulate_responses: separate driver {spec['driver']!r} must be one "
                         f"of the rating_* drivers {[d for d in names if kinds[d] == 'rating']}")
    if not 1 <= spec["below"] < spec["above"] <= 5:
        raise ValueError("simulate_responses: separate needs 1 <= below < above <= 5, got "
                         f"below={spec['below']}, above={spec['above']}")
    return spec
