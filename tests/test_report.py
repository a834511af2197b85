from __future__ import annotations

import nbformat
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
