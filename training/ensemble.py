"""Pack trained networks into the one Keras model that ships: one network, or the average of several.

Usage: ``python -m training.ensemble --members runs/a [runs/b ...] --out model``

The result is one Keras model with the same uint8 input and the same three named outputs as
any single network, so export, evaluation and serving do not change; several members (of one
input size) are averaged. Weights are stored at half precision (``training.compact``) so the
artifacts stay within their 30 MB budget. ``config.json`` lists each member's training and
``history.csv`` each member's epochs.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import keras
from keras import layers

from model.history import write_history
from model.labels import OUTPUTS
from training.compact import round_to_half, save_deflated

log = logging.getLogger("training.ensemble")


def read_config(run_dir: Path) -> dict:
    return json.loads((run_dir / "config.json").read_text())


def load_members(run_dirs: list[Path]) -> list[keras.Model]:
    """The trained networks of ``training.finetune``'s folders, renamed so several can share a model."""
    networks = []
    for index, run_dir in enumerate(run_dirs, start=1):
        network = keras.saving.load_model(run_dir / "face2data.keras", compile=False)
        networks.append(keras.Model(network.input, network.output, name=f"member{index}"))
    sizes = {network.input_shape[1] for network in networks}
    if len(sizes) > 1:
        raise ValueError(f"members must share one input size, got {sorted(sizes)}")
    return networks


def average_networks(networks: list[keras.Model]) -> keras.Model:
    """One model whose outputs are the members' mean distributions (the network itself when alone)."""
    if len(networks) == 1:
        return networks[0]
    faces = keras.Input(networks[0].input_shape[1:], dtype="uint8", name="image")
    outputs = [network(faces) for network in networks]
    return keras.Model(faces, {name: mean_of([output[name] for output in outputs], name) for name in OUTPUTS}, name="face2data")


def mean_of(distributions: list[keras.KerasTensor], name: str) -> keras.KerasTensor:
    """The members' mean distribution, as a mean over a stacked axis rather than ``layers.Average``.

    ``Average`` divides the sum by n, which the converter turns into a product with the
    constant 1/n, and the half-precision export rounds that constant: with three members every
    output summed to 0.99976 instead of 1. A pooled mean carries no float constant.
    """
    width = distributions[0].shape[-1]
    stacked = layers.Concatenate(axis=1, name=f"{name}_members")([layers.Reshape((1, width))(distribution) for distribution in distributions])
    return layers.GlobalAveragePooling1D(name=name)(stacked)


def ensemble_config(configs: list[dict], mirror: bool) -> dict:
    """config.json of the shipped model: the members' own settings, and what serving needs."""
    members = [{"input_size": config["input"]["size"], **config["training"], "wall_time_s": config["wall_time_s"]} for config in configs]
    return {
        **configs[0],
        "test_time_augmentation": {"mirror": mirror, "zooms": [1.0]},
        "training": {"members": members, "epochs": sum(member["epochs"] for member in members)},
        "weights": "float16",
        "wall_time_s": round(sum(member["wall_time_s"] for member in members), 1),
    }


def build(run_dirs: list[Path], out: Path, mirror: bool = False) -> keras.Model:
    """Write face2data.keras, config.json and history.csv of the model made of ``run_dirs``."""
    networks = load_members(run_dirs)
    for network in networks:
        round_to_half(network)
    model = average_networks(networks)
    out.mkdir(parents=True, exist_ok=True)
    save_deflated(model, out / "face2data.keras")
    config = ensemble_config([read_config(run_dir) for run_dir in run_dirs], mirror)
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    write_history(out / "history.csv", [run_dir / "history.csv" for run_dir in run_dirs])
    log.info("wrote %s: %d member(s), input %d px", out, len(networks), model.input_shape[1])
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.ensemble", description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=Path, nargs="+", required=True, help="folders written by training.finetune")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mirror", choices=("yes", "no"), default="no", help="average each face with its mirror image at test time")
    args = parser.parse_args(argv)
    build(args.members, args.out, args.mirror == "yes")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
