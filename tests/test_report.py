from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from cxkit.report import notebook_to_html


def executed_notebook(path):
    nb = new_notebook(cells=[
        new_markdown_cell("# Driver model story"),
        new_code_cell("secret_code_line = compute_things()",
                      outputs=[new_output("stream", name="stdout", text="result-line 42\n")]),
    ])
    nbformat.write(nb, str(path))
    return path


def test_html_has_outputs_and_prose_but_no_code(tmp_path):
    out = notebook_to_html(executed_notebook(tmp_path / "nb.ipynb"), tmp_path / "r" / "nb.html")
    html = out.read_text()
    assert "result-line 42" in html and "Driver model story" in html
    assert "secret_code_line" not in html and "compute_things" not in html
    assert "In&nbsp;[" not in html  # no execution prompts either


def test_banner_is_the_first_content(tmp_path):
    out = notebook_to_html(executed_notebook(tmp_path / "nb.ipynb"), tmp_path / "nb.html",
                           banner=["convergence gate failed: r_hat <b>1.3</b>"])
    body = out.read_text().split("<body", 1)[1]
    pos = body.index("convergence gate failed")
    assert pos < body.index("Driver model story")
    assert "r_hat &lt;b&gt;1.3&lt;/b&gt;" in body  # messages are escaped, not rendered


def test_no_banner_without_warnings(tmp_path):
    html = notebook_to_html(executed_notebook(tmp_path / "nb.ipynb"), tmp_path / "nb.html").read_text()
    assert "cxkit-banner" not in html


# --- header, summary, tables (a fixture run folder with every table) -------------------

def _run_with_notebooks(tmp_path):
    from tests.dashboards.conftest import make_run_dir

    run_dir = make_run_dir(tmp_path / "reports")
    for stem in ("10_ingest_journeys", "20_driver_model", "30_revenue_impact"):
        nb = new_notebook(cells=[new_markdown_cell(f"# {stem} notebook heading\nIntro text."),
                                 new_code_cell("x", outputs=[])])
        nbformat.write(nb, str(run_dir / f"{stem}.ipynb"))
    return run_dir


def test_report_opens_with_title_run_links_and_summary(tmp_path):
    run_dir = _run_with_notebooks(tmp_path)
    html = notebook_to_html(run_dir / "20_driver_model.ipynb",
                            run_dir / "20_driver_model.html").read_text()
    body = html.split("<body", 1)[1]
    assert "<title>What drives the score</title>" in html
    assert body.index("What drives the score") < body.index("Summary") < body.index(
        "Intro text")
    assert "notebook heading" not in body
    assert "<strong>cx-test</strong> (2024-05-01T060000Z), 2024-05-01 06:00 UTC" in body
    assert 'href="10_ingest_journeys.html"' in body and 'href="30_revenue_impact.html"' in body
    assert 'href="20_driver_model.html"' not in body  # no link to itself
    for words in ("Top drivers", "Price rating: +0.45 points on the 0-10 recommend scale per "
                  "rating point", "Biggest broken promise", "support ticket",
                  "Best initiative", "faster delivery", "Revenue at risk"):
        assert words in body, words


def test_tables_lose_a_plain_index_and_long_decimals(tmp_path):
    import pandas as pd

    run_dir = _run_with_notebooks(tmp_path)
    plain = pd.DataFrame({"segment": ["a", "b"], "share": [0.123456789, 12.3456789]})
    named = plain.set_index("segment")
    nb = new_notebook(cells=[new_code_cell("t", outputs=[
        new_output("execute_result", data={"text/html": plain.to_html(), "text/plain": ""},
                   execution_count=1),
        new_output("execute_result", data={"text/html": named.to_html(), "text/plain": ""},
                   execution_count=2)])])
    nbformat.write(nb, str(run_dir / "30_revenue_impact.ipynb"))
    html = notebook_to_html(run_dir / "30_revenue_impact.ipynb", tmp_path / "o.html").read_text()
    assert "<th>0</th>" not in html and "<th>1</th>" not in html
    assert "<th>a</th>" in html  # a meaningful index stays
    assert "0.123456789" not in html and "<td>0.123</td>" in html and "<td>12.35</td>" in html


