"""Command-line pieces shared by the training tools: where the data is, and common flags."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from model.config import MODEL_DIR

DATASETS = Path(os.environ.get("DATASETS") or Path(__file__).resolve().parents[1].parent / "shared" / "datasets")
"""Where UTKFace.tar.gz and its split CSV are: ``$DATASETS`` (as ``make ... DATASETS=...`` sets it), else
``../shared/datasets`` beside the repository. The Makefile, the training tools and the tests all read it here."""


def artifact_parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """A parser with the flags of tools that read a trained model and the dataset."""
    parser = argparse.ArgumentParser(prog=prog, description=(doc or "").split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--data", type=Path, default=DATASETS / "UTKFace.tar.gz", help="UTKFace.tar.gz or its unpacked folder")
    parser.add_argument("--split", type=Path, default=DATASETS / "utkface_split.csv")
    parser.add_argument("--cache", type=Path, default=Path(".cache"), help="where decoded arrays are kept")
    return parser
