"""The explainer's warm-up: a fresh process reports it, and is ready once it has run."""

import subprocess
import sys

import pytest

from support import ROOT


@pytest.mark.subprocesses
def test_a_fresh_process_warms_the_explainer_up():
    code = (
        "from model.attribution import explainer_state, warm_up; from model.predictor import get_predictor;"
        "before = explainer_state(); warm_up(get_predictor()); print(before, '|', explainer_state())"
    )
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert output == "warming up | ready"
