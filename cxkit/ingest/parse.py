"""Ibis expressions that turn raw text into typed values, null where a value is unusable.

Parsing never raises: an unparseable value becomes null, and the pipeline turns "raw value
present but parsed value null" into a quarantine reason.  Columns that already have a type
(Parquet, database tables) are used as they are.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from cxkit.ingest.config import TimestampSpec
from cxkit.ingest.engine import UTC_TS, Engine

__all__ = ["blank_to_null", "parse_timestamp", "parse_number", "present", "json_object"]

# An explicit UTC offset or Z at the end of an ISO 8601 string.
_OFFSET = r"(Z|z|[+-][0-9][0-9](:?[0-9][0-9])?)$"


@ibis.udf.scalar.builtin(name="trim")
def _sql_trim(x: str) -> str:
    """SQL ``trim(x)`` (spaces), spelled the same on DuckDB and Spark."""


def blank_to_null(x: ibis.Value) -> ibis.Value:
    """Text with surrounding spaces removed; empty text becomes null."""
    # Not ibis' .strip(): on PySpark it compiles to TRIM('... \f' FROM x), and Spark reads
    # '\f' as the letters \ and f, so "false" would lose its leading "f".
    x = x.cast("string")
    # Trim only where there is something to trim: most values have no surrounding spaces,
    # and the two prefix/suffix tests cost a third of trim() on DuckDB (0.6 s at 10M rows).
    s = ibis.cases((x.startswith(" ") | x.endswith(" "), _sql_trim(x)), else_=x)
    return s.nullif("")


def present(x: ibis.Value) -> ibis.BooleanValue:
    """True where the raw value is non-null and not blank."""
    if x.type().is_string():
        return blank_to_null(x).notnull()
    return x.notnull()


def parse_timestamp(x: ibis.Value, spec: TimestampSpec, engine: Engine) -> ibis.Value:
    """UTC timestamp from a raw column (``spec`` already has format and timezone filled).

    - ISO 8601 with an offset (``Z``, ``+02:00``) is honoured whatever the declared zone;
    - ISO 8601 without offset is wall-clock time in ``spec.timezone``;
    - ``epoch_ms`` / ``epoch_s`` are integers since 1970-01-01 UTC.
    """
    t = x.type()
    zone = spec.timezone or "UTC"
    if t.is_timestamp():
        if t.timezone is not None or zone == "UTC":
            return x.cast(UTC_TS)
        return engine.local_to_utc(x, zone)
    fmt = spec.format or "iso8601"
    if fmt in ("epoch_ms", "epoch_s"):
        n = x if t.is_integer() else blank_to_null(x).try_cast("int64")
        ms = n if fmt == "epoch_ms" else n * 1000
        return engine.epoch_ms(ms)
    if fmt != "iso8601":
        raise ValueError(f"timestamp format {fmt!r} is not supported: use iso8601, epoch_ms or "
                         "epoch_s (write the zone in 'timezone', not in the format)")
    s = blank_to_null(x)
    aware = s.try_cast(UTC_TS)
    if zone == "UTC":
        # The session zone is UTC on both engines, so naive text is read as UTC here.
        return aware
    naive = engine.local_to_utc(s.try_cast(dt.Timestamp()), zone)
    return s.re_search(_OFFSET).ifelse(aware, naive)


def parse_number(x: ibis.Value) -> ibis.Value:
    """float64 from a raw column; unparseable or blank text becomes null."""
    if x.type().is_numeric():
        return x.cast("float64")
    return blank_to_null(x).try_cast("float64")


def _esc(s: ibis.StringValue) -> ibis.StringValue:
    return (s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))


def json_object(t: ibis.Table, columns: list[str]) -> ibis.StringValue:
    """A JSON object string ``{"col": "value", ...}`` of ``columns`` (values as text, null
    as JSON null), built from string functions both engines share."""
    if not columns:
        return ibis.literal("{}")
    parts = []
    for i, c in enumerate(columns):
        key = ("," if i else "{") + '"' + c.replace("\\", "\\\\").replace('"', '\\"') + '":'
        val = ('"' + _esc(t[c].cast("string")) + '"').fill_null("null")
        parts.append(ibis.literal(key) + val)
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out + "}"
