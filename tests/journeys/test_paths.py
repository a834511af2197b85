"""cxkit.journeys.paths on the hand-made fixtures of conftest.py (expected values by hand)
and against plain pandas versions on random data."""

import numpy as np
import pandas as pd
import pytest

from cxkit.journeys import (
    STAGE_ORDER,
    stage_durations,
    sankey_links,
    stage_funnel,
    top_paths,
    transition_matrix,
)
from cxkit.journeys.base import (
    FUNNEL_COLUMNS,
    PATH_COLUMNS,
    SANKEY_COLUMNS,
    TRANSITION_COLUMNS,
)

C1_PATH = "awareness > consideration > purchase > delivery > usage > renewal"


# --- funnel ---------------------------------------------------------------------------

def test_stage_funnel_counts_conversion_and_fallout(events):
    f = stage_funnel(events)
    assert list(f.columns) == FUNNEL_COLUMNS
    # support is a side stage, not a step of the progression: left out by default
    assert f["stage"].tolist() == ["awareness", "consideration", "purchase", "delivery",
                                   "usage", "renewal"]
    assert f["step"].tolist() == [1, 2, 3, 4, 5, 6]
    # in step k = events in stage k and every stage before it: C2, C4 skip consideration,
    # C3 never buys; so purchase holds C1 only although three customers bought
    assert f["customers"].tolist() == [4, 2, 1, 1, 1, 1]
    assert f["reached"].tolist() == [4, 2, 3, 1, 1, 1]
    np.testing.assert_allclose(f["share_of_first"], [1, .5, .25, .25, .25, .25])
    np.testing.assert_allclose(f["conversion_from_previous"], [np.nan, .5, .5, 1, 1, 1])
    assert f["fallout"].tolist() == [0, 2, 1, 0, 0, 0]
    np.testing.assert_allclose(f["fallout_share"], [np.nan, .5, .5, 0, 0, 0])


def test_stage_funnel_explicit_stages_keep_order_and_zero_stages(events):
    f = stage_funnel(events, stages=["purchase", "onboarding", "renewal"])
    assert f["customers"].tolist() == [3, 0, 0]
    assert f["reached"].tolist() == [3, 0, 1]
    assert f["fallout"].tolist() == [0, 3, 0]
    # nobody at onboarding: conversion from it is undefined, not 0 or inf
    assert np.isnan(f["conversion_from_previous"].iloc[2])


def test_stage_funnel_unknown_stages_appended_by_name(events, add_events):
    ev = add_events(events, [("e90", "C2", "2024-05-01", "x", "zeta"),
                       ("e91", "C1", "2024-04-01", "y", "loyalty"),
                       ("e92", "C3", "2024-06-01", "y", "loyalty")])
    f = stage_funnel(ev)
    # zeta is seen before loyalty's second customer but sorts after it: by name, not time
    assert f["stage"].tolist()[-3:] == ["renewal", "loyalty", "zeta"]
    assert f["reached"].tolist()[-2:] == [2, 1]
    assert f["customers"].tolist()[-2:] == [1, 0]  # only C1 passed every earlier stage


def test_stage_funnel_empty_and_missing_column(events):
    f = stage_funnel(events.iloc[0:0])
    assert f.empty and list(f.columns) == FUNNEL_COLUMNS
    with pytest.raises(ValueError, match=r"events table is missing column\(s\) \['stage'\]"):
        stage_funnel(events.drop(columns="stage"))
    with pytest.raises(ValueError, match="unique"):
        stage_funnel(events, stages=["purchase", "purchase"])

# --- transitions -----------------------------------------------------------------------

def test_transition_matrix_stage_counts_and_probabilities(events):
    t = transition_matrix(events)
    assert list(t.columns) == TRANSITION_COLUMNS
    got = list(zip(t["from"], t["to"], t["count"]))
    assert got == [
        ("start", "awareness", 4),
        ("awareness", "consideration", 2),
        ("awareness", "purchase", 2),  # C4's tie at 09:00 resolved by event_id
        ("consideration", "purchase", 1),
        ("consideration", "end", 1),
        ("purchase", "delivery", 1),
        ("purchase", "support", 1),
        ("purchase", "end", 1),
        ("delivery", "usage", 1),
        ("usage", "renewal", 1),
        ("support", "end", 1),
        ("renewal", "end", 1),
    ]
    np.testing.assert_allclose(t.groupby("from")["prob"].sum(), 1.0)
    assert t.loc[t["from"].eq("purchase"), "prob"].tolist() == pytest.approx([1 / 3] * 3)


def test_transition_matrix_without_collapsing_keeps_self_loops(events):
    t = transition_matrix(events, collapse_repeats=False, normalize=False)
    loops = t.loc[t["from"] == t["to"]]
    assert sorted(zip(loops["from"], loops["count"])) == [("consideration", 1), ("usage", 1)]
    # every event enters once and every journey ends once: 15 events + 4 customers
    assert t["count"].sum() == 19
    assert t["prob"].sum() == pytest.approx(1.0)


