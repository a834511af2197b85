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
# # 15 · Voice of the customer: what customers write, and what it costs
#
# Turns the survey comments into topics (TF-IDF + NMF, seeded) and a sentiment score,
# shows how often each topic comes up per segment (with 94% intervals and a privacy floor),
# quotes a few comments per topic, and puts "mentions topic T" into the driver model beside
# the ratings and gaps, so a topic's cost is measured on the same scale as theirs.
# Stop words, stemmers and sentiment lexicons ship with the installed packages: nothing is
# downloaded.

# %% tags=["parameters"]
run_dir: str = ""  # results folder with ingest/ from notebook 10; empty means reports/dev
text: str = ""  # responses column holding the comments (required: voice.text)
language: str = "auto"  # pt, en, es, de, fr or auto (detected from the comments)
n_topics: int = 6  # number of topics to find
min_share: float = 0.25  # share of a comment's topic weight that counts as a mention
min_n: int = 30  # privacy floor: fewer responses show "too few responses"
seed: int = 0  # seed of the topic model and the sampler
segments: list = []  # segment columns for topic prevalence; empty: the driver segments
topic_drivers: bool = True  # fit the driver model with topic flags beside the drivers
outcome: str = ""  # score the driver model explains (required: drivers.outcome)
family: str = "gaussian"  # gaussian, bernoulli or ordinal
drivers: list = []  # driver columns (drivers.drivers)
driver_segments: list = []  # segment columns the driver model pools over
draws: int = 1000  # posterior draws per chain
tune: int = 1000  # tuning steps per chain
chains: int = 4  # MCMC chains
parametrization: str = "auto"  # auto, centered or non_centered hierarchy
target_accept: float = 0.9  # NUTS target acceptance
allow_failed_gate: bool = False  # True: keep a fit that fails the convergence gate, flagged
olist_sources: str = ""  # sources YAML of the Olist sample; empty skips the Olist section

# %%
from pathlib import Path

from cxkit.rundir import Run

RUN = Run.resolve(run_dir, default="dev")  # tables, models and ingest outputs of this run
GATE = "warn" if allow_failed_gate else "raise"
RUN_OLIST = bool(olist_sources)
SEGMENTS = list(segments) or list(driver_segments)

# %%
import numpy as np

rng = np.random.default_rng(seed)  # NMF and the sampler take `seed` directly

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from cxkit import voice
from cxkit.drivers import fit_drivers, summaries
from cxkit.publish import flag_failed_gate

# %% [markdown]
# ## Topics in the comments
# Each topic is a set of words that tend to appear together; it is named by its top three
# words and listed with its keywords. Topic 1 is the most common.

# %%
responses = RUN.ingest("responses")
model, scored = voice.fit_topics(responses, text=text, language=language, n_topics=n_topics,
                                 seed=seed, min_share=min_share)
data = voice.join_topics(responses, scored)
display(Markdown(f"{int(data['has_verbatim'].sum()):,} of {len(data):,} responses carry a "
                 f"comment; language: **{model.language}**."))
model.topics

# %%
RUN.save_table("topics", model.topics)
RUN.save_table("response_topics", scored)
prevalence = voice.topic_prevalence(data, model.topics, segments=SEGMENTS, min_n=min_n)
RUN.save_table("topic_prevalence", prevalence)
examples = voice.example_verbatims(data.assign(**scored.filter(like="weight_")),
                                   model.topics, text=text, min_n=min_n)
RUN.save_table("topic_examples", examples)

# %% [markdown]
# ## How often each topic comes up
# Share of respondents who wrote a comment that mention the topic, with its 94% interval.
# Segments with fewer than `min_n` commenting respondents are not shown.

# %%
fig, axes = plt.subplots(1, 1 + bool(SEGMENTS), figsize=(12, 0.6 * n_topics + 2),
                         squeeze=False)
voice.plot_topic_prevalence(prevalence, ax=axes[0, 0])
if SEGMENTS:
    voice.plot_topic_prevalence(prevalence, segment_var=SEGMENTS[0], ax=axes[0, 1])
fig.tight_layout()

# %% [markdown]
# ## In customers' words
# Up to three comments per topic, those most clearly about it; none for a topic mentioned
# by fewer than `min_n` respondents.

