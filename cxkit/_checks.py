"""Input checks shared by the steps that read tables made upstream (ingest outputs, driver
summaries): one message format naming the table, the missing columns and what to pass; and
the one reader of the YAML files a user writes (run, sources, initiatives)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

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


def read_yaml_mapping(path: Path, *, error: type[Exception], missing: str,
                      expected: str) -> dict:
    """A user's YAML file whose top level is a mapping; every failure is one line
    ``<path>: <what>`` raised as ``error``.

    ``missing`` says what to do when the file does not exist; ``expected`` describes the
    mapping and may hold ``{got}`` (the type found instead).

    Examples
    --------
    >>> read_yaml_mapping(Path("nope.yaml"), error=ValueError, missing="file not found",
    ...                   expected="a mapping")
    Traceback (most recent call last):
    ValueError: nope.yaml: file not found
    """
    import yaml

    if not path.is_file():
        raise error(f"{path}: {missing}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise error(f"{path}: expected {expected.format(got=type(raw).__name__)}")
    return raw
