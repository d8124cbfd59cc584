"""The collection summary (``model.batch.summary``) as a self-contained HTML page, from a batch table on disk."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.io as pio

from model.batch.summary import ASSUMPTION, CollectionSummary, HeadShares, summary_figures


def read_columns(out: Path) -> dict:
    """The whole batch table, every complete part under ``out``, as columns."""
    table = pd.read_parquet(out)
    return {column: table[column].to_numpy() for column in table.columns}


def share_table(head: str, shares: HeadShares) -> str:
    """One head's shares: adjusted first (when there is a reference), expected beside, each with its interval."""
    estimates = shares.shown()
    header = "".join(f"<th>{name} share</th><th>95% interval</th>" for name, _ in estimates)
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td>"
        + "".join(f"<td>{estimate.share[index]:.1%}</td><td>{estimate.low[index]:.1%}-{estimate.high[index]:.1%}</td>" for _, estimate in estimates)
        + "</tr>"
        for index, label in enumerate(shares.labels)
    )
    return f"<h2>{head.replace('_', ' ').capitalize()}</h2><table><tr><th></th>{header}</tr>{rows}</table>"


def report_html(summary: CollectionSummary) -> str:
    """A page that works offline: plotly.js is inlined once, nothing is fetched from the network."""
    sections = [
        f'<section id="{section}">{pio.to_html(figure, full_html=False, include_plotlyjs=index == 0)}</section>'
        for index, (section, figure) in enumerate(summary_figures(summary).items())
    ]
    share_tables = "".join(share_table(head, shares) for head, shares in summary.heads.items())
    error_rows = "".join(f"<tr><td>{html.escape(file)}</td><td>{html.escape(message)}</td></tr>" for file, message in summary.errors)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Face2Data collection report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:2px 8px}}</style>
</head><body>
<h1>Face2Data collection report</h1>
<p>{summary.files} files, {summary.faces} faces counted ({"the largest of each photo" if summary.faces_counted == "largest" else "every face"}),
{len(summary.errors)} errors. {html.escape(ASSUMPTION)} Intervals are 95% bootstrap intervals. The model was trained on UTKFace:
non-commercial research use only.</p>
{"".join(sections)}
{share_tables}
<section id="errors"><h2>Errors</h2><table><tr><th>file</th><th>error</th></tr>{error_rows}</table></section>
</body></html>
"""


def write_report(summary: CollectionSummary, path: Path) -> None:
    """The summary as the HTML page ``path``."""
    Path(path).write_text(report_html(summary))
