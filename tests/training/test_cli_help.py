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
        ("training.wise", "--alphas"),
        ("training.outside", "--outside"),
        ("benchmarks.load_with_batch", "--photos"),
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


def test_finetunes_defaults_are_the_shipped_recipe():
    """``make train`` passes no setting: the defaults must be what trained the shipped network."""
    from model.config import MODEL_DIR, ModelConfig
    from training.finetune import loss_weights, parse_args

    args = parse_args(["--out", "runs/x"])
    shipped = ModelConfig.from_file(MODEL_DIR / "config.json")
    recipe = {
        key: vars(args)[key]
        for key in (
            "epochs",
            "batch_size",
            "learning_rate",
            "warmup_epochs",
            "weight_decay",
            "label_smoothing",
            "frozen_blocks",
            "views",
            "head_units",
            "dropout",
            "seed",
        )
    }
    assert {key: shipped.training[key] for key in recipe} == recipe
    assert loss_weights(args) == shipped.training["loss_weights"] and args.image_size == shipped.input_size
