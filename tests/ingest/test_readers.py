import pandas as pd
import pytest

from cxkit.ingest import SchemaMismatchError, SourceReadError, ingest



def test_malformed_row_quarantined_with_its_row_and_line(world_result):
    q = world_result.quarantine
    mal = q[q.reason == "malformed_row"]
    assert mal[["source", "source_row"]].values.tolist() == [["orders", 8]]
    assert '"line": "O8,C1,2024-03-03T00:00:00Z,7,extra"' in mal.raw.iloc[0]
    assert mal.file.iloc[0].endswith("orders.csv")


def test_rows_after_a_malformed_row_keep_their_file_row_number(world_result):
    ev = world_result.events.set_index("event_id")
    assert ev.loc["orders:O9", "source_row"] == 9
    assert ev.loc["orders:O2", "source_row"] == 2


def test_missing_column_names_file_and_column(tmp_path, make_world):
    path = make_world(tmp_path, files={"orders.csv": "order_id,customer_id,ordered_at\nO1,C1,2024-01-01\n"})
    with pytest.raises(SchemaMismatchError) as exc:
        ingest(path)
    assert "orders.csv" in str(exc.value) and "missing column 'revenue'" in str(exc.value)


def test_no_file_matching_glob(tmp_path, make_world, sources_yaml):
    path = make_world(tmp_path, sources=sources_yaml.replace("path: web.csv", "path: web_*.csv"))
    with pytest.raises(SourceReadError, match=r"sources.web.path: no file matches .*web_\*.csv"):
        ingest(path)


def test_parquet_source_gives_the_same_events_as_csv(tmp_path, world_result, make_world, sources_yaml):
    path = make_world(tmp_path)
    web = pd.read_csv(tmp_path / "web.csv", dtype=str, keep_default_na=False)
    web.to_parquet(tmp_path / "web.parquet", index=False)
    path.write_text(sources_yaml.replace("path: web.csv", "path: web.parquet"))
    res = ingest(path)
    a = res.events[res.events.source == "web"].sort_values("event_id").reset_index(drop=True)
    b = world_result.events[world_result.events.source == "web"].sort_values("event_id")
    pd.testing.assert_frame_equal(a, b.reset_index(drop=True))
    assert res.report.sources["web"].by_reason == {"identity_conflict": 1, "unknown_touchpoint": 1}


def test_glob_over_several_files_numbers_rows_per_file(tmp_path, make_world, sources_yaml):
    path = make_world(tmp_path)
    lines = (tmp_path / "web.csv").read_text().splitlines()
    (tmp_path / "web.csv").unlink()
    (tmp_path / "web_1.csv").write_text("\n".join(lines[:3]) + "\n")
    (tmp_path / "web_2.csv").write_text("\n".join([lines[0]] + lines[3:]) + "\n")
    path.write_text(sources_yaml.replace("path: web.csv", "path: web_*.csv"))
    res = ingest(path)
    rep = res.report.sources["web"]
    assert (rep.rows_in, rep.kept, rep.quarantined) == (5, 3, 2)
    assert len(rep.files) == 2
    q = res.quarantine[res.quarantine.source == "web"].sort_values("reason")
    # Original rows 3 and 5 are rows 1 and 3 of the second file.
    assert q[["reason", "source_row"]].values.tolist() == [["identity_conflict", 1], ["unknown_touchpoint", 3]]
    assert q.file.str.endswith("web_2.csv").all()


def test_quarantined_raw_values_are_the_file_rows(world_result):
    """Raw values are read back by position: each quarantined row's JSON is exactly the
    file's row at source_row, also for rows after a line the CSV parser rejected."""
    import csv
    import json

    q = world_result.quarantine
    q = q[q.reason != "malformed_row"]
    assert len(q) >= 8
    for row in q.itertuples():
        with open(row.file, newline="", encoding="utf-8") as fh:
            lines = list(csv.reader(fh))
        header, data = lines[0], lines[1:]
        expect = dict(zip(header, data[row.source_row - 1]))
        got = {k: ("" if v is None else str(v)) for k, v in json.loads(row.raw).items()}
        assert got == expect, (row.source, row.source_row)