def test_transition_matrix_touchpoint_ties_by_source_row(events):
    t = transition_matrix(events, level="touchpoint")
    pairs = set(zip(t["from"], t["to"]))
    assert ("product_view", "review_read") in pairs   # C3: e12 before e13 (row), same second
    assert ("review_read", "product_view") not in pairs
    assert ("ad_click", "order") in pairs and ("order", "ad_click") not in pairs  # C4


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_results_do_not_depend_on_row_order(events, seed):
    shuffled = events.sample(frac=1.0, random_state=seed)
    pd.testing.assert_frame_equal(transition_matrix(shuffled, level="touchpoint"),
                                  transition_matrix(events, level="touchpoint"))
    pd.testing.assert_frame_equal(top_paths(shuffled, level="touchpoint", n=None),
                                  top_paths(events, level="touchpoint", n=None))
    pd.testing.assert_frame_equal(stage_funnel(shuffled), stage_funnel(events))


def test_transition_matrix_bad_level_empty_and_missing(events):
    with pytest.raises(ValueError, match="level must be one of"):
        transition_matrix(events, level="channel")
    with pytest.raises(ValueError, match="event_ts"):
        transition_matrix(events.drop(columns="event_ts"))
    t = transition_matrix(events.iloc[0:0])
    assert t.empty and list(t.columns) == TRANSITION_COLUMNS


def test_paths_read_the_journeys_table_as_they_read_events(events, journeys):
    for level in ("stage", "touchpoint"):
        for collapse in (True, False):
            pd.testing.assert_frame_equal(
                transition_matrix(journeys, level=level, collapse_repeats=collapse),
                transition_matrix(events, level=level, collapse_repeats=collapse))
        pd.testing.assert_frame_equal(top_paths(journeys, level=level, n=None),
                                      top_paths(events, level=level, n=None))
        pd.testing.assert_frame_equal(sankey_links(journeys, level=level),
                                      sankey_links(events, level=level))
    # touchpoints shown by their stage's catalog rank, then by name
    t = transition_matrix(journeys, level="touchpoint")
    assert pd.unique(t["from"]).tolist() == ["start", "ad_click", "product_view", "review_read",
                                             "order", "delivery", "app_login", "ticket", "renewal"]
    with pytest.raises(ValueError, match=r"missing column\(s\) \['event_stages'\].*ingest again"):
        transition_matrix(journeys.drop(columns="event_stages"))


# --- paths and sankey --------------------------------------------------------------------

def test_top_paths_counts_and_ordering(events):
    p = top_paths(events)
    assert list(p.columns) == PATH_COLUMNS
    assert p["path"].tolist() == ["awareness > consideration", C1_PATH,
                                  "awareness > purchase", "awareness > purchase > support"]
    assert p["customers"].tolist() == [1, 1, 1, 1]
    assert p["share"].tolist() == [0.25] * 4


def test_top_paths_max_len_and_n(events):
    p = top_paths(events, max_len=2, n=1)
    assert p.to_dict("records") == [
        {"path": "awareness > consideration", "customers": 2, "share": 0.5}]
    assert top_paths(events, level="touchpoint", n=None)["customers"].sum() == 4
    with pytest.raises(ValueError, match="max_len"):
        top_paths(events, max_len=0)
    assert list(top_paths(events.iloc[0:0]).columns) == PATH_COLUMNS


def test_sankey_links_step_labels_and_min_count(events):
    s = sankey_links(events, max_steps=3)
    assert list(s.columns) == SANKEY_COLUMNS
    assert s.values.tolist() == [
        ["1:awareness", "2:consideration", 2],
        ["1:awareness", "2:purchase", 2],
        ["2:consideration", "3:purchase", 1],
        ["2:purchase", "3:support", 1],
    ]
    assert len(sankey_links(events, max_steps=3, min_count=2)) == 2
    # all steps: each customer contributes (steps - 1) links: 5 + 2 + 1 + 1
    assert sankey_links(events, max_steps=50)["value"].sum() == 9
    assert sankey_links(events.iloc[0:0]).empty
    with pytest.raises(ValueError, match="max_steps"):
        sankey_links(events, max_steps=1)

def test_stage_durations_between_consecutive_stages(events):
    d = stage_durations(events, stages=["awareness", "consideration", "purchase"])
    # awareness -> consideration: C1 1 day, C3 1 day 2 hours; consideration -> purchase: C1
    assert d[["from_stage", "to_stage", "customers"]].values.tolist() == [
        ["awareness", "consideration", 2], ["consideration", "purchase", 1]]
    assert d["median"].tolist() == pytest.approx([1 + 1 / 24, 1.0])
    assert stage_durations(events, stages=["awareness", "purchase"], unit="hours")[
        "customers"].tolist() == [3]
    with pytest.raises(ValueError, match="unit"):
        stage_durations(events, unit="weeks")

# --- cross-check against a plain pandas version on random data with many ties ----------

