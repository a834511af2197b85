"""Reading raw sources: the only engine-specific I/O, done with DuckDB.

Every source becomes one table with the file's own columns plus ``_fidx`` (index of the
file in the glob) and ``_row`` (1-based data row in that file, header excluded).  CSV is read
with every column as text so that a bad value becomes a quarantine row later instead of a
reader error; rows the CSV parser itself rejects (wrong number of fields, broken quoting)
are collected with their line as ``malformed`` rows.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import glob as globmod
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pandas as pd

from cxkit.ingest.config import SourceSpec, SourcesSpec
from cxkit.ingest.engine import sql_str
from cxkit.ingest.errors import EncodingError, SchemaMismatchError, SourceReadError

__all__ = ["RawSource", "read_source", "required_columns", "as_utf8", "empty_sources"]


@dataclass
class RawSource:
    """A source read into DuckDB: ``table`` is the name of its temp table/view."""

    name: str
    table: str
    files: list[str]
    columns: list[str]
    malformed: pd.DataFrame = field(default_factory=pd.DataFrame)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def required_columns(spec: SourceSpec, enriched: set[str] | None = None) -> list[str]:
    """Raw columns a source's mapping refers to (enrich outputs excluded)."""
    cols: list[str] = list(spec.ids.values())
    cols += spec.event_id or []
    cols += spec.dedupe_on or []
    if spec.touchpoint and spec.touchpoint.column:
        cols.append(spec.touchpoint.column)
    if spec.timestamp:
        cols.append(spec.timestamp.column)
        if spec.timestamp.fallback:
            cols.append(spec.timestamp.fallback)
    for f in spec.fields.values():
        cols.append(f if isinstance(f, str) else f.column)
    if spec.value:
        cols.append(spec.value)
    cols += list(spec.segments.values())
    if spec.cohort and spec.cohort.quarter_of:
        cols.append(spec.cohort.quarter_of.column)
    cols += [s.column for s in spec.scores.values()]
    if spec.verbatim:
        cols.append(spec.verbatim)
    cols += [e.column for e in spec.enrich.values()]
    if spec.link:
        cols.append(spec.link)
    skip = set(spec.enrich) | (enriched or set())
    out = []
    for c in cols:
        if c not in skip and c not in out:
            out.append(c)
    return out


def _files(spec: SourcesSpec, name: str, src: SourceSpec) -> list[Path]:
    pattern = spec.resolve(src.path)
    files = sorted(Path(p) for p in globmod.glob(str(pattern)))
    if not files:
        raise SourceReadError(f"{spec.file}: sources.{name}.path: no file matches {pattern} "
                              "(check the path, relative to the YAML file, or its ${VAR} override)")
    return files


def _check_columns(file: Path | str, have: list[str], need: list[str], spec: SourcesSpec,
                   name: str) -> None:
    missing = [c for c in need if c not in have]
    if missing:
        raise SchemaMismatchError(
            f"{file}: missing column {missing[0]!r}" + (f" (and {missing[1:]})" if missing[1:] else "")
            + f" mapped in {spec.file} sources.{name}; the file has columns {have}. "
            "Fix the mapping or the file.")


def check_header(path: Path | str, cols: list[str]) -> None:
    """Refuse a header with blank or repeated cells, naming the file and the 1-based
    column positions (DuckDB would otherwise fail with a binder error or rename silently).

    Examples
    --------
    >>> check_header("x.csv", ["id", "", "id"])
    Traceback (most recent call last):
    ...
    cxkit.ingest.errors.SchemaMismatchError: x.csv: header cell at column 2 is blank; column 3 'id' repeats column 1. Give every column a unique name in the file's first row (or export it again with headers), then run again.
    """
    problems = [f"header cell at column {i} is blank" for i, c in enumerate(cols, 1)
                if not c.strip()]
    seen: dict[str, int] = {}
    for i, c in enumerate(cols, 1):
        if not c.strip():
            continue
        if c in seen:
            problems.append(f"column {i} {c!r} repeats column {seen[c]}")
        else:
            seen[c] = i
    if problems:
        raise SchemaMismatchError(f"{path}: {'; '.join(problems)}. Give every column a unique "
                                  "name in the file's first row (or export it again with "
                                  "headers), then run again.")


def _csv_header(path: Path, delimiter: str, encoding: str = "utf-8") -> list[str]:
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig"  # a BOM is not part of the first column's name
    with open(path, newline="", encoding=encoding) as fh:
        try:
            cols = next(csv.reader(fh, delimiter=delimiter))
        except StopIteration:
            raise SourceReadError(f"{path}: empty file (no header row)") from None
    check_header(path, cols)
    return cols


