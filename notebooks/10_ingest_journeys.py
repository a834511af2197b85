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
# # 10 · Ingest the sources and map the customer journey
#
# Reads every source declared in the sources YAML (orders, deliveries, tickets, web events,
# surveys, renewals), quarantines bad rows with a reason, stitches identities, and writes
# the journey tables into `<run_dir>/ingest/`. Then: where do customers drop out, which
# paths do they take, do cohorts come back, and where does the service miss its promises?

# %% tags=["parameters"]
run_dir: str = ""  # results folder; empty means reports/dev (the runner injects its run folder)
sources: str = ""  # sources YAML (ingest.sources); empty means params/sources/sample.yaml
window_days: int = 30  # days of touchpoints before each survey response used as features
engine: str = "duckdb"  # duckdb (laptop) or pyspark (cluster)
segment: str = None  # customers column of the gap chart (journeys.segment); None: overall
gap_segments: list = []  # customers columns the journey_gaps table is broken down by
seed: int = 0  # random seed (ingestion is deterministic; kept for the run's provenance)

# %%
from pathlib import Path

from cxkit.config import PARAMS_DIR
from cxkit.rundir import Run

RUN = Run.resolve(run_dir, default="dev")  # tables, models and ingest outputs of this run
SOURCES = Path(sources) if sources else PARAMS_DIR / "sources" / "sample.yaml"

# %%
import numpy as np

rng = np.random.default_rng(seed)

# %%
import pandas as pd

from cxkit import journeys
from cxkit.ingest import load_sources, run_ingest
from cxkit.publish import record_warning

# %% [markdown]
# ## Ingest
# Every row read is either kept or quarantined with a reason code: `rows_in == kept + quarantined`.

# %%
spec = load_sources(SOURCES).model_copy(update={"window_days": window_days})
report = run_ingest(spec, RUN.ingest_dir, engine=engine, progress=False)
print(report.summary())
assert report.ok, "ingestion problems: " + "; ".join(report.problems())

# %%
quarantine = RUN.ingest("quarantine")
quarantine.groupby(["source", "reason"]).size().rename("rows").reset_index()

# %%
events = RUN.ingest("events")
customers = RUN.ingest("customers")
gaps = RUN.ingest("gaps")
print(f"{len(events):,} events for {customers['customer_id'].nunique():,} customers")
# Survey-only exports and customer snapshots have no events: the journey analysis does not
# apply, and the run says so (manifest warnings and every report's first lines).
HAS_JOURNEYS = bool(len(events)) and events["customer_id"].notna().any()
HAS_GAPS = bool(len(gaps))
if not HAS_JOURNEYS:
    record_warning(RUN.path, "Step skipped: journey analysis (funnel, paths, cohorts, service "
                   "gaps). The sources declare no timed events (survey-only or snapshot data).",
                   kind="skipped")
elif not HAS_GAPS:
    record_warning(RUN.path, "Step skipped: expectation vs performance. The catalog declares "
                   "no expectation rule that these sources' events match.", kind="skipped")

# %% [markdown]
# ## Funnel
# How many customers reach each stage of the journey.

# %%
if HAS_JOURNEYS:
    funnel = journeys.stage_funnel(events)
    RUN.save_table("funnel", funnel)
    journeys.plot_funnel(funnel)

# %% [markdown]
# ## Transitions and paths
# Where customers go next from each stage, and the most common whole journeys.

# %%
if HAS_JOURNEYS:
    journey_table = RUN.ingest("journeys")  # built once, in ingestion
    transitions = journeys.transition_matrix(journey_table)
    journeys.plot_transition_heatmap(transitions)
    display(journeys.top_paths(journey_table, n=10))

# %% [markdown]
# ## Cohorts
# Share of each signup cohort still active month by month.

# %%
if HAS_JOURNEYS and "cohort" in customers.columns:
    retention = journeys.cohort_retention(events, customers)
    RUN.save_table("cohort_retention", retention)
    journeys.plot_cohort_retention(retention)

# %% [markdown]
# ## Expectation vs performance
# Each service promise (delivery date, ticket SLA) against what happened, by segment.

# %%
if HAS_GAPS and segment:
    gap_segment = journeys.gap_by_segment(gaps, customers, segment=segment)
    journeys.plot_gap_by_segment(gap_segment)

# %%
if HAS_GAPS:
    journey_gaps = journeys.journey_gaps_table(gaps, customers, segments=gap_segments)
    RUN.save_table("journey_gaps", journey_gaps)
    display(journey_gaps.head(10))

# %% [markdown]
# ## Versions

# %%
from cxkit.publish import watermark

watermark()
