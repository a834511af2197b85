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
# # 30 · What is a better experience worth, and who should we call?
#
# Links each customer's score before a cutoff to whether they stayed and what they spent
# after it, fits a retention + spend model adjusted for segment mix, prices the initiatives
# of the run (cost, revenue change, net value, ROI, payback; money intervals are 90%), shows
# how much the headline moves between reasonable model specifications, sorts customers into
# value quadrants with the revenue at risk in each, and lists the active customers to call.

# %% tags=["parameters"]
run_dir: str = ""  # results folder with ingest/ and models/drivers/; empty means reports/dev
score: str = None  # responses score linking experience to value; None: the outcome
outcome: str = ""  # the driver model's outcome (drivers.outcome)
segment: str = ""  # customers column the value model pools over (value.segment, required)
segments: list = []  # more customers columns carried into the value tables
cutoff: str = None  # ISO date ending the observation period; None: latest leaving the horizon
horizon_days: int = 365  # days after the cutoff in which retention and spend are measured
scenarios: list = []  # single-driver what-ifs (dashboard slider): driver, delta, name, clip
snapshot: dict = None  # customer snapshot columns (value.snapshot); None: from events
covariates: list = None  # other segment columns the value model adjusts for; None: all of them, []: none
initiatives: list = []  # initiatives YAML files (absolute paths; the runner resolves them)
currency: str = "EUR"  # currency label of revenue at risk
score_threshold: float = None  # quadrants: high score means at least this; None: 7 for NPS, else the median
revenue_threshold: float = None  # quadrants: high revenue means above this; None: the median
sensitivity: bool = True  # refit the value model per specification for the sensitivity table
draws: int = 1000  # posterior draws per chain
tune: int = 1000  # tuning steps per chain
chains: int = 4  # MCMC chains
seed: int = 0  # random seed for sampling and scenario draws
allow_failed_gate: bool = False  # True: keep a value fit that fails the convergence gate, flagged

# %%
from cxkit.rundir import Run

RUN = Run.resolve(run_dir, default="dev")  # tables, models and ingest outputs of this run
SCORE = score or outcome
SEGMENTS = list(dict.fromkeys([segment, *segments]))
GATE = "warn" if allow_failed_gate else "raise"

# %%
import numpy as np

rng = np.random.default_rng(seed)

# %%
import warnings

import pandas as pd
from IPython.display import Markdown, display

from cxkit import value
from cxkit.drivers import DriverResult
from cxkit.publish import flag_failed_gate, record_warning
from cxkit.value.table import read_snapshot

# %%
events = RUN.ingest("events")
customers = RUN.ingest("customers")
gaps = RUN.ingest("gaps", columns=["touchpoint", "unit"])
driver_result = RUN.model("drivers", DriverResult)
# The rows the driver model was fitted on (after the run YAML's missing-value policies):
# initiatives shift their drivers, so the value table keeps the customers among them.
responses = RUN.model_table("drivers", "fitted_rows")

# %% [markdown]
# ## Customer value table
# One row per customer: latest score before the cutoff, revenue before, retention and revenue after.

# %%
if snapshot:  # customer snapshot: score, churn flag, period revenue, no timestamps
    table = read_snapshot(snapshot["path"], score_name=SCORE,
                          **{k: v for k, v in snapshot.items() if k != "path"})
    fitted = table["customer_id"].isin(responses["customer_id"])
    print(f"{int((~fitted).sum())} snapshot customers have no fitted survey row: left out")
    table = table[fitted].reset_index(drop=True)
else:
    table = value.customer_value_table(events, responses, customers, score=SCORE,
                                       cutoff=cutoff, horizon_days=horizon_days,
                                       segments=SEGMENTS)
SEGMENTS = [c for c in SEGMENTS if c in table.columns]
display(pd.Series({k: str(v) for k, v in table.attrs.items()}, name="value")
        .rename_axis("customer value table").to_frame())
table.head()

# %% [markdown]
# ## Value model: retention and spend on the score, adjusted for segment mix
# Each level of the pooling column has its own retention and spend level; every other
# segment column enters as an adjustment, so the score's slope is not the segments' mix.

# %%
with warnings.catch_warnings():  # separation is printed below in words, not as a warning
    warnings.filterwarnings("ignore", message="value model: ", category=UserWarning)
    value_result = value.fit_value_model(table, segment=segment, covariates=covariates,
                                         draws=draws, tune=tune, chains=chains, seed=seed,
                                         gate=GATE)
flag_failed_gate(RUN.path, value_result.diagnostics, model="value")
for message in value_result.config["separation"]:
    record_warning(RUN.path, f"Value model: {message}", kind="separation")
