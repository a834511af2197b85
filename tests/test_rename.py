"""Every column a run uses comes from the YAMLs: rename every column of the sample files and
every segment and score name through the YAMLs, and get the same tables.

Ingests the committed sample twice (original and renamed) and compares the ingest outputs,
then the steps the notebooks run without MCMC (driver data preparation, journey gaps, the
headline NPS, the value table) on both, and checks the renamed run passes the start-up
validation.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import yaml

from cxkit.config import PARAMS_DIR, SAMPLE_DIR, load_config

#: Output names renamed through the sources YAML (segments and scores).
OUTPUT = {"region": "area", "channel": "route", "plan": "tier", "nps": "recommend",
          "csat": "satisfaction", "ces": "effort", "rating_product": "product_stars",
          "rating_delivery": "delivery_stars", "rating_app": "app_stars",
          "rating_price": "price_stars"}
#: Keys whose values are not file columns (id kinds, paths, options).
NOT_COLUMNS = {"key", "path", "role", "unresolved", "format", "timezone", "catalog",
               "canonical", "delimiter", "timestamp_format"}


def raw_name(col: str) -> str:
    return f"Col {col.upper()} (export)"


def _rename_values(node, columns: set[str]):
    if isinstance(node, dict):
        return {k: (v if k in NOT_COLUMNS else _rename_values(v, columns)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_values(v, columns) for v in node]
    if isinstance(node, str) and node in columns:
        return raw_name(node)
    return node


@pytest.fixture(scope="module")
def renamed(tmp_path_factory):
    root = tmp_path_factory.mktemp("renamed")
    data = root / "data"
    data.mkdir()
    for f in SAMPLE_DIR.glob("*.csv"):
        header, rest = f.read_text(encoding="utf-8").split("\n", 1)
        new = ",".join(f'"{raw_name(c)}"' for c in header.split(","))
        (data / f.name).write_text(new + "\n" + rest, encoding="utf-8")
    (root / "sources").mkdir()
    shutil.copytree(PARAMS_DIR / "catalog", root / "catalog")
    doc = yaml.safe_load((PARAMS_DIR / "sources" / "sample.yaml").read_text())
    for name, s in doc["sources"].items():
        file = s["path"].rsplit("/", 1)[1]
        cols = set((SAMPLE_DIR / file).read_text().split("\n", 1)[0].split(","))
        s = _rename_values(s, cols)
        s["path"] = str(data / file)
        s["segments"] = {OUTPUT.get(k, k): v for k, v in s.get("segments", {}).items()}
        s["scores"] = {OUTPUT.get(k, k): v for k, v in s.get("scores", {}).items()} or None
        doc["sources"][name] = {k: v for k, v in s.items() if v is not None}
    (root / "sources" / "sample.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    run = yaml.safe_load((PARAMS_DIR / "sample.yaml").read_text())
    run["ingest"]["sources"] = "sources/sample.yaml"
    run["run"]["out_dir"] = "reports"

    def out(x):
        return [OUTPUT.get(c, c) for c in x] if isinstance(x, list) else OUTPUT.get(x, x)

    for sec, keys in {"journeys": ["segment", "gap_segments"],
                      "drivers": ["outcome", "drivers", "segments"],
                      "value": ["score", "segment", "segments"]}.items():
        for k in keys:
            run[sec][k] = out(run[sec][k])
    for sc in run["value"]["scenarios"]:
        sc["driver"] = out(sc["driver"])
    (root / "run.yaml").write_text(yaml.safe_dump(run, sort_keys=False))
    return root


@pytest.fixture(scope="module")
def both(renamed, tmp_path_factory):
    from cxkit.ingest import run_ingest

    out = tmp_path_factory.mktemp("ingests")
    original = load_config(PARAMS_DIR / "sample.yaml")
    changed = load_config(renamed / "run.yaml")
    tables = {}
    for label, cfg in (("original", original), ("renamed", changed)):
        report = run_ingest(cfg.ingest.sources, out / label, progress=False)
        assert report.ok, report.problems()
        tables[label] = {t: pd.read_parquet(out / label / f"{t}.parquet")
                         for t in ("events", "customers", "journeys", "gaps", "responses",
                                   "quarantine")}
    return original, changed, tables


BACK = {v: k for k, v in OUTPUT.items()}


def back(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns=BACK)


def test_renamed_run_passes_start_up_validation(both):
    from cxkit.preflight import run_problems

    _, changed, _ = both
    assert run_problems(changed) == []
    assert changed.drivers.outcome == "recommend" and changed.value.segment == "tier"


@pytest.mark.parametrize("name", ["events", "customers", "journeys", "gaps", "responses"])
def test_ingest_tables_are_the_same(both, name):
    _, _, t = both
    a, b = t["original"][name], back(t["renamed"][name])
    assert list(a.columns) == list(b.columns)
    if name == "events":  # unmapped columns travel as JSON with their (renamed) names
        def keys_back(text):
            d = json.loads(text)
            return {k.removeprefix("Col ").removesuffix(" (export)").lower(): v
                    for k, v in d.items()}
        a = a.assign(attributes=a["attributes"].map(json.loads))
        b = b.assign(attributes=b["attributes"].map(keys_back))
    key = {"events": ["source", "source_row"], "gaps": ["event_id"],
           "responses": ["response_id"]}.get(name, ["customer_id"])
    a, b = (x.sort_values(key, kind="mergesort").reset_index(drop=True) for x in (a, b))
    pd.testing.assert_frame_equal(a, b)


def test_quarantine_is_the_same_with_renamed_column_names(both):
    _, _, t = both
    a, b = (t[k]["quarantine"].sort_values(["source", "source_row"]).reset_index(drop=True)
            for k in ("original", "renamed"))
    assert len(a) > 0
    assert a[["source", "source_row", "reason"]].equals(b[["source", "source_row", "reason"]])
    assert b["column"].tolist() == [raw_name(c) if c else c for c in a["column"]]


def test_model_and_value_inputs_are_the_same(both):
    from cxkit import journeys
    from cxkit.features import prepare_drivers, score_by_segment
    from cxkit.value.table import customer_value_table

    original, changed, t = both
    results = {}
    for label, cfg in (("original", original), ("renamed", changed)):
        tab, d, v = t[label], cfg.drivers, cfg.value
        prep = prepare_drivers(tab["responses"], outcome=d.outcome, drivers=d.drivers,
                               segments=d.segments, missing=d.missing,
                               never_flags=d.never_flags)
        gaps = journeys.journey_gaps_table(tab["gaps"], tab["customers"],
                                           segments=cfg.journeys.gap_segments)
        nps = score_by_segment(tab["responses"], kind=d.summary.kind,
                               score=d.summary.score or d.outcome, segment=d.segments, seed=1)
        value = customer_value_table(tab["events"], prep.data, tab["customers"],
                                     score=v.score, cutoff=v.cutoff,
                                     horizon_days=v.horizon_days,
                                     segments=[v.segment, *v.segments])
        results[label] = (prep, gaps, nps, value)
    (p1, g1, n1, v1), (p2, g2, n2, v2) = results["original"], results["renamed"]
    assert [BACK.get(c, c) for c in p2.drivers] == p1.drivers and p1.n == p2.n > 1000
    pd.testing.assert_frame_equal(p1.data, back(p2.data))
    pd.testing.assert_frame_equal(p1.policy.assign(column=p1.policy.column),
                                  p2.policy.assign(column=p2.policy.column.map(
                                      lambda c: BACK.get(c, c))))
    g2 = g2.assign(segment_var=g2["segment_var"].map(lambda c: BACK.get(c, c)))
    pd.testing.assert_frame_equal(g1, g2) if "segment_var" in g1 else \
        pd.testing.assert_frame_equal(back(g1), back(g2))
    pd.testing.assert_frame_equal(n1, n2)
    assert v1.attrs["score_name"] == "nps" and v2.attrs["score_name"] == "recommend"
    pd.testing.assert_frame_equal(v1, back(v2), check_like=False)