def read_source(con, spec: SourcesSpec, name: str, need: list[str]) -> RawSource:
    """Read source ``name`` into the DuckDB connection ``con``; check mapped columns exist."""
    src = spec.sources[name]
    if src.table is not None:
        return _read_table(con, spec, name, need)
    files = _files(spec, name, src)
    fmt = src.format or ("parquet" if files[0].suffix.lower() in (".parquet", ".pq") else "csv")
    base = f"_raw_{name}"
    parts, malformed, columns = [], [], None
    for i, path in enumerate(files):
        part = f"{base}_{i}"
        if fmt == "csv":
            with as_utf8(path, src.encoding, spec, name) as readable:
                cols = _csv_header(readable, src.delimiter)
                _check_columns(path, cols, need, spec, name)
                mal = _read_csv(con, readable, cols, src.delimiter, part, i)
            if len(mal):
                malformed.append(mal)
        else:
            cols = _parquet_columns(con, path, spec, name)
            _check_columns(path, cols, need, spec, name)
            con.execute(f"CREATE OR REPLACE TEMP VIEW {_q(part)} AS SELECT {i}::INTEGER AS _fidx, "
                        f"(file_row_number + 1)::BIGINT AS _row, * EXCLUDE (file_row_number) "
                        f"FROM read_parquet({sql_str(str(path))}, file_row_number=true)")
        if columns is None:
            columns = cols
        elif cols != columns:
            raise SchemaMismatchError(f"{path}: columns {cols} differ from {files[0]}'s {columns}; "
                                      f"all files of sources.{name} need the same header")
        parts.append(part)
    union = " UNION ALL ".join(f"SELECT * FROM {_q(p)}" for p in parts)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {_q(base)} AS {union}")
    mal = pd.concat(malformed, ignore_index=True) if malformed else pd.DataFrame(
        columns=["_fidx", "_row", "line"])
    return RawSource(name, base, [str(f) for f in files], columns, mal)


def _read_csv(con, path: Path, cols: list[str], delim: str, part: str, fidx: int) -> pd.DataFrame:
    colspec = "{" + ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in cols) + "}"
    rej = f"{part}_rej"
    # Explicit columns and no sniffing: the header was checked above, and sniffing would
    # guess types (we want text) and could mis-guess the dialect on dirty files.
    scan = (f"read_csv({sql_str(str(path))}, header=true, columns={colspec}, auto_detect=false, "
            f"delim={sql_str(delim)}, quote='\"', escape='\"', store_rejects=true, "
            f"rejects_table={sql_str(rej)}, rejects_scan={sql_str(rej + '_scan')})")
    # The table keeps file order (insertion order is preserved while sources are read), so
    # its rowid is the accepted row's position: no row_number() window, which made DuckDB
    # carry every text column through a serial step (2-3x the cost of the read itself).
    data = f"{part}_data"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_q(data)} AS SELECT * FROM {scan}")
    _stop_on_invalid_encoding(con, rej)
    rejects = con.execute(f"SELECT line, any_value(csv_line) AS csv_line FROM {_q(rej)} "
                          "GROUP BY line ORDER BY line").df()
    if rejects.empty:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {_q(part)} AS SELECT {fidx}::INTEGER AS _fidx, "
                    f"(rowid + 1)::BIGINT AS _row, * FROM {_q(data)}")
        return pd.DataFrame(columns=["_fidx", "_row", "line"])
    # Accepted rows were numbered without the rejected ones: shift each row by the number
    # of rejected data rows before it.  Data row = file line - 1 (the header).
    rejects["data_row"] = rejects["line"].astype("int64") - 1
    rejects["i"] = range(len(rejects))
    shift = pd.DataFrame({"accepted_before": rejects["data_row"] - 1 - rejects["i"],
                          "n": rejects["i"] + 1})
    con.register(f"{part}_shift", shift)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_q(part)} AS SELECT {fidx}::INTEGER AS _fidx, "
                f"(p.rowid + 1 + coalesce(s.n, 0))::BIGINT AS _row, p.* FROM {_q(data)} p "
                f"ASOF LEFT JOIN {_q(part + '_shift')} s ON p.rowid + 1 > s.accepted_before")
    con.execute(f"DROP TABLE {_q(data)}")
    con.unregister(f"{part}_shift")
    return pd.DataFrame({"_fidx": fidx, "_row": rejects["data_row"],
                         "line": rejects["csv_line"].str.rstrip("\r\n")})


def _read_table(con, spec: SourcesSpec, name: str, need: list[str]) -> RawSource:
    src = spec.sources[name]
    base = f"_raw_{name}"
    ref = _q(src.table)
    label = src.table
    if src.database:
        db = spec.resolve(src.database)
        if not db.is_file():
            raise SourceReadError(f"{spec.file}: sources.{name}.database: {db} not found")
        alias = f"_db_{name}"
        con.execute(f"ATTACH IF NOT EXISTS {sql_str(str(db))} AS {_q(alias)} (READ_ONLY)")
        ref = f"{_q(alias)}.{ref}"
        label = f"{db}:{src.table}"
    try:
        cols = list(con.sql(f"SELECT * FROM {ref} LIMIT 0").columns)
    except Exception as exc:  # duckdb raises CatalogException; say which source
        raise SourceReadError(f"{spec.file}: sources.{name}.table: cannot read {label}: {exc}") from exc
    _check_columns(label, cols, need, spec, name)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_q(base)} AS SELECT 0::INTEGER AS _fidx, "
                f"row_number() OVER ()::BIGINT AS _row, * FROM {ref}")
    return RawSource(name, base, [label], cols, pd.DataFrame(columns=["_fidx", "_row", "line"]))