value_result.save(RUN.model_dir("value"))
print("adjusted for:", value_result.config["covariates"] or "nothing")
print("\n".join(value_result.config["separation"]) or "No score band has all-or-nothing retention.")
value_result.summary().query("segment.isna()")

# %%
value.plot_retention_curve(value_result, segments=value_result.segments[:6]);

# %% [markdown]
# ## Initiatives: cost, revenue, net value, ROI and payback
# Per initiative over its horizon: customers kept and revenue change (driver-model draws
# paired with value-model draws), net value after cost, ROI, P(ROI > 0), payback in months;
# 90% intervals; ranked by expected net value. Each customer's new score starts from the
# score they gave: an ordinal driver model gives the distribution of their new category
# (nobody already at the top can rise); a gaussian one shifts the score, clipped to its range.

# %%
definitions = value.load_initiatives(initiatives) if initiatives else []
if definitions:
    initiative_table, initiative_draws = value.evaluate_initiatives(
        definitions, driver_result, value_result, responses, table, seed=seed)
    RUN.save_table("initiatives", initiative_table)
    RUN.save_table("initiative_draws", initiative_draws)
    display(initiative_table[[
        "rank", "initiative", "currency", "n_targeted", "cost", "revenue_change_mean",
        "revenue_change_low", "revenue_change_high", "net_value_mean", "roi_mean",
        "p_roi_positive", "payback_months_mean", "flags"]])
    value.plot_initiatives(initiative_table)
else:
    display(Markdown("No initiatives are listed in the run YAML (`value.initiatives`): "
                     "nothing to price. See params/initiatives/sample.yaml for the format."))

# %% [markdown]
# ## How much does the headline move with the model's specification?
# The top initiative's revenue change with the value model pooled by each segment column,
# adjusted for the others (first row: the model above) and unadjusted.

# %%
if definitions and sensitivity and len(SEGMENTS) > 1:
    headline = next(d for d in definitions if d["name"] == initiative_table["initiative"].iloc[0])
    sens = value.specification_sensitivity(
        table, headline, segments=[segment, *[c for c in SEGMENTS if c != segment]],
        driver_result=driver_result, responses=responses, draws=draws, tune=tune,
        chains=chains, seed=seed)
    RUN.save_table("value_sensitivity", sens)
    display(sens)

# %% [markdown]
# ## Scenarios: single-driver what-ifs (the dashboard's slider)

# %%
scenario_table, scenario_draws = value.simulate_scenarios(
    driver_result, value_result, responses, table, scenarios, seed=seed, return_draws=True)
RUN.save_table("scenarios", scenario_table)
RUN.save_table("scenario_draws", scenario_draws)
scenario_table

# %% [markdown]
# ## Value quadrants and revenue at risk
# Model (happy, valuable), Growth (happy, small), At-risk (unhappy, valuable), Dangling.
# Revenue at risk = P(leave) x expected revenue if the customer stays, over active customers.

# %%
quadrants = value.assign_quadrants(table, score_threshold=score_threshold,
                                   revenue_threshold=revenue_threshold)
print(f"High score: {SCORE} >= {quadrants.attrs['score_threshold']:g}; high revenue: "
      f"revenue before the cutoff > {quadrants.attrs['revenue_threshold']:,.2f}.")
RUN.save_table("quadrants", value.quadrant_table(quadrants, SEGMENTS))
risk = value.revenue_at_risk(quadrants, value_result, segments=SEGMENTS, currency=currency)
RUN.save_table("revenue_at_risk", risk)
value.quadrant_summary(quadrants).merge(
    risk.query("segment_var == '(all)'")[["quadrant", "customers", "revenue_at_risk_mean",
                                          "revenue_at_risk_low", "revenue_at_risk_high"]],
    on="quadrant", how="left")

# %%
value.plot_quadrants(quadrants);

# %% [markdown]
# ## Who to call: active at-risk customers and what hurt them most

# %%
latest = value.latest_responses(responses, table)
units = gaps.drop_duplicates("touchpoint").set_index("touchpoint")["unit"].to_dict()
issues = value.customer_issues(driver_result, latest, units=units)
at_risk = value.at_risk_list(quadrants, value_result, segments=SEGMENTS, issues=issues)
RUN.save_table("at_risk", at_risk, csv=True)
print(f"{len(at_risk)} active customers in the At-risk quadrant; "
      f"{int((~value.active_mask(quadrants)).sum())} customers who already left are not listed.")
at_risk.head(10)

# %% [markdown]
# ## Versions

# %%
from cxkit.publish import watermark

watermark()
