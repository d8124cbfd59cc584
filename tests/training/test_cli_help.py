import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("module", "flag"),
    [
        ("training.train", "--epochs"),
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


def test_train_refuses_zero_epochs():
    result = subprocess.run(
        [sys.executable, "-m", "training.train", "--data", "x", "--split", "y", "--epochs", "0", "--out", "z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "--epochs must be at least 1" in result.stderr


@pytest.mark.parametrize(
    ("option", "attribute", "message"),
    [
        ("--mixup", "mixup", "--mixup must be 0 (off) or a positive alpha"),
    ],
)
def test_train_refuses_negative_regularisation_settings(capsys, option, attribute, message):
    from training.train import parse_args

    base = ["--data", "x", "--split", "y", "--epochs", "1", "--out", "z"]
    assert getattr(parse_args([*base, option, "0.2"]), attribute) == 0.2
    with pytest.raises(SystemExit):
        parse_args([*base, option, "-0.2"])
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--zooms", "1.0", "0.9"], ["--mirror", "no"]])
def test_evaluate_tries_other_views_on_val_only(capsys, option):
    from training import evaluate

    with pytest.raises(SystemExit):
        evaluate.main(["--on", "test", *option])
    assert "--zooms and --mirror are for choosing on val" in capsys.readouterr().err
