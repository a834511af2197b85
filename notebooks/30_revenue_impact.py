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
# # 30 · What is a better experience worth?
#
# Links each customer's score before a cutoff to whether they stayed and what they spent
# after it, fits a retention + spend model pooled by segment, and prices initiatives
# ("cut delivery delay by a day") by pushing the driver model's predicted score change
# through the value model, with 94% HDIs. Finally sorts customers into value quadrants.

# %% tags=["parameters"]
run_dir: str = ""  # results folder with ingest/ and models/drivers/; empty means reports/dev
score: str = None  # responses score linking experience to value; None: the outcome
outcome: str = ""  # the driver model's outcome (drivers.outcome)
segment: str = ""  # customers column the value model pools over (value.segment, required)
segments: list = []  # more customers columns carried into the value tables
cutoff: str = None  # ISO date ending the observation period; None: latest leaving the horizon
horizon_days: int = 365  # days after the cutoff in which retention and spend are measured
scenarios: list = []  # initiatives: driver, delta, optional name and clip
snapshot: dict = None  # customer snapshot columns (value.snapshot); None: from events
draws: int = 1000  # posterior draws per chain
tune: int = 1000  # tuning steps per chain
chains: int = 4  # MCMC chains
seed: int = 0  # random seed for sampling and scenario draws
allow_failed_gate: bool = False  # True: keep a value fit that fails the convergence gate, flagged

# %%
from pathlib import Path

from cxkit.config import REPORTS_DIR

RUN_DIR = Path(run_dir) if run_dir else REPORTS_DIR / "dev"
INGEST_DIR = RUN_DIR / "ingest"
SCORE = score or outcome
SEGMENTS = list(dict.fromkeys([segment, *segments]))
GATE = "warn" if allow_failed_gate else "raise"

# %%
import numpy as np

rng = np.random.default_rng(seed)

# %%
import pandas as pd

from cxkit import value
from cxkit.drivers import DriverResult
from cxkit.publish import flag_failed_gate, model_dir, save_table
from cxkit.value.table import read_snapshot

# %%
events = pd.read_parquet(INGEST_DIR / "events.parquet")
customers = pd.read_parquet(INGEST_DIR / "customers.parquet")
driver_result = DriverResult.load(RUN_DIR / "models" / "drivers")
# The rows the driver model was fitted on (after the run YAML's missing-value policies):
# scenarios shift their drivers, so the value table keeps the customers among them.
responses = pd.read_parquet(RUN_DIR / "models" / "drivers" / "fitted_rows.parquet")

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
display(pd.Series({k: str(v) for k, v in table.attrs.items()}, name="value")
        .rename_axis("customer value table").to_frame())
table.head()

# %% [markdown]
# ## Value model: retention and spend on the score

# %%
value_result = value.fit_value_model(table, segment=segment, draws=draws, tune=tune,
                                     chains=chains, seed=seed, gate=GATE)
flag_failed_gate(RUN_DIR, value_result.diagnostics, model="value")
value_result.save(model_dir(RUN_DIR, "value"))
value_result.summary()

# %%
value.plot_retention_curve(value_result);

# %% [markdown]
# ## Scenarios: what each initiative is worth
# Revenue change over the horizon, summed over customers, with its 94% HDI.

# %%
scenario_table, scenario_draws = value.simulate_scenarios(
    driver_result, value_result, responses, table, scenarios, seed=seed, return_draws=True)
save_table(scenario_table, RUN_DIR, "scenarios")
save_table(scenario_draws, RUN_DIR, "scenario_draws")  # the dashboard's what-if slider
scenario_table

# %%
value.plot_scenarios(scenario_table);

# %% [markdown]
# ## Value quadrants
# Model (happy, valuable), Growth (happy, small), At-risk (unhappy, valuable), Dangling.

# %%
quadrants = value.assign_quadrants(table)
save_table(quadrants, RUN_DIR, "quadrants")
value.quadrant_summary(quadrants)

# %%
value.plot_quadrants(quadrants);

# %% [markdown]
# ## Versions

# %%
from cxkit.publish import watermark

watermark()