def test_report_problems_finds_stderr_warnings_and_tracebacks(tmp_path):
    from cxkit.report import report_problems

    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        new_output("stream", name="stderr", text="foo.py:3: UserWarning: careful\n")])])
    nbformat.write(nb, str(tmp_path / "nb.ipynb"))
    html = notebook_to_html(tmp_path / "nb.ipynb", tmp_path / "nb.html").read_text()
    assert report_problems(html) == ["warning", "stderr box"]
    assert report_problems("<p>all fine</p>") == []


@pytest.mark.parametrize("page, flagged", [
    ('<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js">',
     True),
    ("<link rel='stylesheet' href='//fonts.example.com/a.css'>", True),
    ('<img alt="x" src="http://example.com/x.png">', True),
    ('const m = (await import("https://cdn.example/mermaid.esm.min.mjs")).default;', True),
    ("<style>@import url('https://fonts.example.com/css');</style>", True),
    ('<script src="data:text/javascript,1"></script><img src="data:image/png;base64,AA">', False),
    ('<a href="https://example.org/docs">a link a reader may follow</a>', False),
    ("/* https://github.com/danlevan/google-material-color */", False),
])
def test_report_problems_finds_anything_loaded_from_the_internet(page, flagged):
    from cxkit.report import report_problems

    assert report_problems(page) == (["internet resource"] if flagged else [])


def test_a_report_loads_nothing_from_the_internet(tmp_path):
    """nbconvert's own lab template loads require.js and MathJax from a CDN (and mermaid
    when a diagram is present); the report template leaves all three out."""
    import re

    from nbconvert import HTMLExporter

    from cxkit.report import report_problems

    nb = executed_notebook(tmp_path / "nb.ipynb")
    stock, _ = HTMLExporter().from_filename(str(nb))
    assert report_problems(stock) == ["internet resource"]  # the check can fail
    html = notebook_to_html(nb, tmp_path / "nb.html").read_text()
    assert report_problems(html) == []
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    assert "cdnjs" not in html and "mathjax" not in html.lower() and "require.js" not in html
    assert "result-line 42" in html  # the outputs are still there


@pytest.mark.slow
def test_real_smoke_run_reports_are_clean(tmp_path):
    """The three reports of a real (tiny MCMC) run: no traceback, no warning text, no stderr
    box, no printed dict; each opens with its title, the run name and the summary."""
    import yaml

    from cxkit.config import PARAMS_DIR
    from cxkit.report import report_problems
    from cxkit.runner import run

    cfg = yaml.safe_load((PARAMS_DIR / "smoke.yaml").read_text())
    cfg["extends"] = str(PARAMS_DIR / cfg["extends"])  # smoke.yaml states only differences
    cfg["run"]["out_dir"] = str(tmp_path / "reports")
    params = tmp_path / "smoke.yaml"
    params.write_text(yaml.safe_dump(cfg))
    assert run(params, run_id="clean") == 0
    for stem, title in (("10_ingest_journeys", "Customer journeys"),
                        ("15_voice", "What customers say"),
                        ("20_driver_model", "What drives the score"),
                        ("30_revenue_impact", "Revenue impact")):
        html = (tmp_path / "reports" / "clean" / f"{stem}.html").read_text()
        assert report_problems(html) == [], (stem, report_problems(html))
        assert title in html and "<strong>smoke</strong>" in html and "Top drivers" in html
        assert "{'" not in html  # no printed dict


def test_report_tables_hide_estimates_of_small_groups(tmp_path):
    import pandas as pd

    from cxkit.report import floor_table_html

    t = pd.DataFrame({"segment": ["North", "Tiny"], "n": [120, 12], "nps_mean": [25.5, 80.0],
                      "label": ["ok", "ok"]})
    html = floor_table_html(t.to_html(index=False), 30)
    assert "25.5" in html and "80.0" not in html and html.count("too few responses") == 1
    assert "<td>12</td>" in html and "<td>Tiny</td>" in html  # count and label stay
    # in a whole report, with the run's floor (default 30)
    run_dir = _run_with_notebooks(tmp_path)
    nb = new_notebook(cells=[new_code_cell("t", outputs=[new_output(
        "execute_result", data={"text/html": t.to_html(), "text/plain": ""},
        execution_count=1)])])
    nbformat.write(nb, str(run_dir / "20_driver_model.ipynb"))
    out = notebook_to_html(run_dir / "20_driver_model.ipynb", tmp_path / "o.html").read_text()
    assert "80.0" not in out.split("Summary")[-1] and "too few responses" in out
