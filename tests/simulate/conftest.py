"""Shared fixtures for the simulate tests: one small and one default-size sample, written once."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cxkit.simulate import simulate, write_sample


def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Read every CSV as plain strings, the way an honest ingester first sees them."""
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False)
            for p in sorted(folder.glob("*.csv"))}


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    out = write_sample(tmp_path_factory.mktemp("small"), seed=7, n_customers=300)
    return {"dir": out, "tables": read_tables(out),
            "truth": json.loads((out / "truth.json").read_text()),
            "sim": simulate(seed=7, n_customers=300)}


@pytest.fixture(scope="session")
def default_sample(tmp_path_factory):
    out = write_sample(tmp_path_factory.mktemp("default"), seed=42)
    return {"dir": out, "tables": read_tables(out),
            "truth": json.loads((out / "truth.json").read_text())}