# --------------------------------------------------------------------------- encodings
#: Bytes decoded per step when a file's encoding is checked (memory stays bounded).
CHUNK = 1 << 24


class _InvalidBytes(Exception):
    """DuckDB rejected a line as invalid UTF-8 (``line``: 1-based line of the file)."""

    def __init__(self, line: int):
        self.line = line


@contextlib.contextmanager
def as_utf8(path: Path, encoding: str, spec: SourcesSpec, name: str) -> Iterator[Path]:
    """The file to hand to DuckDB, as UTF-8; a byte invalid in ``encoding`` anywhere in it
    raises :class:`EncodingError` naming the file, line, byte and the fix.

    UTF-8 (the default) is read in place: DuckDB validates every byte while it reads the
    file anyway (its rejects table records ``INVALID ENCODING`` with the line; see
    :func:`_stop_on_invalid_encoding`), so a correct file costs nothing extra, and only a
    failing one is decoded again here to name the byte. Any other encoding is decoded and
    transcoded to a temporary UTF-8 copy in one streamed pass (``CHUNK`` bytes at a time),
    deleted when the block ends (DuckDB has copied the rows by then). Line numbers do not
    change, so malformed rows keep their place in the original file.
    """
    if codecs.lookup(encoding).name == "utf-8":
        try:
            yield path
        except (UnicodeDecodeError, _InvalidBytes) as exc:
            _decode(path, encoding, spec, name, sink=None)  # raises with the exact byte
            line = getattr(exc, "line", 1)
            raise EncodingError(f"{path}: line {line}: not valid {encoding}. "
                                + _fix(encoding, spec, name)) from None
        return
    fd, tmp = tempfile.mkstemp(prefix=f"cxkit-{name}-", suffix=".utf8.csv")
    try:
        with os.fdopen(fd, "wb") as out:
            _decode(path, encoding, spec, name, sink=out)
        yield Path(tmp)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _stop_on_invalid_encoding(con, rejects_table: str) -> None:
    """Raise :class:`_InvalidBytes` if DuckDB rejected a line as invalid UTF-8: such a file
    is in another encoding, and its lines must not be quarantined as malformed."""
    bad = con.execute(f"SELECT min(line) FROM {_q(rejects_table)} "
                      "WHERE error_type = 'INVALID ENCODING'").fetchone()[0]
    if bad is not None:
        raise _InvalidBytes(int(bad))


def _fix(encoding: str, spec: SourcesSpec, name: str) -> str:
    other = ", utf-8" if codecs.lookup(encoding).name != "utf-8" else ""
    return (f"The file is in another encoding: set `encoding: <its encoding>` (e.g. latin-1, "
            f"cp1252{other}) under sources.{name} in {spec.file}, or re-save the file as "
            f"{encoding}.")


def _decode(path: Path, encoding: str, spec: SourcesSpec, name: str, sink) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # exc.object is the decoder's pending bytes + this chunk; the pending bytes
                # are the start of one character, never a newline
                at = line + exc.object[:exc.start].count(b"\n")
                raw = exc.object[exc.start:exc.end]
                bad = (f"byte 0x{raw.hex()} is" if len(raw) == 1
                       else f"bytes {' '.join(f'0x{b:02x}' for b in raw)} are")
                raise EncodingError(f"{path}: line {at}: {bad} not valid {encoding} "
                                    f"({exc.reason}). " + _fix(encoding, spec, name)) from None
            if sink is not None and text:
                sink.write(text.encode("utf-8"))
            if not chunk:
                return
            line += chunk.count(b"\n")


# --------------------------------------------------------------------------- parquet
def _parquet_columns(con, path: Path, spec: SourcesSpec, name: str) -> list[str]:
    """Column names of a Parquet file; a truncated or corrupt file raises
    :class:`SourceReadError` naming it (instead of DuckDB's own message)."""
    import duckdb

    try:
        rel = con.sql(f"SELECT * FROM read_parquet({sql_str(str(path))}) LIMIT 0")
        return list(rel.columns)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceReadError(
            f"{path}: not a readable Parquet file ({first}); it may be truncated or still "
            f"being copied. Re-export it (sources.{name} in {spec.file}) and run again."
        ) from None


# --------------------------------------------------------------------------- empty sources
def empty_sources(sources: dict) -> list[str]:
    """A warning per source that had no data rows at all (a header-only export passes
    every check, so without this it would go unnoticed)."""
    return [f"source {n!r} has no data rows ({', '.join(s.files) or 'no file'}): its "
            f"{s.role} are missing from this run; check the export that writes it."
            for n, s in sources.items() if s.rows_in == 0]
