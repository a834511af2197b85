"""The thin engine layer: the few things DuckDB and PySpark spell differently.

Everything else in the pipeline is one set of Ibis expressions.  What lives here: starting a
connection, registering a raw table, materialising an intermediate result, writing
Parquet, and three timestamp functions Ibis does not abstract (naive local time -> UTC,
epoch milliseconds, ordered list aggregation).
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

__all__ = ["Engine", "DuckDBEngine", "SparkEngine", "make_engine", "UTC_TS"]

UTC_TS = dt.Timestamp(timezone="UTC")
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

    def ordered_collect(self, value: ibis.Value, order_by: list[ibis.Value]) -> ibis.Value:
        """Aggregate ``value`` into an array ordered by ``order_by`` (all ascending).
        Default: collect structs led by the sort keys, sort the array, keep the value
        (Spark has no ordered collect)."""
        keys = {f"k{i}": k for i, k in enumerate(order_by)}
        arr = ibis.struct({**keys, "v": value}).collect().sort()
        return arr.map(lambda x: x.v)

    def to_pandas(self, expr: ibis.Expr) -> pd.DataFrame:
        return self.con.to_pandas(expr)

    def to_parquet(self, expr: ibis.Table, path: Path) -> None:
        self.to_pandas(expr).to_parquet(path, index=False)

    def close(self) -> None:
        pass


class DuckDBEngine(Engine):
    """Embedded DuckDB (the default): intermediate tables are in-memory temp tables."""

    name = "duckdb"

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

    def local_to_utc(self, ts, zone):
        return _duck_local_to_utc(zone, ts)

    def epoch_ms(self, x):
        return _duck_epoch_ms(x).cast(UTC_TS)

    def ordered_collect(self, value, order_by):
        # One ordered aggregate, no sort of collected arrays.
        return value.collect(order_by=order_by)

    def to_parquet(self, expr, path):
        sql = self.con.compile(expr)
        self.raw.execute(f"COPY ({sql}) TO '{path}' (FORMAT PARQUET)")

    def arrow(self, expr: ibis.Table) -> pa.Table:
        return self.raw.sql(self.con.compile(expr)).to_arrow_table()

    def journeys_arrow(self, head: ibis.Table, seq: ibis.Table, seg: ibis.Table,
                       stage: dict[str, str]) -> pa.Table:
        """Journeys with their sequences built in Arrow from one sorted scan.

        ``seq``: every event's ``customer_id, touchpoint, event_ts, source, source_row``
        (sorted here by customer, then journey order); ``seg``: the customers' segments (``_c`` + segment columns);
        ``head``: per-customer counts and times, needed only where ``seq`` has null times
        or touchpoints.  DuckDB's list aggregates (ordered or not) cost 8-12 s on 10M
        events and its per-element lambdas more; a sort plus offsets computed here cost a
        fraction.  Same values as :func:`~cxkit.ingest.tables.journeys_table` (which Spark
        runs; a test compares them).
        """
        # Sort keys that are not fetched stay in DuckDB (less Arrow memory).
        s = self.raw.sql(f"SELECT customer_id, touchpoint, event_ts FROM ({self.con.compile(seq)}) "
                         "ORDER BY customer_id, event_ts, source, source_row").to_arrow_table()
        cust = s["customer_id"].combine_chunks()
        tp = s["touchpoint"].combine_chunks()
        ts = s["event_ts"].combine_chunks()
        simple = tp.null_count == 0 and ts.null_count == 0
        if not simple:  # rare: sources without times or touchpoints; nulls are not in lists
            keep = pc.is_valid(tp)
            cust, tp = cust.filter(keep), tp.filter(keep)
        n = len(cust)
        if n:
            runs = pc.run_end_encode(cust)
            ends = np.asarray(runs.run_ends, dtype=np.int64)
            run_ids = runs.values
        else:
            ends, run_ids = np.zeros(0, np.int64), pa.array([], pa.string())
        offsets = np.concatenate([[0], ends])
        tpd = tp.dictionary_encode()
        tp_idx = np.asarray(tpd.indices, dtype=np.int64)
        names = tpd.dictionary.to_pylist()
        stages = sorted({stage.get(x, x) for x in names})
        code = np.array([stages.index(stage.get(x, x)) for x in names], dtype=np.int64)
        st = code[tp_idx] if n else np.zeros(0, np.int64)
        new = np.ones(n, dtype=bool)
        if n:
            new[1:] = st[1:] != st[:-1]
            new[offsets[:-1]] = True  # each customer's first event opens a stage
        st_offsets = np.concatenate([[0], np.cumsum(new)])[offsets]
        tp_list = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()),
                                           tpd.dictionary.take(pa.array(tp_idx)))
        st_list = pa.ListArray.from_arrays(pa.array(st_offsets, pa.int32()),
                                           pa.array(stages, pa.string()).take(pa.array(st[new])))
        if simple:
            # Sorted by time within each customer: first and last rows are min and max.
            starts = pa.array(offsets[:-1])
            h = pa.table({"customer_id": run_ids,
                          "n_events": pa.array(np.diff(offsets), pa.int64()),
                          "first_ts": ts.take(starts),
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
            tp_list, st_list = tp_list.take(idx), st_list.take(idx)
        out = {c: h[c] for c in ("customer_id", "n_events", "first_ts", "last_ts")}
        out["stage_sequence"] = st_list
        out["touchpoint_sequence"] = tp_list
        out.update({c: h[c] for c in h.column_names if c not in out})
        return pa.table(out)

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
