"""The thin engine layer: the few things DuckDB and PySpark spell differently.

Everything else in the pipeline is one set of Ibis expressions.  What lives here: starting a
connection, registering a raw table, materialising an intermediate result, writing
Parquet, the functions Ibis does not abstract (naive local time -> UTC, epoch
milliseconds, ordered list aggregation, a 64-bit row hash), and where an engine has a
faster way to the same result: repeated values (DuckDB: a sort), journeys (DuckDB: one
sort and Arrow instead of list aggregates).
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import pandas as pd
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxkit.ingest.journeys import assemble

__all__ = ["Engine", "DuckDBEngine", "SparkEngine", "make_engine", "UTC_TS", "sql_str"]

UTC_TS = dt.Timestamp(timezone="UTC")


def sql_str(text: str) -> str:
    """``text`` as a SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"

_counter = itertools.count()


@ibis.udf.scalar.builtin(name="timezone")
def _duck_local_to_utc(zone: str, ts: dt.Timestamp()) -> UTC_TS:  # type: ignore[valid-type]
    ...


@ibis.udf.scalar.builtin(name="epoch_ms")
def _duck_epoch_ms(x: dt.int64) -> dt.Timestamp():  # type: ignore[valid-type]
    ...


@ibis.udf.scalar.builtin(name="to_utc_timestamp")
def _spark_local_to_utc(ts: dt.Timestamp(), zone: str) -> UTC_TS:  # type: ignore[valid-type]
    ...


@ibis.udf.scalar.builtin(name="timestamp_millis")
def _spark_epoch_ms(x: dt.int64) -> UTC_TS:  # type: ignore[valid-type]
    ...


class Engine:
    """Base class; see :class:`DuckDBEngine` and :class:`SparkEngine`."""

    name = "base"
    con: ibis.BaseBackend
    cache_classified = False  # materialise each source's classified rows?

    def tmp_name(self, hint: str) -> str:
        return f"_cx_{hint}_{next(_counter)}"

    def register_arrow(self, name: str, table: pa.Table) -> ibis.Table:
        raise NotImplementedError

    def materialize(self, expr: ibis.Table, hint: str) -> ibis.Table:
        raise NotImplementedError

    def local_to_utc(self, ts: ibis.Expr, zone: str) -> ibis.Expr:
        raise NotImplementedError

    def epoch_ms(self, x: ibis.Expr) -> ibis.Expr:
        raise NotImplementedError

    hash_function = ("xxhash64", "int64")  # Spark's 64-bit hash of any values

    def row_hash(self, values: list[ibis.Value]) -> ibis.Value:
        """A 64-bit hash of several values (equal values, equal hashes); used to find the
        few candidate duplicates before comparing exact keys."""
        s = ibis.struct({f"k{i}": v for i, v in enumerate(values)})
        name, out = self.hash_function

        def fn(x): ...

        return ibis.udf.scalar.builtin(fn, name=name, signature=((s.type(),), out))(s)

    def repeated_values(self, table: ibis.Table, column: str) -> ibis.Table:
        """The values of ``column`` that occur more than once (one row each)."""
        g = table.group_by(column).aggregate(_n=table[column].count())
        return g.filter(g._n > 1).select(column)

    def ordered_collect(self, value: ibis.Value, order_by: list[ibis.Value]) -> ibis.Value:
        """Aggregate ``value`` into an array ordered by ``order_by`` (all ascending).
        Default: collect structs led by the sort keys, sort the array, keep the value
        (Spark has no ordered collect)."""
        keys = {f"k{i}": k for i, k in enumerate(order_by)}
        arr = ibis.struct({**keys, "v": value}).collect().sort()
        return arr.map(lambda x: x.v)

    def to_pandas(self, expr: ibis.Expr) -> pd.DataFrame:
        return self.con.to_pandas(expr)

    def to_parquet(self, expr: ibis.Table, path: Path,
                   categories: dict[str, list[str]] | None = None) -> None:
        """Write ``expr`` to one Parquet file.  ``categories``: columns whose values are
        known to be one of a few strings (an engine may encode them as such)."""
        self.to_pandas(expr).to_parquet(path, index=False)

    def close(self) -> None:
        pass


