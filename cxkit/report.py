"""Stakeholder HTML reports from executed notebooks: outputs and prose only, code hidden."""

from __future__ import annotations

import html
from pathlib import Path

BANNER_TAG = "cxkit-banner"


def _banner_cell(lines: list[str]):
    import nbformat

    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    # Markdown cells keep raw HTML; the inline style makes the warning impossible to miss
    # even where the page's CSS is stripped (e-mail, PDF print).
    source = ('<div class="cxkit-banner" style="border:3px solid #b00020;padding:8px;'
              'background:#fde7ea;color:#b00020;font-weight:bold">'
              f"WARNING: this run was published with problems:<ul>{items}</ul></div>")
    return nbformat.v4.new_markdown_cell(source, metadata={"tags": [BANNER_TAG]})


def _changes_cell(lines: list[str]):
    import nbformat

    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    source = ('<div class="cxkit-changes" style="border:1px solid #555;padding:8px">'
              f"What changed since the previous run:<ul>{items}</ul></div>")
    return nbformat.v4.new_markdown_cell(source, metadata={"tags": ["cxkit-changes"]})


def notebook_to_html(notebook: str | Path, out: str | Path, *,
                     banner: list[str] | None = None,
                     changes: list[str] | None = None) -> Path:
    """Export an executed notebook to HTML without code cells' input.

    Parameters
    ----------
    notebook : str or Path
        Executed ``.ipynb``.
    out : str or Path
        HTML file to write.
    banner : list of str, optional
        Warnings shown in a red box as the report's first lines (e.g. a convergence gate
        that failed but was allowed with ``allow_failed_gate``).
    changes : list of str, optional
        What changed since the previous run (:func:`cxkit.trend.describe_changes`), shown
        in a plain box after the banner.

    Returns
    -------
    Path
        ``out``.

    Examples
    --------
    >>> notebook_to_html("reports/latest/20_driver_model.ipynb", "/tmp/20.html")  # doctest: +SKIP
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    if changes:
        nb.cells.insert(0, _changes_cell(list(changes)))
    if banner:
        nb.cells.insert(0, _banner_cell(list(banner)))
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out
