"""Topic flags as drivers: which columns go into the driver model, and why some stay out.

A "mentions topic T" flag can duplicate a driver already in the model (in the sample,
mentioning slow support *is* having a ticket that broke its SLA). Two near-identical
columns cannot be told apart by any model: their effects trade off against each other and
the intervals blow up. :func:`topic_driver_columns` keeps the topic and leaves the driver
out, and says so in words for the report.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxkit._checks import require_columns

MAX_CORR = 0.9


def topic_driver_columns(data: pd.DataFrame, drivers: Sequence[str], *,
                         topics: pd.DataFrame | None = None, min_mentions: int = 10,
                         max_corr: float = MAX_CORR) -> tuple[list[str], list[str]]:
    """Drivers for a model with topic flags: ``drivers`` + ``topic_<k>``, minus duplicates.

    Parameters
    ----------
    data : DataFrame
        Responses joined with their topics (:func:`cxkit.voice.join_topics`).
    drivers : sequence of str
        The run's drivers (ratings, gaps, ...).
    topics : DataFrame, optional
        The ``topics`` table, to name topics by label in the notes.
    min_mentions : int
        A topic mentioned fewer times (or by everyone but fewer) is left out: its effect
        cannot be estimated.
    max_corr : float
        A driver whose absolute correlation with a topic flag reaches this is left out.

    Returns
    -------
    (list of str, list of str)
        The driver columns to fit, and one plain sentence per column left out.

    Examples
    --------
    >>> d = pd.DataFrame({"gap": [0, 1, 0, 1] * 5, "topic_1": [0, 1, 0, 1] * 5,
    ...                   "topic_2": [1, 1, 0, 0] * 5})
    >>> cols, notes = topic_driver_columns(d, ["gap"], min_mentions=2)
    >>> cols
    ['topic_1', 'topic_2']
    """
    flags = sorted((c for c in data.columns if c.startswith("topic_") and c[6:].isdigit()),
                   key=lambda c: int(c[6:]))
    require_columns(data, list(drivers), table="responses with topics",
                    hint="Pass drivers that are columns of the responses table.")
    if not flags:
        raise ValueError("no topic_<k> columns: join the topics first (cxkit.voice.join_topics).")
    label = {} if topics is None else {f"topic_{k}": f"topic {k} ({lab})"
                                       for k, lab in zip(topics["topic"], topics["label"])}
    notes: list[str] = []
    keep_flags = []
    for f in flags:
        m = int(data[f].sum())
        if min(m, len(data) - m) < min_mentions:
            notes.append(f"{label.get(f, f)} is left out: {m} of {len(data)} responses "
                         f"mention it, too few to estimate its effect.")
        else:
            keep_flags.append(f)
    keep_drivers = []
    for d in drivers:
        x = pd.to_numeric(data[d], errors="coerce")
        worst, corr = None, 0.0
        for f in keep_flags:
            ok = x.notna()
            if x[ok].std() > 0 and data.loc[ok, f].std() > 0:
                c = float(np.corrcoef(x[ok], data.loc[ok, f])[0, 1])
                if abs(c) > abs(corr):
                    worst, corr = f, c
        if worst is not None and abs(corr) >= max_corr:
            notes.append(f"{d} is left out: it moves with {label.get(worst, worst)} "
                         f"(correlation {corr:.2f}), so the data cannot separate their effects.")
        else:
            keep_drivers.append(d)
    return keep_drivers + keep_flags, notes
