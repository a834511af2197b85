"""Provenance of a run: file hashes, the files a run read, the git state."""

from __future__ import annotations

import hashlib

import yaml

from cxkit import provenance
from cxkit.config import load_config


def test_sha256_reads_large_files_in_chunks(tmp_path):
    data = b"x" * (3 << 20) + b"tail"  # more than one 1 MiB chunk
    (tmp_path / "f.bin").write_bytes(data)
    assert provenance.sha256(tmp_path / "f.bin") == hashlib.sha256(data).hexdigest()


def test_input_files_expand_globs_of_a_sources_yaml_once_each(tmp_path):
    for name in ("part-1.csv", "part-2.csv", "other.txt"):
        (tmp_path / name).write_text("customer_id\nc1\n")
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump(
        {"sources": {"a": {"path": "part-*.csv"}, "b": {"path": "part-1.csv"}}}))
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(
        {"ingest": {"sources": "sources.yaml"}, "drivers": {"outcome": "y", "drivers": ["x"]}}))
    files = provenance.input_files(load_config(tmp_path / "run.yaml"), [])
    assert [f.name for f in files] == ["run.yaml", "sources.yaml", "part-1.csv", "part-2.csv"]


def test_git_state_names_the_commit():
    state = provenance.git_state()
    assert set(state) == {"commit", "dirty"}
    assert state["commit"] is None or len(state["commit"]) == 40
