"""Small hand-made tables in the ingestion schemas (docs/ARCHITECTURE.md) for journeys tests.

Expected values in the tests are worked out by hand from these rows; the rows are
shuffled (seeded) so that nothing depends on the table's order.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

# event_id, customer, ts, touchpoint, stage
EVENT_ROWS = [
    ("e01", "C1", "2024-01-01 10:00", "ad_click", "awareness"),
    ("e02", "C1", "2024-01-02 10:00", "product_view", "consideration"),
    ("e03", "C1", "2024-01-03 10:00", "order", "purchase"),
    ("e04", "C1", "2024-01-05 10:00", "delivery", "delivery"),
    ("e05", "C1", "2024-02-10 10:00", "app_login", "usage"),
    ("e06", "C1", "2024-02-11 10:00", "app_login", "usage"),        # repeat, collapses
    ("e07", "C1", "2024-03-01 10:00", "renewal", "renewal"),
    ("e08", "C2", "2024-01-10 10:00", "ad_click", "awareness"),
    ("e09", "C2", "2024-01-15 10:00", "order", "purchase"),          # skips consideration
    ("e10", "C2", "2024-01-20 10:00", "ticket", "support"),
    ("e11", "C3", "2024-02-01 10:00", "ad_click", "awareness"),
    ("e12", "C3", "2024-02-02 12:00", "product_view", "consideration"),
    ("e13", "C3", "2024-02-02 12:00", "review_read", "consideration"),  # same ts as e12
    ("e14", "C4", "2024-01-05 09:00", "ad_click", "awareness"),      # same ts as e15:
    ("e15", "C4", "2024-01-05 09:00", "order", "purchase"),          # event_id breaks the tie
]

CUSTOMER_ROWS = [
    # customer_id, region, channel, plan, cohort, signup_date
    ("C1", "North", "web", "basic", "2024-01", "2024-01-01"),
    ("C2", "South", "web", "pro", "2024-01", "2024-01-09"),
    ("C3", "North", "app", "basic", "2024-02", "2024-02-01"),
    ("C4", "South", "app", "pro", "2024-01", "2024-01-04"),
    ("C5", "North", "web", "basic", "2024-02", "2024-02-20"),  # no events at all
]

GAP_ROWS = [
    # customer_id, touchpoint, rule, gap, unit, met
    ("C1", "delivery", "on_time", 2.0, "days", False),
    ("C2", "delivery", "on_time", -1.0, "days", True),
    ("C3", "delivery", "on_time", -0.5, "days", True),
    ("C4", "delivery", "on_time", 0.0, "days", True),
    ("C9", "delivery", "on_time", 1.0, "days", False),  # not in customers -> "(missing)"
    ("C2", "support", "first_response", 5.0, "hours", False),
    ("C4", "support", "first_response", -2.0, "hours", True),
]


def make_events(rows=EVENT_ROWS, seed=0) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["event_id", "customer_id", "event_ts", "touchpoint",
                                     "stage"])
    df["event_ts"] = pd.to_datetime(df["event_ts"], utc=True)
    df["source"] = "fixture"
    df["channel"] = "web"
    df["value"] = np.where(df["stage"] == "purchase", 100.0, np.nan)
    df["attributes"] = "{}"
    df["source_row"] = np.arange(len(df))
    df = df[["event_id", "customer_id", "event_ts", "source", "touchpoint", "stage",
             "channel", "value", "attributes", "source_row"]]
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.fixture
def events() -> pd.DataFrame:
    return make_events()


@pytest.fixture
def add_events():
    """``add(events, rows)``: ``events`` with more ``EVENT_ROWS``-shaped rows appended (source
    ``fixture``, rows numbered on after the table's own)."""
    def add(events: pd.DataFrame, rows) -> pd.DataFrame:
        extra = pd.DataFrame(rows, columns=["event_id", "customer_id", "event_ts", "touchpoint",
                                            "stage"])
        extra["event_ts"] = pd.to_datetime(extra["event_ts"], utc=True)
        extra["source"] = "fixture"
        extra["source_row"] = events["source_row"].max() + 1 + np.arange(len(extra))
        return pd.concat([events, extra], ignore_index=True)

    return add


@pytest.fixture
def journeys(events) -> pd.DataFrame:
    """The ``journeys`` lists of ``events`` as ingestion writes them (as pandas reads them)."""
    from cxkit.ingest.journeys import journeys_from_events

    return journeys_from_events(events).to_pandas()


@pytest.fixture
def customers() -> pd.DataFrame:
    df = pd.DataFrame(CUSTOMER_ROWS, columns=["customer_id", "region", "channel", "plan",
                                              "cohort", "signup_date"])
    df["signup_date"] = pd.to_datetime(df["signup_date"], utc=True)
    return df


@pytest.fixture
def gaps() -> pd.DataFrame:
    df = pd.DataFrame(GAP_ROWS, columns=["customer_id", "touchpoint", "rule", "gap", "unit",
                                         "met"])
    df.insert(0, "event_id", [f"g{i}" for i in range(len(df))])
    df.insert(2, "event_ts", pd.Timestamp("2024-01-05", tz="UTC"))
    df["expected"] = pd.Timestamp("2024-01-05", tz="UTC")
    df["actual"] = df["expected"] + pd.to_timedelta(df["gap"], unit="D")
    return df[["event_id", "customer_id", "event_ts", "touchpoint", "rule", "expected",
               "actual", "gap", "unit", "met"]]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
