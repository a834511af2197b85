"""Shared fixtures for the voice tests: the committed sample's clean responses and truth."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def sample_verbatims():
    """Clean survey responses of data/sample (injected bad rows left out) and the topic truth."""
    truth = json.loads((SAMPLE / "truth.json").read_text())
    s = pd.read_csv(SAMPLE / "surveys.csv")
    n = truth["summary"]["n_responses"]
    s = s[s["response_id"].isin([f"R{k:06d}" for k in range(1, n + 1)])].reset_index(drop=True)
    assert len(s) == n
    return s, truth["verbatim_topics"], truth
