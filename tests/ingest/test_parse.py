"""Text parsing helpers, evaluated on DuckDB."""

import ibis

from cxkit.ingest.engine import DuckDBEngine
from cxkit.ingest.parse import blank_to_null


def test_blank_to_null_trims_spaces_and_nulls_blanks():
    eng = DuckDBEngine()
    try:
        raw = [" C1 ", "C1", "   ", "", None, "a b", " x", "y  ", "\tz"]
        t = ibis.memtable({"v": raw, "i": list(range(len(raw)))})
        out = eng.to_pandas(t.select("i", w=blank_to_null(t.v)).order_by("i"))["w"]
        got = [None if not isinstance(x, str) else x for x in out]
        # Spaces only are trimmed (a tab is data, as SQL trim() treats it).
        assert got == ["C1", "C1", None, None, None, "a b", "x", "y", "\tz"]
    finally:
        eng.close()
