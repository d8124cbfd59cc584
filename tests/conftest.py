"""Shared fixtures. In CI (``CI=true``) a missing dataset or browser fails the run instead of skipping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import FIXTURES
from training.cli import DATASETS

ARCHIVE = DATASETS / "UTKFace.tar.gz"
SPLIT_CSV = DATASETS / "utkface_split.csv"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip a test locally when an external resource is missing; fail it in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def datasets() -> Path:
    require(ARCHIVE.exists() and SPLIT_CSV.exists(), f"UTKFace archive and split CSV in {DATASETS}")
    return DATASETS


@pytest.fixture
def fixture_bytes():
    return lambda name: (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def outside() -> Path:
    """The labelled photos from other sources (``lag/``, ``frl/``) that training and ``training.outside`` read."""
    root = DATASETS / "outside"
    require((root / "lag" / "labels.csv").exists() and (root / "frl" / "labels.csv").exists(), f"the outside sets in {root}")
    return root
