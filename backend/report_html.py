"""The HTML evaluation report shared by ``geofuse:evaluate`` (QGIS) and ``geofuse evaluate`` (command line).

Torch-free and QGIS-free, so both sides import it: the page shows what was compared (``details``: the
rasters, or the model, data sources, split, tiles and protocol) above the scores it belongs to.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

SCORES = ("precision", "recall", "f1", "iou")


def percent(value: float | None) -> str:
    """A score as a percentage, ``–`` when undefined."""
    return "–" if value is None else f"{100 * value:.2f} %"


def _section(title: str, metrics: Mapping[str, Any], matrix: Sequence[Sequence[int]]) -> str:
    """Summary scores, per-class table and the confusion matrix as a heat map."""
    classes = metrics["classes"]
    names = [html.escape(str(entry["name"])) for entry in classes]
    rows = "".join(
        f"<tr><th>{name}</th>" + "".join(f"<td>{percent(entry[score])}</td>" for score in SCORES)
        + f"<td>{entry['support']}</td></tr>"
        for name, entry in zip(names, classes, strict=True)
    )  # fmt: skip
    largest = max((max(row) for row in matrix if row), default=0) or 1
    cells = "".join(
        f"<tr><th>{names[i]}</th>"
        + "".join(
            f'<td style="background: rgba(31, 119, 180, {count / largest:.3f}); '
            f'color: {"white" if count / largest > 0.5 else "black"}">{count}</td>'
            for count in row
        )
        + "</tr>"
        for i, row in enumerate(matrix)
    )
    heading = f"<h2>{html.escape(title)}</h2>\n" if title else ""
    return f"""{heading}<p>Pixels counted: {metrics["total"]}</p>
<table><tr><th>Overall accuracy</th><td>{percent(metrics["overall_accuracy"])}</td></tr>
<tr><th>Mean F1</th><td>{percent(metrics["mean_f1"])}</td></tr>
<tr><th>Mean IoU</th><td>{percent(metrics["mean_iou"])}</td></tr></table>
<h3>Per class</h3>
<table><tr><th>Class</th><th>Precision</th><th>Recall</th><th>F1</th><th>IoU</th><th>Pixels (truth)</th></tr>
{rows}</table>
<h3>Confusion matrix</h3><p>Rows: ground truth; columns: classified.</p>
<table><tr><th></th>{"".join(f"<th>{name}</th>" for name in names)}</tr>{cells}</table>
"""


def report_html(
    sections: Sequence[tuple[str, Mapping[str, Any], Sequence[Sequence[int]]]], details: Mapping[str, str]
) -> str:
    """A self-contained HTML page.

    Args:
        sections: ``(title, metrics as SegmentationMetrics.to_dict(), confusion matrix)`` per score set
            (e.g. full reference, eroded boundaries); a single set may have an empty title.
        details: What was compared, label → value, shown first.
    """
    facts = "<br>".join(f"{html.escape(key)}: {html.escape(value)}" for key, value in details.items())
    body = "".join(_section(title, metrics, matrix) for title, metrics, matrix in sections)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>GeoFuse evaluation</title>
<style>body {{ font-family: sans-serif; }} table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}</style></head>
<body><h1>GeoFuse evaluation</h1>
<p>{facts}</p>
{body}</body></html>
"""
