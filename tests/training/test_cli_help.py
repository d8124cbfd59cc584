import subprocess
import sys

import pytest

from support import ROOT


@pytest.mark.subprocesses
@pytest.mark.parametrize(
    ("module", "flag"),
    [
        ("training.finetune", "--frozen-blocks"),
        ("training.calibrate", "--model-dir"),
        ("training.evaluate", "--model-dir"),
        ("training.export", "--model-dir"),
        ("training.export_detector", "--out"),
        ("training.face_template", "--count"),
        ("training.dataset_summary", "--split"),
        ("training.robustness", "--model-dir"),
        ("benchmarks.compare_peers", "--limit"),
        ("benchmarks.latency", "--runs"),
    ],
)
def test_every_command_line_tool_explains_itself(module, flag):
    result = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and flag in result.stdout and "usage:" in result.stdout


def test_finetune_refuses_bad_settings(capsys):
    from training.finetune import parse_args

    base = ["--data", "x", "--split", "y", "--out", "z"]
    for option, message in (
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--epochs", "1", "--frozen-blocks", "13"], "--frozen-blocks must be between 0 and 12"),
        (["--epochs", "1", "--views", "0"], "--views must be at least 1"),
    ):
        with pytest.raises(SystemExit):
            parse_args([*base, *option])
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--zooms", "1.0", "0.9"], ["--mirror", "no"]])
def test_evaluate_tries_other_views_on_val_only(capsys, option):
    from training import evaluate

    with pytest.raises(SystemExit):
        evaluate.main(["--on", "test", *option])
    assert "--zooms and --mirror are for choosing on val" in capsys.readouterr().err
