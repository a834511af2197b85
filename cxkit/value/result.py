"""A fitted value model: posterior draws, predictions per customer, save and load."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxkit.results import ModelResult

_PARAMS = ("a", "b", "c", "d")


def cell_labels(table: pd.DataFrame, columns) -> np.ndarray:
    """Label of each row's segment cell: the values of ``columns`` joined by ``|``.

    Examples
    --------
    >>> t = pd.DataFrame({"plan": ["basic", "pro"], "region": ["N", "S"]})
    >>> cell_labels(t, ["plan", "region"]).tolist()
    ['basic|N', 'pro|S']
    """
    columns = list(columns)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"table has no segment column(s) {missing} the value model was fitted "
                       f"on (columns: {list(table.columns)}).")
    # label the distinct combinations only (a few dozen), then index: fast on 1e5+ rows
    codes = table[columns].astype(str).groupby(columns, sort=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]
    parts = [table[c].astype(str).to_numpy(dtype=object)[first] for c in columns]
    labels = np.array(["|".join(p) for p in zip(*parts)], dtype=object)
    return labels[codes].astype(str)


@dataclass
class ValueResult(ModelResult):
    """A fitted value model: posterior, config and convergence diagnostics.

    Attributes
    ----------
    idata : arviz.InferenceData
        Posterior of ``a, b, c, d`` (dims ``segment``), hyperparameters and ``sigma``;
        ``idata.attrs`` holds the config as JSON (``cxkit_value_config``).
    config : dict
        ``score, segment, score_ref, segments, priors, draws, tune, chains, seed, gate`` and
        data counts.
    diagnostics : dict
        Output of the convergence gate (empty if it was skipped).
    """

    CONFIG_ATTR = "cxkit_value_config"
    DIAGNOSTICS_ATTR = "cxkit_value_diagnostics"
    NAME = "value"

    idata: object
    config: dict
    diagnostics: dict = field(default_factory=dict)

    # ---- posterior access -------------------------------------------------------------
    def draws(self) -> dict[str, np.ndarray]:
        """Flattened posterior draws: ``a, b, c, d`` as (n_samples, n_segment), ``sigma``.

        Read once and cached (predictions call it for every initiative).
        """
        cached = self.__dict__.get("_draws")
        if cached is not None:
            return cached
        post = self.idata.posterior
        out = {}
        for p in _PARAMS:
            v = post[p].transpose("chain", "draw", "segment").to_numpy()
            out[p] = v.reshape(-1, v.shape[-1])
        out["sigma"] = post["sigma"].to_numpy().reshape(-1)
        self.__dict__["_draws"] = out
        return out

    @property
    def segments(self) -> list[str]:
        return list(self.config["segments"])

    @property
    def segment_columns(self) -> list[str]:
        """Columns whose joined values label a cell (pooling column first, then covariates)."""
        return list(self.config.get("segment_columns") or [self.config["segment"]])

    def segment_index(self, segment_labels) -> np.ndarray:
        """Positions of cell labels (``"basic"`` or ``"basic|North"``) in the model's cells.

        Unknown labels raise, naming them and the known ones.
        """
        labels = np.asarray(segment_labels).astype(str)
        lookup = {s: i for i, s in enumerate(self.segments)}
        unknown = sorted(str(s) for s in set(labels) - set(lookup))
        if unknown:
            raise KeyError(f"segment label(s) {unknown[:5]} were not in the fitted data "
                           f"(columns {self.segment_columns}, known: {self.segments[:8]}"
                           f"{' ...' if len(self.segments) > 8 else ''}).")
        return np.array([lookup[s] for s in labels], dtype=int)

    def cell_index(self, table: pd.DataFrame) -> np.ndarray:
        """Each row's cell position, from the segment columns the model was fitted on."""
        return self.segment_index(cell_labels(table, self.segment_columns))

    def _parts(self, scores, seg_idx, draw_idx=None):
        """P(retain) and E[spend | retained], each (n_samples, n), for the chosen draws."""
        d = self.draws()
        if draw_idx is not None:
            d = {k: v[draw_idx] for k, v in d.items()}
        x = np.asarray(scores, dtype=float) - self.config["score_ref"]
        a, b, c, dd = (d[p][:, seg_idx] for p in _PARAMS)
        p_ret = 1.0 / (1.0 + np.exp(-(a + b * x)))
        spend = np.exp(c + dd * x + 0.5 * d["sigma"][:, None] ** 2)
        return p_ret, spend

    def _expected_value(self, scores, seg_idx, draw_idx=None) -> np.ndarray:
        """P(retain) * E[spend]; ``scores`` is (n,) or (n_samples, n) aligned to draws."""
        p_ret, spend = self._parts(scores, seg_idx, draw_idx)
        return p_ret * spend

    def expected_value(self, score_array, segment_labels) -> np.ndarray:
        """Posterior draws of expected next-period revenue per customer.

        Parameters
        ----------
        score_array : array-like, shape (n,)
            Scores on the original scale (e.g. NPS 0-10).
        segment_labels : array-like, shape (n,)
            Cell of each customer (:func:`cell_labels`; with one segment column simply its
            values), or use :meth:`cell_index` on a table.

        Returns
        -------
        ndarray, shape (n_samples, n)
            ``P(retain) * exp(c + d * x + sigma**2 / 2)`` for every posterior draw.

        Examples
        --------
        >>> ev = result.expected_value([6, 9], ["basic", "pro"])  # doctest: +SKIP
        >>> ev.mean(axis=0)  # doctest: +SKIP
        """
        scores = np.asarray(score_array, dtype=float)
        seg_idx = self.segment_index(segment_labels)
        if scores.shape != seg_idx.shape:
            raise ValueError(f"score_array has shape {scores.shape} but segment_labels has "
                             f"{seg_idx.shape}; pass one segment per score.")
        return self._expected_value(scores, seg_idx)

    def retention_probability(self, score_array, segment_labels) -> np.ndarray:
        """Posterior draws of P(retain), shape (n_samples, n)."""
        seg_idx = self.segment_index(segment_labels)
        return self._parts(score_array, seg_idx)[0]

    # ---- tables and persistence -------------------------------------------------------
    def summary(self, hdi_prob: float = 0.94) -> pd.DataFrame:
        """Tidy parameter table: ``parameter, segment, mean, sd, hdi_low, hdi_high, r_hat,
        ess_bulk`` (``segment`` null for population-level parameters).

        Examples
        --------
        >>> result.summary().query("parameter == 'b'")  # doctest: +SKIP
        """
        import arviz as az

        names = [*_PARAMS, *(f"mu_{p}" for p in _PARAMS), *(f"tau_{p}" for p in _PARAMS),
                 "sigma", *self.config.get("effect_names", [])]
        names = [n for n in names if n in self.idata.posterior]
        s = az.summary(self.idata, var_names=names, hdi_prob=hdi_prob, round_to="none")
        lo, hi = [c for c in s.columns if c.startswith("hdi_")]
        rows = []
        for label, r in s.iterrows():
            param, _, seg = label.partition("[")
            rows.append({"parameter": param, "segment": seg.rstrip("]") or None,
                         "mean": r["mean"], "sd": r["sd"], "hdi_low": r[lo], "hdi_high": r[hi],
                         "r_hat": r.get("r_hat", np.nan), "ess_bulk": r.get("ess_bulk", np.nan)})
        return pd.DataFrame(rows)

    # -- persistence (save/load: cxkit.results.ModelResult) ---------------------------------
    def _config_dict(self) -> dict:
        return json.loads(json.dumps(self.config, default=str))

    @classmethod
    def _from_saved(cls, idata, config: dict, diagnostics: dict) -> "ValueResult":
        return cls(idata=idata, config=config, diagnostics=diagnostics)
