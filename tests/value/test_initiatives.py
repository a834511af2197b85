import pytest

from cxkit.value.initiatives import Cost, InitiativeError, load_initiatives, resolve

BASE = {"currency": "BRL", "horizon_days": 180, "initiatives": [
    {"name": "faster", "changes": [{"driver": "gap_delivery", "close_gap": 0.5}],
     "segments": {"plan": ["basic"]}, "cost": {"one_off": 1000, "per_customer": 2}},
    {"name": "app", "changes": [{"driver": "rating_app", "by": 1}],
     "cost": {"per_period": 100, "period_days": 30}, "horizon_days": 365, "currency": "BRL"},
    {"name": "rescue", "changes": [{"score_band": {"from": [0, 6], "to": 7}}],
     "cost": {"per_customer": 25}},
    {"name": "both", "combine": ["faster", "app"], "cost": {"one_off": 50}},
]}


def test_resolve_fills_defaults_and_expands_combinations():
    out = {d["name"]: d for d in resolve(BASE)}
    assert out["faster"]["currency"] == "BRL" and out["faster"]["horizon_days"] == 180
    assert out["app"]["horizon_days"] == 365
    assert out["faster"]["changes"][0].kind == "close_gap"
    assert out["rescue"]["changes"][0].kind == "score_band"
    both = out["both"]
    assert both["kind"] == "combination" and both["members"] == ["faster", "app"]
    assert [c.driver for c in both["changes"]] == ["gap_delivery", "rating_app"]
    # each member keeps its own target; the combination's own cost comes last
    assert both["parts"][0][1] == {"plan": ["basic"]} and both["parts"][1][1] == {}
    assert [c.one_off for c, _ in both["costs"]] == [1000, 0, 50]


def test_cost_arithmetic():
    c = Cost(one_off=1000, per_customer=2.5, per_period=300, period_days=30)
    assert c.periods(365) == 13  # a started month is paid
    assert c.total(n_targeted=40, horizon_days=365) == 1000 + 100 + 3900
    assert Cost(one_off=5).periods(365) == 0


@pytest.mark.parametrize("bad, message", [
    ({"name": "x", "changes": [{"driver": "a", "by": 1, "close_gap": 0.2}]},
     "exactly one of"),
    ({"name": "x", "changes": [{"by": 1}]}, "needs 'driver'"),
    ({"name": "x", "changes": [{"driver": "a", "close_gap": 1.5}]}, "less than or equal to 1"),
    ({"name": "x", "changes": [{"score_band": {"from": [6, 0], "to": 7}}]}, "low > high"),
    ({"name": "x"}, "either 'changes'"),
    ({"name": "x", "changes": [{"driver": "a", "by": 1}], "cots": {}}, "cots: unknown key"),
    ({"name": "x", "changes": [{"driver": "a", "by": 1}], "cost": {"one_off": -1}},
     "greater than or equal to 0"),
])
def test_invalid_definitions_say_where_and_what(bad, message):
    with pytest.raises(InitiativeError, match=message) as info:
        resolve({"initiatives": [bad]}, where="params/initiatives/x.yaml")
    assert str(info.value).startswith("params/initiatives/x.yaml: invalid initiatives")


def test_combination_must_name_singles_and_names_are_unique():
    with pytest.raises(InitiativeError, match="names 'nope', which is not a single"):
        resolve({"initiatives": [{"name": "c", "combine": ["nope"]}]})
    dup = {"initiatives": [BASE["initiatives"][0], BASE["initiatives"][0]]}
    with pytest.raises(InitiativeError, match=r"repeated: \['faster'\]"):
        resolve(dup)
    mixed = {"initiatives": [
        {"name": "a", "changes": [{"driver": "x", "by": 1}], "currency": "USD"},
        {"name": "b", "changes": [{"driver": "x", "by": 1}], "currency": "EUR"},
        {"name": "ab", "combine": ["a", "b"]}]}
    with pytest.raises(InitiativeError, match="mixes currencies"):
        resolve(mixed)


def test_load_files(tmp_path):
    import yaml

    f = tmp_path / "a.yaml"
    f.write_text(yaml.safe_dump(BASE))
    assert [d["name"] for d in load_initiatives([f])] == ["faster", "app", "rescue", "both"]
    with pytest.raises(InitiativeError, match="repeat across files"):
        load_initiatives([f, f])
    with pytest.raises(InitiativeError, match="not found"):
        load_initiatives([tmp_path / "missing.yaml"])
    (tmp_path / "b.yaml").write_text("- just a list\n")
    with pytest.raises(InitiativeError, match="expected a mapping"):
        load_initiatives(tmp_path / "b.yaml")


def test_shipped_initiative_files_load():
    from cxkit.config import PARAMS_DIR

    files = sorted((PARAMS_DIR / "initiatives").glob("*.yaml"))
    assert files
    for f in files:
        assert load_initiatives([f])


def test_run_yaml_lists_initiatives_relative_to_itself():
    from cxkit.config import PARAMS_DIR, load_config
    from cxkit.runner import notebook_parameters

    cfg = load_config(PARAMS_DIR / "sample.yaml")
    assert cfg.value.initiatives == [PARAMS_DIR / "initiatives" / "sample.yaml"]
    assert cfg.value.currency == "EUR" and cfg.value.score_threshold is None
    p = notebook_parameters(cfg, "30_revenue_impact", "/r")
    assert p["initiatives"] == [str(PARAMS_DIR / "initiatives" / "sample.yaml")]
    assert p["covariates"] is None and p["revenue_threshold"] is None
    names = [d["name"] for d in load_initiatives(cfg.value.initiatives)]
    assert "delivery and app together" in names
