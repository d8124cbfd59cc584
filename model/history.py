"""``history.csv``: the per-epoch training curves that ship with the model, read here only.

Training writes it with Keras's ``CSVLogger`` (one row per epoch, train and ``val_``
columns); the dashboard's Training tab draws it. Read with ``csv`` rather than pandas, which
the web dyno does not install.
"""

from __future__ import annotations

import csv
from pathlib import Path


def read_history(path: Path) -> dict[str, list[float]]:
    """``history.csv`` as columns: every Keras log key to its per-epoch values."""
    with Path(path).open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    return {column: [float(row[column]) for row in rows] for column in rows[0]} if rows else {}
