"""Stakeholder HTML reports from executed notebooks: outputs and prose only, code hidden.

Each report opens with its title, the run's name and date, links to the other reports of
the run, and the one-screen summary in plain words (:func:`cxkit.summary.run_summary`);
a red banner comes first when the run has warnings. Tables lose a meaningless 0, 1, 2...
index and carry at most a few decimals.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from cxkit.rundir import Run

#: The offline export template (nbconvert's lab template without require.js, MathJax and
#: mermaid from a CDN): a report loads nothing from the internet.
TEMPLATE = Path(__file__).parent / "resources" / "nbconvert" / "cxkit_report"
BANNER_TAG = "cxkit-banner"
HEADER_TAG = "cxkit-header"

#: notebook stem -> report title, in reading order (the links between reports).
REPORTS = {"10_ingest_journeys": "Customer journeys and service promises",
           "15_voice": "What customers say",
           "20_driver_model": "What drives the score",
           "30_revenue_impact": "Revenue impact and initiatives"}


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


def _header_cell(notebook: Path, title: str):
    """Title, run name and date, links to the sibling reports, the plain-words summary."""
    import nbformat

    from cxkit.summary import run_summary

    run = Run(notebook.parent)
    run_dir = run.path
    m = run.manifest if run.has_manifest else None
    name = (m.run_name if m else "") or "run"
    run_id = m.run_id if m else run_dir.name
    date = str((m.started_at if m else "") or "")[:16].replace("T", " ")
    siblings = [stem for stem in REPORTS if (run_dir / f"{stem}.ipynb").is_file()]
    links = " · ".join(f"**{REPORTS[s]}**" if s == notebook.stem
                       else f"[{REPORTS[s]}]({s}.html)" for s in siblings)
    lines = [f"# {title}", "",
             f"Run **{name}** ({run_id}), {date} UTC" if date
             else f"Run **{name}** ({run_id})", "",
             f"Reports of this run: {links}" if links else "", "", "## Summary", ""]
    lines += [f"- {item}" for item in run_summary(run_dir)]
    return nbformat.v4.new_markdown_cell("\n".join(lines), metadata={"tags": [HEADER_TAG]})


_TABLE = re.compile(r"<table[^>]*class=\"dataframe\"[^>]*>.*?</table>", re.S)
_ROW_HEAD = re.compile(r"(<tr[^>]*>\s*)<th[^>]*>(.*?)</th>", re.S)
_NUMBER = re.compile(r"<td>(-?\d+\.\d{4,})</td>")


def _round_cell(match: re.Match) -> str:
    x = float(match.group(1))
    if abs(x) >= 100:
        return f"<td>{x:,.0f}</td>"
    if abs(x) >= 1:
        return f"<td>{x:.2f}</td>"
    return f"<td>{x:.3g}</td>"


_CELL = re.compile(r"<(t[hd])([^>]*)>(.*?)</t[hd]>", re.S)
_ROW = re.compile(r"<tr[^>]*>.*?</tr>", re.S)


def floor_table_html(text: str, min_n: int) -> str:
    """Rows of pandas HTML tables whose count column (``n``, ``performance_n``,
    ``customers``, ...) is below ``min_n``: every other number becomes "too few responses"
    (the same rule as :func:`cxkit.privacy.apply_min_n`, applied to what a report shows).
    """
    from cxkit.privacy import COUNT_COLUMNS, TOO_FEW

    def one(match: re.Match) -> str:
        table = match.group(0)
        head, sep, body = table.partition("<tbody>")
        if not sep:
            return table
        header_rows = _ROW.findall(head)
        if not header_rows:
            return table
        names = [re.sub(r"<[^>]+>", "", c[2]).strip() for c in _CELL.findall(header_rows[0])]
        col = next((names.index(c) for c in COUNT_COLUMNS if c in names), None)
        if col is None:
            return table

        def row(m: re.Match) -> str:
            cells = _CELL.findall(m.group(0))
            try:
                n = float(re.sub(r"[^0-9.\-]", "", cells[col][2]))
            except (IndexError, ValueError):
                return m.group(0)
            if n >= min_n:
                return m.group(0)
            out = []
            for i, (tag, attrs, value) in enumerate(cells):
                is_number = re.fullmatch(r"\s*-?[\d,]*\.?\d+(e-?\d+)?%?\s*", value) is not None
                if tag == "td" and i != col and is_number:
                    value = TOO_FEW
                out.append(f"<{tag}{attrs}>{value}</{tag}>")
            start = re.match(r"<tr[^>]*>", m.group(0)).group(0)
            return start + "".join(out) + "</tr>"

        return head + sep + _ROW.sub(row, body)

    return _TABLE.sub(one, text)


def tidy_table_html(text: str) -> str:
    """pandas HTML tables as people read them: a plain 0, 1, 2, ... index column removed,
    numbers with four or more decimals rounded (2 decimals, 3 significant digits under 1,
    none from 100 up).

    Examples
    --------
    >>> t = ('<table class="dataframe"><thead><tr><th></th><th>x</th></tr></thead>'
    ...      '<tbody><tr><th>0</th><td>0.123456</td></tr></tbody></table>')
    >>> tidy_table_html(t)
    '<table class="dataframe"><thead><tr><th>x</th></tr></thead><tbody><tr><td>0.123</td></tr></tbody></table>'
    """
    def one(match: re.Match) -> str:
        table = match.group(0)
        body = table.split("<tbody>", 1)[-1]
        heads = [h.strip() for h in _ROW_HEAD.findall(body) for h in [h[1]]]
        if heads and heads == [str(i) for i in range(len(heads))]:
            head, _, rest = table.partition("<tbody>")
            head = re.sub(r"(<tr[^>]*>\s*)<th[^>]*>\s*</th>", r"\1", head)
            rest = _ROW_HEAD.sub(r"\1", rest)
            table = head + "<tbody>" + rest
        return _NUMBER.sub(_round_cell, table)

    return _TABLE.sub(one, text)


def notebook_to_html(notebook: str | Path, out: str | Path, *,
                     banner: list[str] | None = None,
                     changes: list[str] | None = None) -> Path:
    """Export an executed notebook to HTML without code cells' input.

    Parameters
    ----------
    notebook : str or Path
        Executed ``.ipynb`` inside its run folder (``manifest.json`` and ``tables/`` next to
        it give the header and the summary).
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

    notebook = Path(notebook)
    nb = nbformat.read(str(notebook), as_version=4)
    min_n = Run(notebook.parent).min_n
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                data["text/html"] = floor_table_html(tidy_table_html(data["text/html"]), min_n)
    # the notebook's own "# 10 · ..." heading gives way to the report's title
    title = REPORTS.get(notebook.stem, notebook.stem.replace("_", " "))
    if nb.cells and nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "):
        first = nb.cells[0]
        lines = first.source.splitlines()
        if notebook.stem not in REPORTS:
            title = lines[0][2:].strip()
        first.source = "\n".join(lines[1:]).lstrip()
    nb.cells.insert(0, _header_cell(notebook, title))
    if changes:
        nb.cells.insert(1, _changes_cell(list(changes)))
    if banner:
        nb.cells.insert(0, _banner_cell(list(banner)))
    exporter = HTMLExporter(template_name=TEMPLATE.name,
                            extra_template_basedirs=[str(TEMPLATE.parent)],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def report_problems(html_text: str) -> list[str]:
    """What must never reach a stakeholder's page: tracebacks, warnings, stderr boxes, error
    outputs, and anything fetched from the internet (a script, stylesheet, image, font or
    module import from an ``http(s)://`` address). Empty when the report is clean.

    Examples
    --------
    >>> report_problems('<script src="https://cdn.example/x.js"></script>')
    ['internet resource']
    >>> report_problems('<p>see https://example.org</p>')
    []
    """
    checks = {"traceback": r"Traceback \(most recent call last\)",
              "warning": r"\b\w*Warning:",
              "stderr box": r"data-mime-type=\"application/vnd\.jupyter\.stderr\"",
              "error output": r"jp-OutputArea-output[^\"]*\"[^>]*data-mime-type=\"application/"
                              r"vnd\.jupyter\.error",
              "internet resource": r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)"
                                   r"\s*=\s*[\"']?(?:https?:)?//"
                                   r"|\bimport\s*\(\s*[\"'](?:https?:)?//"
                                   r"|@import\s+(?:url\()?[\"']?(?:https?:)?//"
                                   r"|url\(\s*[\"']?(?:https?:)?//"}
    return [name for name, pattern in checks.items() if re.search(pattern, html_text)]


__all__ = ["notebook_to_html", "tidy_table_html", "floor_table_html", "report_problems",
           "REPORTS"]
