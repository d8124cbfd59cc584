"""``benchmarks/results.md``: one section per benchmark, each rewritten only by its own script."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"
HEADER = "# Serving benchmarks\n\nEach section is written by the command named under its title; rerun it to refresh the section.\n"


def write_section(title: str, command: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or add) the section ``## title`` of ``path``, keeping the others."""
    text = path.read_text() if path.exists() else HEADER
    section = f"## {title}\n\nWritten by `{command}`.\n\n{body.rstrip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text.rstrip() + "\n")


def publish(title: str, command: str, lines: list[str]) -> str:
    """Print a benchmark's report and store it as its section of ``results.md``; return it."""
    table = "\n".join(lines) + "\n"
    print(table)
    write_section(title, command, table)
    return table
