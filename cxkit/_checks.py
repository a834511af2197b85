"""Input checks shared by the steps that read tables made upstream (ingest outputs, driver
summaries): one message format naming the table, the missing columns and what to pass."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def require_columns(data: pd.DataFrame, columns: Iterable[str], *, table: str, hint: str,
                    error: type[Exception] = ValueError) -> None:
    """Raise ``error`` naming every column of ``columns`` that ``data`` lacks.

    The message reads "<table> table is missing column(s) [...]; it has [...]. <hint>", so
    the user sees what was expected, what was found and what to pass instead.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a"], table="events", hint="")
    """
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise error(f"{table} table is missing column(s) {missing}; it has "
                    f"{list(data.columns)}. {hint}")


#: The segment label of rows whose segment value is missing (or whose customer is not in
#: the customers table), in every table that groups by segment.
MISSING_SEGMENT = "(missing)"
