"""The README and docs/ describe the product: figures generated from their one home, no talk of hosts or paths outside the repository."""

import re

import pytest

from support import ROOT
from support.readme import README, generated_block, readme_block

DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readmes_results_table_matches_metrics_and_benchmarks():
    assert readme_block(README.read_text()) == generated_block(), "run `make docs`"


def test_the_readme_stays_a_short_reference():
    assert len(README.read_text()) <= 12_000


@pytest.mark.parametrize("path", DOCS, ids=lambda path: path.name)
def test_docs_speak_of_the_product_not_of_how_it_was_built(path):
    text = path.read_text()
    for pattern in (r"\.\./shared", r"\bthis machine\b", r"\bour machine\b", r"shared VM", r"\bthis session\b", r"\bon this host\b", r"\bhere\)"):
        assert not re.search(pattern, text, re.I), (path.name, pattern)
