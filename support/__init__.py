"""Helpers shared by the tests, the benchmarks and the docs scripts, so that none imports another.

Development only: nothing here is part of the served app or the training code.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
"""Committed test images (a few UTKFace-style crops, photos with and without faces, broken files)."""
