# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (cxkit)
#     language: python
#     name: cxkit
# ---

# %% [markdown]
# # 20 · What drives the score? A hierarchical Bayesian driver model
#
# Regresses the outcome named in the run YAML on experience drivers (ratings, service gaps,
# touchpoint counts) with effects partially pooled across segments, checks the priors
# before fitting, refuses to publish a fit that fails the convergence gate (unless
# `allow_failed_gate` is set, and then every report says so), and ranks drivers by
# importance with their uncertainty.

# %% tags=["parameters"]
run_dir: str = ""  # results folder with ingest/ from notebook 10; empty means reports/dev
outcome: str = ""  # responses column to explain (drivers.outcome, required)
family: str = "gaussian"  # gaussian, bernoulli or ordinal
drivers: list = []  # driver columns of the responses table (drivers.drivers, required)
segments: list = []  # segment columns effects are pooled over; 3 or more are crossed into one
categorical: dict = {}  # categorical drivers as column -> reference level (one-hot coded)
missing: dict = {}  # missing-value policy per column (drop, impute or indicator)
never_flags: bool = True  # a never-happened actual (never delivered) becomes a never_<tp> driver
summary: dict = {"kind": "none", "score": None, "scale_max": 5, "top": 2}  # headline by segment
draws: int = 1000  # posterior draws per chain
tune: int = 1000  # tuning steps per chain
chains: int = 4  # MCMC chains (R-hat needs at least 2)
seed: int = 0  # random seed for sampling
parametrization: str = "auto"  # auto, centered or non_centered hierarchy
target_accept: float = 0.9  # NUTS target acceptance; raise it when the fit diverges
allow_failed_gate: bool = False  # True: keep a fit that fails the convergence gate, flagged
olist_sources: str = ""  # sources YAML of the Olist sample; empty skips the Olist section
olist_outcome: str = ""  # Olist responses column to explain (e.g. the 1-5 review score)
olist_family: str = "gaussian"  # family of the Olist model
olist_drivers: list = []  # Olist driver columns (e.g. delivery gap)
olist_segments: list = []  # Olist segment columns
olist_missing: dict = {}  # missing-value policy per Olist column
olist_never_flags: bool = True  # never-delivered Olist orders become a never_delivery driver

# %%
from pathlib import Path

from cxkit.rundir import Run

RUN = Run.resolve(run_dir, default="dev")  # tables, models and ingest outputs of this run
GATE = "warn" if allow_failed_gate else "raise"
RUN_OLIST = bool(olist_sources)

# %%
import numpy as np

rng = np.random.default_rng(seed)

# %%
import arviz as az
import pandas as pd
import pymc as pm

from cxkit import drivers as cxd
from cxkit.drivers import plots as dplots
from cxkit.drivers import summaries
from cxkit.features import prepare_drivers, score_by_segment
from cxkit.publish import flag_failed_gate

# %% [markdown]
# ## The survey responses and their drivers

# %%
responses = RUN.ingest("responses")
responses[[outcome, *drivers]].describe(include="all").T

# %% [markdown]
# ## Model data: missing values, never-happened events, categories
# What the run YAML's `missing`, `never_flags` and `categorical` did, and the rows each
# rule touched. Every summary below reports `n` = rows fitted.

# %%
prep = prepare_drivers(responses, outcome=outcome, drivers=drivers, segments=segments,
                       categorical=categorical, missing=missing, never_flags=never_flags)
RUN.save_table("driver_data_policy", prep.policy)
print(prep.describe())
for col, lv in prep.levels.items():
    print(f"{col}: effects of {list(lv['columns'].values())} vs reference {lv['reference']!r}")

# %% [markdown]
# ## Prior predictive check
# Before looking at the data: what effect sizes do the priors allow? Effects are in outcome
# points per driver unit; the model's likelihood is a Potential on sufficient statistics,
# so the check is on the implied average effects rather than on simulated scores.

# %%
model = cxd.build_driver_model(prep.data, outcome=outcome, drivers=prep.drivers,
                               segments=prep.segments, family=family)
with model:
    prior = pm.sample_prior_predictive(draws=500, var_names=["mu_beta"], random_seed=seed)
az.plot_forest(prior.prior, var_names=["mu_beta"], combined=True, hdi_prob=0.94);
az.summary(prior, group="prior", var_names=["mu_beta"], kind="stats", hdi_prob=0.94)

# %% [markdown]
# ## Fit and convergence gate
# R-hat < 1.01, ESS > 400, no divergences, E-BFMI > 0.3; a failing fit stops the run.

# %%
try:
    result = cxd.fit_drivers(prep.data, outcome=outcome, drivers=prep.drivers,
                             segments=prep.segments, family=family, draws=draws, tune=tune,
                             chains=chains, seed=seed, parametrization=parametrization,
                             target_accept=target_accept, gate=GATE)