class DuckDBEngine(Engine):
    """Embedded DuckDB (the default): intermediate tables are in-memory temp tables."""

    name = "duckdb"
    hash_function = ("hash", "uint64")

    def __init__(self, threads: int | None = None, memory_limit: str = "2GB"):
        self.con = ibis.duckdb.connect()
        # Naive strings cast to TIMESTAMPTZ are read in the session zone: make it UTC so the
        # declared source timezone is the only thing deciding what a naive time means.
        self.con.raw_sql("SET TimeZone='UTC'")
        # Ibis 12 compiles array.map() to the `x -> ...` lambda DuckDB 2.0 deprecated.
        self.con.raw_sql("SET lambda_syntax='ENABLE_SINGLE_ARROW'")
        if threads:
            self.con.raw_sql(f"SET threads={int(threads)}")
        # Bounded memory: DuckDB spills big sorts/joins to disk instead of growing (the
        # default is 80% of RAM); spill files go to the system temp folder, never the cwd.
        spill = Path(tempfile.gettempdir()) / "cxkit_duckdb"
        self.con.raw_sql(f"SET temp_directory='{spill}'")
        self.con.raw_sql(f"SET memory_limit='{memory_limit}'")

    @property
    def raw(self):
        """The underlying ``duckdb`` connection (the reader layer uses it directly)."""
        return self.con.con

    def register_arrow(self, name, table):
        self.raw.register(name + "_arrow", table)
        self.raw.execute(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM "{name}_arrow"')
        self.raw.unregister(name + "_arrow")
        return self.con.table(name)

    def materialize(self, expr, hint):
        name = self.tmp_name(hint)
        sql = self.con.compile(expr)
        self.raw.execute(f'CREATE TEMP TABLE "{name}" AS {sql}')
        return self.con.table(name)

    def repeated_values(self, table, column):
        # Nearly every value is unique: a parallel sort and a look at the neighbour beat a
        # hash table holding every value (0.8 s against 1.2-1.9 s at 10M rows).
        x = table.select(_v=table[column])
        x = x.mutate(_p=x._v.lag().over(order_by=x._v))
        return x.filter(x._v == x._p).select(**{column: x._v}).distinct()

    def drop_intermediates(self, keep: list[ibis.Table]) -> None:
        """Drop the raw and parsed copies of the sources once every source is classified
        (memory for the output steps), except those the tables in ``keep`` still read."""
        import ibis.expr.operations as ops

        used = {n.name for t in keep for n in t.op().find(ops.DatabaseTable)}
        rows = self.raw.execute(
            "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary "
            "UNION ALL SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary").fetchall()
        for name, kind in sorted(rows, key=lambda r: r[1] == "TABLE"):  # views first
            if name.startswith(("_raw_", "_cx_parsed_", "_cx_dups_", "_cx_duphash_")) and name not in used:
                self.raw.execute(f'DROP {kind} IF EXISTS "{name}"')

    def local_to_utc(self, ts, zone):
        return _duck_local_to_utc(zone, ts)

    def epoch_ms(self, x):
        return _duck_epoch_ms(x).cast(UTC_TS)

    def ordered_collect(self, value, order_by):
        # One ordered aggregate, no sort of collected arrays.
        return value.collect(order_by=order_by)

    def to_parquet(self, expr, path, categories=None):
        sql = self.con.compile(expr)
        if categories:
            # Columns of a known, small set of values as ENUMs: already dictionary-encoded,
            # so the writer skips hashing every value (they read back as plain strings).
            # A strict CAST: a value outside the set is an error, never a silent null.
            repl = ", ".join(f'CAST("{c}" AS ENUM({", ".join(sql_str(v) for v in sorted(set(vals)))})) AS "{c}"'
                             for c, vals in categories.items())
            sql = f"SELECT * REPLACE ({repl}) FROM ({sql})"
        # A small dictionary limit: columns of few distinct values (touchpoint, stage) are
        # dictionary-encoded, unique-ish ones (event ids) are written plain at once instead
        # of after a dictionary that grows until it is given up (25% faster at 10M events).
        self.raw.execute(f"COPY ({sql}) TO '{path}' (FORMAT PARQUET, DICTIONARY_SIZE_LIMIT 1000)")

    def arrow(self, expr: ibis.Table) -> pa.Table:
        return self.raw.sql(self.con.compile(expr)).to_arrow_table()

    def journeys_arrow(self, seq: ibis.Table, master: ibis.Table, seg: ibis.Table,
                       head: ibis.Table, stage: dict[str, str]) -> pa.Table:
        """Journeys with their sequences built in Arrow from one sorted scan.

        ``seq``: every kept event with a customer as ``_ci`` (the customer's integer
        position in customer_id order), ``touchpoint``, ``event_ts``, ``_src`` (source
        rank by name) and ``_row``; ``master``: ``_ci -> _mc`` (customer id); ``seg``: the
        customers' segments (``_c`` + segment columns); ``head``: per-customer counts and
        times, read only where ``seq`` has null times or touchpoints.  DuckDB's list
        aggregates (ordered or not) cost 8-12 s on 10M events and sorting on text ids
        twice what integers cost; a sort on integers plus offsets computed here cost a
        fraction.  Same values as :func:`~cxkit.ingest.tables.journeys_table` (which Spark
        runs; a test compares them).
        """
        # Touchpoints come back dictionary-encoded (an ENUM of the catalog's names) next to
        # their stage's number, so no string is compared or copied per event here.
        names = sorted(stage)
        stages = sorted(set(stage.values()))
        enum = "ENUM(" + ", ".join(sql_str(n) for n in names) + ")"
        stcase = ("CASE touchpoint " + " ".join(f"WHEN {sql_str(n)} THEN {stages.index(stage[n])}"
                                              for n in names) + " END::SMALLINT")
        s = self.raw.sql(f"SELECT _ci, TRY_CAST(touchpoint AS {enum}) AS touchpoint, "
                         f"{stcase} AS _st, event_ts FROM ({self.con.compile(seq)}) "
                         # JOURNEY_ORDER, on integer codes: source by name rank, row
                         "ORDER BY _ci, event_ts, _src, _row, touchpoint").to_arrow_table()
        ci = s["_ci"].to_numpy()
        tp = s["touchpoint"].combine_chunks()
        st = s["_st"].combine_chunks()
        ts = s["event_ts"]  # only two values per customer are taken: no need to combine
        del s
        simple = tp.null_count == 0 and ts.null_count == 0
        if not simple:  # rare: sources without times or touchpoints; nulls are not in lists
            keep = pc.is_valid(tp)
            ci, tp, st = ci[np.asarray(keep)], tp.filter(keep), st.filter(keep)
        n = len(ci)
        starts, tp_list, ev_list, st_list = assemble(ci, tp, st.to_numpy(), stages)
        ends = np.concatenate([starts[1:], [n]]).astype(np.int64)
        run_ci = ci[starts]
        m = self.raw.sql(f"SELECT _ci, _mc FROM ({self.con.compile(master)}) ORDER BY _ci").to_arrow_table()
        mc = m["_mc"].combine_chunks()
        pos = np.searchsorted(np.asarray(m["_ci"].combine_chunks(), dtype=np.int64), run_ci)
        run_ids = mc.take(pa.array(pos))
        if simple:
            # Sorted by time within each customer: first and last rows are min and max.
            h = pa.table({"customer_id": run_ids,
                          "n_events": pa.array(ends - starts, pa.int64()),
                          "first_ts": ts.take(pa.array(starts)),
                          "last_ts": ts.take(pa.array(ends - 1))})
            sg = self.arrow(seg)
            idx = pc.index_in(run_ids, value_set=sg["_c"].combine_chunks())
            for c in sg.column_names[1:]:
                h = h.append_column(c, sg[c].combine_chunks().take(idx))
        else:
            h = self.arrow(head.order_by("customer_id"))
        hc = h["customer_id"].combine_chunks()
        if not hc.equals(run_ids):
            # Customers whose events all lack a touchpoint have no sequence (null).
            idx = pc.index_in(hc, value_set=run_ids)
            tp_list, ev_list, st_list = tp_list.take(idx), ev_list.take(idx), st_list.take(idx)
        out = {c: h[c] for c in ("customer_id", "n_events", "first_ts", "last_ts")}
        out["stage_sequence"] = st_list
        out["touchpoint_sequence"] = tp_list
        out["event_stages"] = ev_list
        out.update({c: h[c] for c in h.column_names if c not in out})
        return pa.table(out)

    @staticmethod
    def plain_lists(table: pa.Table) -> pa.Table:
        """``journeys_arrow``'s table with list<string> instead of list<dictionary>."""
        fields = [pa.field(f.name, pa.list_(pa.string())) if pa.types.is_list(f.type) else f
                  for f in table.schema]
        return table.cast(pa.schema(fields))

    def close(self):
        self.con.disconnect()


class SparkEngine(Engine):
    """PySpark through Ibis.  Raw files are read by the DuckDB reader layer and handed over
    as Arrow, so both engines see byte-identical raw rows and row numbers; every
    transformation after that runs in Spark."""

    name = "pyspark"
    cache_classified = True

    def __init__(self, session=None):
        if session is None:
            from pyspark.sql import SparkSession

            session = (SparkSession.builder.master("local[2]").appName("cxkit-ingest")
                       .config("spark.ui.enabled", "false")
                       # Read only when this call starts the JVM (an existing session keeps
                       # its own).  The default 1g is tight for the analyser on wide plans.
                       .config("spark.driver.memory", "2g")
                       .config("spark.sql.session.timeZone", "UTC")
                       .config("spark.sql.shuffle.partitions", "4")
                       .getOrCreate())
            session.sparkContext.setLogLevel("ERROR")
        session.conf.set("spark.sql.session.timeZone", "UTC")
        self.session = session
        self.con = ibis.pyspark.connect(session)

    def register_arrow(self, name, table):
        # Straight from Arrow (PySpark >= 4): a pandas detour (ibis.memtable) turns null
        # text into the string "NaN" and lets Spark re-infer "true"/"false" as booleans.
        self.session.createDataFrame(table).createOrReplaceTempView(name)
        return self.con.table(name)

    def materialize(self, expr, hint):
        # Computed now and cut from its lineage: a SQL view (even a cached one) is parsed
        # and analysed again wherever it is referenced, so plans over views over views grow
        # with every step and the analyser ran the driver out of heap.  A checkpointed
        # DataFrame is a leaf to every later plan.
        name = self.tmp_name(hint)
        df = self.session.sql(self.con.compile(expr)).localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        return self.con.table(name)

    def local_to_utc(self, ts, zone):
        return _spark_local_to_utc(ts, zone)

    def epoch_ms(self, x):
        return _spark_epoch_ms(x)


def make_engine(engine: str | Engine) -> Engine:
    """``"duckdb"`` or ``"pyspark"`` (an :class:`Engine` instance passes through)."""
    if isinstance(engine, Engine):
        return engine
    if engine == "duckdb":
        return DuckDBEngine()
    if engine in ("pyspark", "spark"):
        return SparkEngine()
    raise ValueError(f"unknown engine {engine!r}: use 'duckdb' or 'pyspark'")