# %%
examples[["topic", "label", "rank", "verbatim", "note"]]

# %% [markdown]
# ## Sentiment and the score
# Sentiment runs from -1 (negative) to +1 (positive); a comment's sentiment should fall
# with the score it came with.

# %%
with_text = data[data["has_verbatim"] == 1]
sentiment = (with_text.groupby(outcome)["sentiment"].agg(["count", "mean"])
             .rename(columns={"count": "comments", "mean": "mean sentiment"}))
sentiment.round(2)

# %% [markdown]
# ## Which topics go with low scores and with service gaps
# Mean score (and mean gap) among commenters who mention the topic against those who do not,
# with a 94% interval for the difference. This is association, not yet effect: the driver
# model below holds the ratings and gaps fixed.

# %%
gap_cols = [c for c in drivers if c.startswith(("gap_", "breach_"))]
association = voice.topic_association(data, columns=[outcome, *gap_cols])
association = association.merge(model.topics[["topic", "label"]], on="topic")
RUN.save_table("topic_association", association)
association.round(2)

# %% [markdown]
# ## Topics as drivers
# "Mentions topic T" enters the driver model beside the ratings and gaps. A driver that is
# the same thing as a topic (correlation 0.9 or more) is left out, because no model can
# separate the two; rare topics are left out too. Importance is the effect of one standard
# deviation of the driver; P(top 3) is the probability it ranks among the three most
# important in its segment.

# %%
if topic_drivers:
    columns, notes = voice.topic_driver_columns(data, drivers, topics=model.topics)
    for note in notes:
        display(Markdown(f"- {note}"))
    result = fit_drivers(data, outcome=outcome, drivers=columns, segments=driver_segments,
                         family=family, draws=draws, tune=tune, chains=chains, seed=seed,
                         parametrization=parametrization, target_accept=target_accept,
                         gate=GATE)
    flag_failed_gate(RUN.path, result.diagnostics, model="topic drivers")
    importance = summaries.driver_importance(result, data)
    RUN.save_table("topic_driver_importance", importance)
    display(importance[importance["segment"] == "All"].round(3))

# %% [markdown]
# ## Real data: Olist's Portuguese review comments
# The same steps on the Olist sample's reviews (1-5 stars), language detected. Which topic
# is about late or missing deliveries, and how strongly does it go with low stars and with
# the delivery gap (days after the promised date)?

# %%
if RUN_OLIST:
    from cxkit.ingest import ingest

    olist = ingest(Path(olist_sources)).responses
    o_model, o_scored = voice.fit_topics(olist, n_topics=8, seed=seed, min_share=min_share)
    o_data = voice.join_topics(olist, o_scored)
    o_assoc = voice.topic_association(o_data, columns=["review_score", "gap_delivery",
                                                       "breach_delivery"])
    o_assoc = o_assoc.merge(o_model.topics[["topic", "label", "keywords"]], on="topic")
    RUN.save_table("olist_topics", o_model.topics)
    RUN.save_table("olist_topic_association", o_assoc)
    display(o_model.topics)

# %%
if RUN_OLIST:
    gap = o_assoc[o_assoc["column"] == "gap_delivery"].set_index("topic")
    stars = o_assoc[o_assoc["column"] == "review_score"].set_index("topic")
    late = int(gap["diff"].idxmax())
    display(Markdown(
        f"The topic that goes with the longest delivery gap is **topic {late} "
        f"({gap.loc[late, 'label']})**: keywords {gap.loc[late, 'keywords']}. Reviews that "
        f"mention it came {gap.loc[late, 'diff']:.1f} days later against the promise "
        f"(94% interval {gap.loc[late, 'diff_low']:.1f} to {gap.loc[late, 'diff_high']:.1f}) "
        f"and gave {stars.loc[late, 'mean_with']:.2f} stars against "
        f"{stars.loc[late, 'mean_without']:.2f} for other comments "
        f"({stars.loc[late, 'diff']:+.2f}, interval {stars.loc[late, 'diff_low']:+.2f} to "
        f"{stars.loc[late, 'diff_high']:+.2f})."))

# %%
from cxkit.publish import watermark

watermark()
