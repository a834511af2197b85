"""Structure of the run's notebooks (executing them is the nbval smoke run in `make test`)."""

from __future__ import annotations

import ast

import jupytext
import nbformat
import pytest

from cxkit.config import NOTEBOOKS_DIR, PARAMS_DIR, load_config
from cxkit.runner import NOTEBOOKS, check_parameters, notebook_parameters

MAX_LINES = 15


@pytest.fixture(scope="module", params=NOTEBOOKS)
def notebook(request):
    path = NOTEBOOKS_DIR / f"{request.param}.ipynb"
    return path, nbformat.read(path, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_size_and_cell_length(notebook):
    path, nb = notebook
    assert 15 <= len(nb.cells) <= 30, f"{path.name}: {len(nb.cells)} cells"
    # The parameters cell is a list of documented literals, not logic: it may run longer.
    long = [(i, len(c.source.splitlines())) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and len(c.source.splitlines()) > MAX_LINES
            and "parameters" not in c.metadata.get("tags", [])]
    assert not long, f"{path.name}: cells over {MAX_LINES} lines (index, lines): {long}"


def test_committed_without_outputs(notebook):
    path, nb = notebook
    dirty = [i for i, c in enumerate(code_cells(nb)) if c.outputs or c.execution_count]
    assert not dirty, f"{path.name}: outputs in code cells {dirty}; strip them before commit"


def test_one_typed_commented_parameters_cell_then_derived_values(notebook):
    path, nb = notebook
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters'"
    cell = nb.cells[tagged[0]]
    tree = ast.parse(cell.source)
    assert all(isinstance(node, ast.AnnAssign) for node in tree.body), \
        f"{path.name}: the parameters cell must hold only typed assignments"
    for node in tree.body:
        ast.literal_eval(node.value)  # literals only: derived values go in the next cell
    lines = [ln for ln in cell.source.splitlines() if ln.strip()]
    assert all("  # " in ln for ln in lines), f"{path.name}: every parameter needs a comment"
    assert "RUN = Run.resolve(run_dir" in nb.cells[tagged[0] + 1].source  # cxkit.rundir.Run


def test_seed_cell_near_top_and_watermark_last(notebook):
    path, nb = notebook
    cells = code_cells(nb)
    assert any("default_rng(seed)" in c.source for c in cells[:4])
    assert "watermark()" in cells[-1].source


def test_runner_parameters_exist_in_each_notebook(notebook):
    path, _ = notebook
    for params in ("sample.yaml", "smoke.yaml", "olist.yaml"):
        cfg = load_config(PARAMS_DIR / params)
        check_parameters(path, notebook_parameters(cfg, path.stem, "/tmp/run"))


def test_paired_py_percent_twin_is_in_sync(notebook):
    path, nb = notebook
    twin = path.with_suffix(".py")
    assert twin.is_file(), f"{twin} missing: run `jupytext --sync {path}`"
    text = jupytext.read(twin, fmt="py:percent")
    assert [(c.cell_type, c.source) for c in text.cells] == \
           [(c.cell_type, c.source) for c in nb.cells], \
        f"{twin.name} and {path.name} differ: run `jupytext --sync notebooks/*.ipynb`"


def test_kernel_is_the_project_kernel(notebook):
    _, nb = notebook
    assert nb.metadata["kernelspec"]["name"] == "cxkit"


def test_papermill_parses_every_parameter(notebook):
    # papermill skips lines it cannot parse (e.g. a second '=' in the comment) with only a
    # log warning; such a parameter could never be injected
    import papermill

    path, nb = notebook
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    names = {node.target.id for node in ast.parse(cell.source).body}
    assert set(papermill.inspect_notebook(str(path))) == names
