"""The collection summary (``model.batch.summary``) as a self-contained HTML page, from a batch table on disk."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.io as pio

from model.batch.summary import CollectionSummary, summarise, summary_figures
from model.config import ModelConfig


def read_columns(out: Path) -> dict:
    """The whole batch table, every complete part under ``out``, as columns."""
    table = pd.read_parquet(out)
    return {column: table[column].to_numpy() for column in table.columns}


def report_html(summary: CollectionSummary) -> str:
    """A page that works offline: plotly.js is inlined once, nothing is fetched from the network."""
    sections = [
        f'<section id="{section}">{pio.to_html(figure, full_html=False, include_plotlyjs=index == 0)}</section>'
        for index, (section, figure) in enumerate(summary_figures(summary).items())
    ]
    share_tables = "".join(
        f"<h2>{head.title()}: expected counts</h2><table><tr><th></th><th>expected faces</th><th>95% interval</th><th>share</th></tr>"
        + "".join(
            f"<tr><td>{html.escape(label)}</td><td>{expected:.1f}</td><td>{low:.1f}-{high:.1f}</td><td>{share:.1%}</td></tr>"
            for label, expected, low, high, share in zip(shares.labels, shares.expected, shares.low, shares.high, shares.share, strict=True)
        )
        + "</table>"
        for head, shares in summary.shares.items()
    )
    error_rows = "".join(f"<tr><td>{html.escape(file)}</td><td>{html.escape(message)}</td></tr>" for file, message in summary.errors)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Face2Data collection report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:2px 8px}}</style>
</head><body>
<h1>Face2Data collection report</h1>
<p>{summary.files} files, {summary.faces} faces, {len(summary.errors)} errors. Gender and race are expected counts (sums of calibrated
probabilities) with 95% bootstrap intervals over faces: what the model reads, with its biases (see the model card), not what the
people are. The model was trained on UTKFace: non-commercial research use only.</p>
{"".join(sections)}
{share_tables}
<section id="errors"><h2>Errors</h2><table><tr><th>file</th><th>error</th></tr>{error_rows}</table></section>
</body></html>
"""


def write_report(out: Path, path: Path, config: ModelConfig) -> CollectionSummary:
    """Summarise the table under ``out`` into the HTML page ``path``; the labels are the model's (``config.json``)."""
    summary = summarise(read_columns(out), config)
    Path(path).write_text(report_html(summary))
    return summary
