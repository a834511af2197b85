"""One source for every run parameter: the models in cxkit/config.py against the notebooks'
parameters cells, the README table and the defaults of the functions the notebooks call."""

from __future__ import annotations

import ast
import inspect
import re

import papermill
import pytest
from pydantic_core import PydanticUndefined

from cxkit import config
from cxkit.config import RunConfig, load_config
from cxkit.runner import NOTEBOOK_PARAMETERS, NOTEBOOKS, notebook_parameters, parameter_default

README = config.PROJECT_ROOT / "README.md"
#: Column names of the bundled sample and of Olist: no default may name one of them.
SAMPLE_COLUMNS = {"region", "channel", "plan", "cohort", "nps", "csat", "ces", "rating_product",
                  "rating_delivery", "rating_app", "rating_price", "review_score",
                  "gap_delivery", "breach_support_ticket", "customer_state"}


def _declared(stem: str) -> dict:
    return papermill.inspect_notebook(str(config.NOTEBOOKS_DIR / f"{stem}.ipynb"))


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_notebook_defaults_are_the_model_defaults(stem):
    declared = _declared(stem)
    mapping = NOTEBOOK_PARAMETERS.get(stem, {})
    # every parameter of the cell comes from the YAML (run_dir from the runner)
    assert set(declared) - {"run_dir"} == set(mapping), stem
    for name, dotted in mapping.items():
        default = ast.literal_eval(declared[name]["default"])
        assert default == parameter_default(dotted), f"{stem}.{name} vs {dotted}"


def test_no_default_names_a_sample_column():
    for stem in NOTEBOOKS:
        for name, p in _declared(stem).items():
            text = str(ast.literal_eval(p["default"]))
            assert not any(re.search(rf"\b{c}\b", text) for c in SAMPLE_COLUMNS), (stem, name)
    from cxkit.value.table import customer_value_table

    sig = inspect.signature(customer_value_table)
    assert sig.parameters["score"].default is inspect.Parameter.empty
    for section in ("journeys", "drivers", "value"):
        model = config._models_in(RunConfig.model_fields[section].annotation)[0]
        for name, field in model.model_fields.items():
            if field.default is not PydanticUndefined:
                assert str(field.default) not in SAMPLE_COLUMNS, (section, name)


def _documented() -> dict[tuple[str, str], str]:
    """(section, key) -> default cell of README's "Run parameters" table."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Run parameters"):text.index("## Layout")]
    rows, section = {}, None
    for line in table.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) != 4 or cells[1] in ("key", "---"):
            continue
        if cells[0]:
            section = cells[0].split("`")[1] if "`" in cells[0] else cells[0]
        rows[(section, cells[1].strip("`"))] = cells[2]
    return rows


def _fields() -> dict[tuple[str, str], object]:
    """(section, key) -> pydantic field, nested models flattened as ``summary.kind``."""
    out = {("(top)", "extends"): None}
    for section, sfield in RunConfig.model_fields.items():
        if section == "source":
            continue
        model = config._models_in(sfield.annotation)[0]
        for name, field in model.model_fields.items():
            subs = [m for m in config._models_in(field.annotation)
                    if m is not config.MissingPolicy]
            if subs:
                prefix = f"{name}[]" if "list" in str(field.annotation) else name
                for sub, f in subs[0].model_fields.items():
                    out[(section, f"{prefix}.{sub}")] = f
            else:
                out[(section, name)] = field
    return out


def test_readme_table_lists_every_field_with_its_default():
    documented, fields = _documented(), _fields()
    assert set(documented) == set(fields), (
        f"README only: {sorted(set(documented) - set(fields))}; "
        f"models only: {sorted(set(fields) - set(documented))}")
    for key, field in fields.items():
        if field is None or field.annotation is config.Path:
            continue
        cell = documented[key]
        if field.is_required():
            assert cell == "required", key
            continue
        value = field.get_default(call_default_factory=True)
        value = value.model_dump() if hasattr(value, "model_dump") else value
        shown = ast.literal_eval(cell.strip("`")) if cell.startswith("`[") else \
            {"`null`": None, "`true`": True, "`false`": False, "`{}`": {}, "`[]`": []}.get(
                cell, cell.strip("`"))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = float(shown)
        assert shown == value, f"{key}: README says {cell}, the model {value!r}"


def test_function_defaults_agree_with_the_models():
    from cxkit.drivers import fit_drivers
    from cxkit.value import fit_value_model
    from cxkit.value.table import customer_value_table

    d = config.DriversSection.model_fields
    fd = inspect.signature(fit_drivers).parameters
    for name in ("draws", "tune", "chains", "seed", "target_accept", "parametrization",
                 "family"):
        assert fd[name].default == d[name].default, f"fit_drivers({name})"
    fv = inspect.signature(fit_value_model).parameters
    for name in ("draws", "tune", "chains", "seed"):
        assert fv[name].default == d[name].default, f"fit_value_model({name})"
    assert inspect.signature(customer_value_table).parameters["horizon_days"].default == \
        config.ValueSection.model_fields["horizon_days"].default


def test_extends_states_only_differences():
    sample = load_config(config.PARAMS_DIR / "sample.yaml")
    smoke = load_config(config.PARAMS_DIR / "smoke.yaml")
    olist = load_config(config.PARAMS_DIR / "olist.yaml")
    assert smoke.drivers.draws == 100 and smoke.drivers.allow_failed_gate
    assert smoke.drivers.drivers == sample.drivers.drivers
    assert smoke.value == sample.value.model_copy(update={"sensitivity": False})
    assert olist.value == sample.value
    assert olist.olist.outcome == "review_score" and olist.drivers.draws == 2000
    for path in ("smoke.yaml", "olist.yaml"):
        text = (config.PARAMS_DIR / path).read_text()
        assert "extends: sample.yaml" in text and "scenarios" not in text
    p = notebook_parameters(smoke, "20_driver_model", "/r")
    assert p["olist_sources"] == "" and p["summary"]["kind"] == "nps"