@pytest.fixture
def random_events():
    rng = np.random.default_rng(7)
    n = 20_000
    stages = np.array(STAGE_ORDER + ("loyalty",))
    return pd.DataFrame({
        "event_id": [f"e{i}" for i in rng.permutation(n)],
        "customer_id": rng.integers(0, 1_500, n),
        # ties in time broken by source, then row, then touchpoint (as ingestion does)
        "source": rng.choice(["shop", "web"], n),
        "source_row": rng.integers(0, 50, n),
        # day resolution: many same-time events per customer
        "event_ts": pd.Timestamp("2024-01-01", tz="UTC")
        + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
        "stage": stages[rng.integers(0, len(stages), n)],
        "touchpoint": rng.choice(["a", "b", "c", "d"], n),
    })


def _naive_steps(events, level, collapse):
    df = events.sort_values(["customer_id", "event_ts", "source", "source_row", "touchpoint"])
    if collapse:
        new = df["customer_id"].ne(df["customer_id"].shift())
        df = df.loc[new | df[level].ne(df[level].shift())]
    return df


@pytest.mark.parametrize("collapse", [True, False])
def test_transition_matrix_matches_naive_pandas(random_events, collapse):
    df = _naive_steps(random_events, "stage", collapse)
    prev = df.groupby("customer_id")["stage"].shift().fillna("start")
    nxt_missing = df.groupby("customer_id")["stage"].shift(-1).isna()
    moves = pd.concat([pd.DataFrame({"from": prev, "to": df["stage"]}),
                       pd.DataFrame({"from": df.loc[nxt_missing, "stage"], "to": "end"})])
    expected = moves.value_counts().to_dict()
    t = transition_matrix(random_events, collapse_repeats=collapse)
    assert dict(zip(zip(t["from"], t["to"]), t["count"])) == expected
    assert t["from"].iloc[0] == "start" and t["to"].iloc[-1] == "end"
    assert pd.unique(t["from"]).tolist()[-2:] == ["renewal", "loyalty"]


def test_top_paths_and_sankey_match_naive_pandas(random_events):
    df = _naive_steps(random_events, "touchpoint", True)
    df = df.assign(step=df.groupby("customer_id").cumcount())
    head = df.loc[df["step"] < 4]
    expected = head.groupby("customer_id")["touchpoint"].agg(" > ".join).value_counts()
    p = top_paths(random_events, level="touchpoint", max_len=4, n=None)
    assert dict(zip(p["path"], p["customers"])) == expected.to_dict()
    assert p["share"].sum() == pytest.approx(1.0)

    nxt = head.groupby("customer_id")["touchpoint"].shift(-1)
    links = head.loc[nxt.notna()]
    src = (links["step"] + 1).astype(str) + ":" + links["touchpoint"]
    tgt = (links["step"] + 2).astype(str) + ":" + nxt[nxt.notna()]
    expected = pd.DataFrame({"s": src, "t": tgt}).value_counts().to_dict()
    s = sankey_links(random_events, level="touchpoint", max_steps=4)
    assert dict(zip(zip(s["source"], s["target"]), s["value"])) == expected


def test_stage_funnel_matches_naive_pandas(random_events):
    f = stage_funnel(random_events)
    expected = random_events.groupby("stage")["customer_id"].nunique()
    assert f["reached"].tolist() == expected.reindex(f["stage"]).tolist()
    assert f["stage"].tolist() == [s for s in STAGE_ORDER
                                   if s not in ("support", "feedback")] + ["loyalty"]
    # a step never holds more customers than the one before, fallout is the difference
    sets = random_events.groupby("stage")["customer_id"].apply(set)
    passed = set(sets[f["stage"].iloc[0]])
    for stage, n in zip(f["stage"], f["customers"]):
        passed &= sets[stage]
        assert n == len(passed)
    assert (np.diff(f["customers"]) <= 0).all()
    assert f["fallout"].tolist()[1:] == (-np.diff(f["customers"])).tolist()


@pytest.mark.slow
def test_a_million_events_in_seconds():
    import time

    rng = np.random.default_rng(0)
    n = 1_000_000
    stages = np.array(STAGE_ORDER, dtype=object)
    ev = pd.DataFrame({
        "event_id": np.arange(n),
        "customer_id": rng.integers(0, 100_000, n),
        "source": "web",
        "source_row": np.arange(n),
        "event_ts": pd.Timestamp("2024-01-01", tz="UTC")
        + pd.to_timedelta(rng.integers(0, 365 * 86_400, n), unit="s"),
        "stage": stages[rng.integers(0, len(stages), n)],
    })
    ev["touchpoint"] = ev["stage"]
    t0 = time.perf_counter()
    t = transition_matrix(ev, collapse_repeats=False)
    p = top_paths(ev, max_len=3, n=None)
    f = stage_funnel(ev)
    elapsed = time.perf_counter() - t0
    assert t["count"].sum() == n + ev["customer_id"].nunique()
    assert p["customers"].sum() == ev["customer_id"].nunique()
    assert f["customers"].iloc[0] == ev.loc[ev["stage"] == "awareness", "customer_id"].nunique()
    # about 5 s on 2 shared cores; a per-customer Python loop would take minutes
    assert elapsed < 60, f"journey analytics on 1M events took {elapsed:.1f} s"
