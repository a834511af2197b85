"""Bad inputs a scheduled run meets (issue 12): wrong text encoding, an empty source, a
truncated Parquet file. Each fails with file, line and the fix, or warns in the report."""

from __future__ import annotations

import pandas as pd
import pytest

from cxkit.ingest import SourceReadError, ingest
from cxkit.ingest import readers
from cxkit.ingest.config import load_sources
from cxkit.ingest.errors import ConfigError, EncodingError

SURVEY_HEADER = "response_id,customer_id,responded_at,nps,verbatim\n"


def _surveys(n: int, accent_row: int, text: str = "São Paulo, entrega rápida") -> str:
    rows = [f"R{i},C{1 + i % 3},2024-03-{1 + i % 28:02d}T00:00:00Z,{i % 11},"
            + (f'"{text}"' if i == accent_row else "ok") for i in range(1, n + 1)]
    return SURVEY_HEADER + "\n".join(rows) + "\n"


def _write_latin1(tmp_path, make_world, sources_yaml, *, n: int, accent_row: int,
                  encoding_key: str | None = None):
    sources = sources_yaml
    if encoding_key:
        sources = sources.replace("    path: surveys.csv\n",
                                  f"    path: surveys.csv\n    encoding: {encoding_key}\n")
    path = make_world(tmp_path, sources=sources)
    (tmp_path / "surveys.csv").write_bytes(_surveys(n, accent_row).encode("latin-1"))
    return path


def test_latin1_accent_near_the_top_names_file_line_and_fix(tmp_path, make_world, sources_yaml):
    path = _write_latin1(tmp_path, make_world, sources_yaml, n=5, accent_row=1)
    with pytest.raises(EncodingError) as exc:
        ingest(path)
    msg = str(exc.value)
    assert str(tmp_path / "surveys.csv") in msg
    assert "line 2: byte 0xe3 is not valid utf-8" in msg  # header is line 1; 'ã' = e3
    assert "encoding: <its encoding>" in msg and "latin-1" in msg and "sources.surveys" in msg


def test_latin1_accent_deep_in_a_large_file_is_found_not_quarantined(
        tmp_path, make_world, sources_yaml, monkeypatch):
    # small chunks: the bad byte lies many chunks in, past what a reader would sniff
    monkeypatch.setattr(readers, "CHUNK", 4096)
    path = _write_latin1(tmp_path, make_world, sources_yaml, n=20_000, accent_row=19_000)
    with pytest.raises(EncodingError, match=r"surveys.csv: line 19001: byte 0xe3 is not valid"):
        ingest(path)


def test_declared_encoding_reads_accents_exactly(tmp_path, make_world, sources_yaml):
    path = _write_latin1(tmp_path, make_world, sources_yaml, n=3, accent_row=1,
                         encoding_key="latin-1")
    res = ingest(path)
    verb = res.responses.set_index("response_id")["verbatim"]
    assert verb["R1"] == "São Paulo, entrega rápida"
    assert "malformed_row" not in res.report.sources["surveys"].by_reason
    assert res.report.sources["surveys"].rows_in == 3


def test_cp1252_file_declared_as_cp1252_and_utf8_chunk_boundary(tmp_path, make_world,
                                                                sources_yaml, monkeypatch):
    # a multi-byte UTF-8 character split across two chunks is still valid
    monkeypatch.setattr(readers, "CHUNK", 7)
    path = make_world(tmp_path, sources=sources_yaml)
    (tmp_path / "surveys.csv").write_bytes(_surveys(4, 2, "ação “ótima”").encode("utf-8"))
    assert ingest(path).responses.set_index("response_id").loc["R2", "verbatim"] == "ação “ótima”"
    cp = sources_yaml.replace("    path: surveys.csv\n", "    path: surveys.csv\n    encoding: cp1252\n")
    path = make_world(tmp_path, sources=cp)
    (tmp_path / "surveys.csv").write_bytes(_surveys(4, 2, "ação “ótima”").encode("cp1252"))
    assert ingest(path).responses.set_index("response_id").loc["R2", "verbatim"] == "ação “ótima”"


def test_unknown_encoding_is_a_config_error(tmp_path, make_world, sources_yaml):
    bad = sources_yaml.replace("    path: surveys.csv\n", "    path: surveys.csv\n    encoding: latin-9x\n")
    path = make_world(tmp_path, sources=bad)
    with pytest.raises(ConfigError, match="unknown encoding 'latin-9x'"):
        load_sources(path)


def test_header_only_source_warns_in_the_report(tmp_path, make_world):
    path = make_world(tmp_path, files={"tickets.csv": "ticket_id,email,opened_at,"
                                                      "first_response_at,sla_hours\n"})
    res = ingest(path)
    assert res.report.sources["tickets"].rows_in == 0
    (warning,) = res.report.warnings
    assert warning.startswith("source 'tickets' has no data rows (") and "tickets.csv" in warning
    assert f"WARNING: {warning}" in res.report.summary()


def test_truncated_parquet_raises_the_read_error_naming_the_file(tmp_path, make_world,
                                                                 sources_yaml):
    path = make_world(tmp_path)
    web = pd.read_csv(tmp_path / "web.csv", dtype=str, keep_default_na=False)
    web.to_parquet(tmp_path / "web.parquet", index=False)
    data = (tmp_path / "web.parquet").read_bytes()
    (tmp_path / "web.parquet").write_bytes(data[: len(data) // 2])
    path.write_text(sources_yaml.replace("path: web.csv", "path: web.parquet"))
    with pytest.raises(SourceReadError) as exc:
        ingest(path)
    msg = str(exc.value)
    assert msg.startswith(f"{tmp_path / 'web.parquet'}: not a readable Parquet file (")
    assert "Re-export it (sources.web in" in msg


def test_byte_undefined_in_the_declared_encoding_deep_in_the_file(tmp_path, make_world,
                                                                  sources_yaml, monkeypatch):
    monkeypatch.setattr(readers, "CHUNK", 1000)  # the bad byte lies many chunks in
    cp = sources_yaml.replace("    path: surveys.csv\n", "    path: surveys.csv\n    encoding: cp1252\n")
    path = make_world(tmp_path, sources=cp)
    data = _surveys(3000, 2999, "caf\x81").encode("latin-1")  # 0x81 has no cp1252 character
    (tmp_path / "surveys.csv").write_bytes(data)
    with pytest.raises(EncodingError) as exc:
        ingest(path)
    msg = str(exc.value)
    assert "surveys.csv: line 3000: byte 0x81 is not valid cp1252" in msg
    assert "latin-1, cp1252, utf-8" in msg  # utf-8 offered when another encoding was declared
