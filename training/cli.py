"""Command-line pieces shared by the training tools: where the data is, and common flags."""

from __future__ import annotations

import argparse
from pathlib import Path

from model.config import MODEL_DIR

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
"""``../shared/datasets`` beside the repository: where the project keeps UTKFace and its split."""


def artifact_parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """A parser with the flags of tools that read a trained model and the dataset."""
    parser = argparse.ArgumentParser(prog=prog, description=(doc or "").split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    parser.add_argument("--data", type=Path, default=DATASETS / "UTKFace.tar.gz", help="UTKFace.tar.gz or its unpacked folder")
    parser.add_argument("--split", type=Path, default=DATASETS / "utkface_split.csv")
    parser.add_argument("--cache", type=Path, default=Path(".cache"), help="where decoded arrays are kept")
    return parser