except cxd.ConvergenceError as err:
    # Keep the failed fit for inspection: the runner files this run under <run_id>.failed/.
    err.result.save(RUN.model_dir("drivers"))
    raise
flag_failed_gate(RUN.path, result.diagnostics, model="drivers")
result.save(RUN.model_dir("drivers"))
RUN.save_model_table("drivers", "fitted_rows", prep.data)  # notebook 30 reads them
pd.Series({k: v for k, v in result.diagnostics.items() if k not in ("thresholds", "separation")},
          name="value").rename_axis("convergence check").to_frame()

# %% [markdown]
# ## What the data cannot tell: separation and empty categories
# For a yes/no or 1-5 outcome, a driver can split the answers perfectly within a segment
# (everybody rating it low is dissatisfied, everybody rating it high satisfied). The data
# then show the effect is large but not how large; the estimate stays finite only through
# the priors. Such effects are listed here and flagged in the `separation` column of the
# effect table (`tables/driver_separation.parquet`).

# %%
from IPython.display import Markdown

from cxkit.drivers.separation import describe_separation

RUN.save_table("driver_separation", result.separation)
Markdown(describe_separation(result.separation, outcome) if family != "gaussian" else
         "A score outcome (gaussian family) cannot be separated: nothing to report here.")

# %% [markdown]
# ## Driver importance
# Importance = |effect| x the driver's spread in the segment: outcome points per SD.

# %%
importance = summaries.driver_importance(result, prep.data)
RUN.save_table("driver_importance", importance)
importance.query("segment == 'All'")

# %%
dplots.plot_driver_effects(importance, segment="All", value="importance");

# %% [markdown]
# ## Importance-performance: where to act
# High importance and low performance = "Concentrate here".

# %%
ipa = summaries.importance_performance(result, prep.data, importance=importance)
RUN.save_table("importance_performance", ipa)
dplots.plot_importance_performance(ipa, segment="All");

# %% [markdown]
# ## Headline score by segment (Bayesian, 94% HDI)
# As `drivers.summary` declares: NPS, top-box share or share of a yes/no outcome, over every
# response with a score.

# %%
SUMMARY_SCORE = summary.get("score") or outcome
headline = score_by_segment(responses, kind=summary["kind"], score=SUMMARY_SCORE,
                            segment=segments or None, scale_max=summary.get("scale_max", 5),
                            top=summary.get("top", 2), seed=seed)
if headline is None:
    print("No headline summary (drivers.summary.kind: none).")
else:
    RUN.save_table(f"{summary['kind']}_by_segment", headline)
    if "promoters" in headline:  # an NPS headline (summary kind nps) has its own plot
        dplots.plot_nps_by_segment(headline)
    display(headline)

# %% [markdown]
# ## Real data: Olist reviews
# Runs when `olist_sources` is set (params/olist.yaml): review score explained by the
# delivery gap and other journey features of real orders. Each review is linked to its own
# order's delivery (`link: order_id` in the sources YAML) rather than to a time window:
# Olist sends the survey at delivery or at the promised date, so late parcels are often
# reviewed before they arrive, and a window would miss exactly those.

# %%
if RUN_OLIST:
    from cxkit.ingest import run_ingest

    OLIST = RUN.sub("olist")  # the Olist sample's own ingest outputs, inside this run
    olist_report = run_ingest(Path(olist_sources), OLIST.ingest_dir, progress=False)
    print(olist_report.summary())
    olist = OLIST.ingest("responses")
    olist_prep = prepare_drivers(olist, outcome=olist_outcome, drivers=olist_drivers,
                                 segments=olist_segments, missing=olist_missing,
                                 never_flags=olist_never_flags)
    RUN.save_table("olist_driver_data_policy", olist_prep.policy)
    print(olist_prep.describe())

# %%
if RUN_OLIST:
    olist_result = cxd.fit_drivers(olist_prep.data, outcome=olist_outcome,
                                   drivers=olist_prep.drivers, segments=olist_prep.segments,
                                   family=olist_family, draws=draws, tune=tune, chains=chains,
                                   seed=seed, gate=GATE, target_accept=target_accept)
    flag_failed_gate(RUN.path, olist_result.diagnostics, model="olist drivers")
    olist_result.save(RUN.model_dir("olist_drivers"))

# %%
if RUN_OLIST:
    olist_importance = summaries.driver_importance(olist_result, olist_prep.data)
    RUN.save_table("olist_driver_importance", olist_importance)
    dplots.plot_driver_effects(olist_importance, segment="All")
    display(olist_importance.query("segment == 'All'"))

# %% [markdown]
# ## Versions

# %%
from cxkit.publish import watermark

watermark()
