"""Average trained networks into the one Keras model that ships.

Usage: ``python -m training.ensemble --members runs/a runs/b --out model``

Networks trained at different resolutions make different mistakes, and on the validation
split the mean of their distributions beat each of them and every test-time view tried
(docs/model.md). The result is one Keras model with the same uint8 input and the same three
named outputs as any single network, so export, evaluation and serving do not change. The
input is the largest member's size; a smaller member sees the face resized to its own size
inside the model (on val, as accurate as its own bicubic crops).
Weights are stored at half precision (``training.compact``) so the artifacts fit in 20 MB.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from pathlib import Path

import keras
from keras import layers, ops

from model.runtime import OUTPUTS
from training.architecture import make_model
from training.compact import fold_batch_norm, round_to_half, save_deflated

log = logging.getLogger("training.ensemble")


def read_config(run_dir: Path) -> dict:
    return json.loads((run_dir / "config.json").read_text())


def load_member(run_dir: Path, config: dict, name: str, input_dtype: str = "uint8") -> keras.Model:
    """The trained network of ``training.train``'s folder (``config`` is its config.json), renamed so several can share a model."""
    training = config["training"]
    network = make_model(config["input"]["size"], tuple(training["widths"]), training["blocks_per_stage"], name=name, input_dtype=input_dtype)
    network.set_weights(keras.saving.load_model(run_dir / "face2data.keras", compile=False).get_weights())
    return network


def networks_of(run_dir: Path, config: dict, size: int, first_index: int) -> list[keras.Model]:
    """The networks of one folder: a from-scratch network, a fine-tuned FaceRes, or every member of an earlier ensemble.

    A network smaller than ``size`` takes float input (it is fed a resized face); members are
    named ``member<index>`` in order from ``first_index``.
    """

    def dtype(input_size: int) -> str:
        return "uint8" if input_size == size else "float32"

    members = config["training"].get("members")
    if members:
        stored = keras.saving.load_model(run_dir / "face2data.keras", compile=False)
        nested = [layer for layer in stored.layers if isinstance(layer, keras.Model)]
        networks = []
        for index, (member, trained) in enumerate(zip(members, nested, strict=True), start=first_index):
            network = make_model(
                member["input_size"],
                tuple(member["widths"]),
                member["blocks_per_stage"],
                name=f"member{index}",
                input_dtype=dtype(member["input_size"]),
            )
            network.set_weights(trained.get_weights())
            networks.append(network)
        return networks
    if config["training"].get("backbone"):
        if config["input"]["size"] != size:
            raise ValueError(f"{run_dir}: a fine-tuned FaceRes must be the ensemble's largest network")
        network = keras.saving.load_model(run_dir / "face2data.keras", compile=False)
        return [keras.Model(network.input, network.output, name=f"member{first_index}")]
    return [load_member(run_dir, config, f"member{first_index}", dtype(config["input"]["size"]))]


def average_networks(networks: list[keras.Model], size: int) -> keras.Model:
    """One model whose outputs are the members' mean distributions, for ``size`` pixel faces.

    A smaller member gets the face resized to its own size, left in floating point: rounding
    it to uint8 would turn tiny differences between TensorFlow's and LiteRT's resizing into
    whole pixel levels.
    """
    if len(networks) == 1:
        return networks[0]
    faces = keras.Input((size, size, 3), dtype="uint8", name="image")
    pixels = ops.cast(faces, "float32")
    outputs = [
        network(
            faces
            if network.input_shape[1] == size
            else layers.Resizing(network.input_shape[1], network.input_shape[1], name=f"{network.name}_resize")(pixels)
        )
        for network in networks
    ]
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


def ensemble_config(configs: list[dict], size: int, mirror: bool) -> dict:
    """config.json of the ensemble: the members' own settings, and what serving needs."""
    members = [
        member
        for config in configs
        for member in (
            config["training"].get("members") or [{"input_size": config["input"]["size"], **config["training"], "wall_time_s": config["wall_time_s"]}]
        )
    ]
    return {
        **configs[0],
        "input": {**configs[0]["input"], "size": size},
        "preprocessing": f"{configs[0]['preprocessing']}; smaller members resize inside the model (bilinear)",
        "test_time_augmentation": {"mirror": mirror, "zooms": [1.0]},
        "training": {"members": members, "epochs": sum(member["epochs"] for member in members)},
        "weights": "float16",
        "wall_time_s": round(sum(member["wall_time_s"] for member in members), 1),
        "machine": configs[-1]["machine"],
    }


def write_history(path: Path, run_dirs: list[Path]) -> None:
    """history.csv of all members, one block of epochs each, told apart by a ``member`` column."""
    rows: list[dict] = []
    for run_dir in run_dirs:
        first = 1 + max((int(row["member"]) for row in rows), default=0)
        with (run_dir / "history.csv").open(newline="") as stream:
            rows += [{**row, "member": first + int(row.get("member", 1)) - 1} for row in csv.DictReader(stream)]
    columns = list(dict.fromkeys(["member", *(column for row in rows for column in row)]))
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def build(run_dirs: list[Path], out: Path, mirror: bool = True) -> keras.Model:
    """Write face2data.keras, config.json and history.csv of the ensemble of ``run_dirs``."""
    configs = [read_config(run_dir) for run_dir in run_dirs]
    size = max(config["input"]["size"] for config in configs)
    networks: list[keras.Model] = []
    for run_dir, config in zip(run_dirs, configs, strict=True):
        networks += networks_of(run_dir, config, size, len(networks) + 1)
    for network in networks:
        fold_batch_norm(network)
        round_to_half(network)
    model = average_networks(networks, size)
    out.mkdir(parents=True, exist_ok=True)
    save_deflated(model, out / "face2data.keras")
    config = ensemble_config(configs, size, mirror)
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    write_history(out / "history.csv", run_dirs)
    log.info("wrote %s: %d members, input %d px", out, len(networks), model.input_shape[1])
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.ensemble", description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=Path, nargs="+", required=True, help="folders written by training.train")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mirror", choices=("yes", "no"), default="yes", help="average each face with its mirror image at test time")
    args = parser.parse_args(argv)
    build(args.members, args.out, args.mirror == "yes")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
