"""``history.csv``: the per-epoch training curves that ship with the model, written and read here only.

Training writes it (``training.ensemble``) from each member's Keras ``CSVLogger`` file; the
dashboard reads it back for the Training tab. A model of several networks holds each member's
epochs in turn, told apart by a ``member`` column.
"""

from __future__ import annotations

import csv
from pathlib import Path


def write_history(path: Path, member_files: list[Path]) -> None:
    """One ``history.csv`` from each member's own (``CSVLogger``) file, numbered from 1 in order."""
    rows: list[dict] = []
    for index, member_file in enumerate(member_files, start=1):
        with Path(member_file).open(newline="") as stream:
            rows += [{"member": index, **row} for row in csv.DictReader(stream)]
    columns = list(dict.fromkeys(column for row in rows for column in row))
    with Path(path).open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def read_history(path: Path) -> list[dict[str, list[float]]]:
    """``history.csv`` as columns, one set per member (a single network is one member).

    Each member's history maps every Keras log key to its per-epoch values.
    """
    with Path(path).open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    members: dict[str, list[dict]] = {}
    for row in rows:
        members.setdefault(row.pop("member", "1"), []).append(row)
    return [{column: [float(row[column]) for row in member] for column in member[0] if member[0][column] != ""} for member in members.values()]
