"""Pack one trained network into the folder that ships (``model/shipped``).

Usage: ``python -m training.pack --run runs/faceres160 [--out model/shipped]``

``training.finetune`` leaves a run folder; this step rounds every weight to float16 and
stores the Keras file deflated, so the artifacts stay within their 30 MB budget, and copies
the run's ``config.json`` (marked ``weights: float16``) and ``history.csv`` beside it. The
export (``training.export``) then stores the ``.tflite`` weights at float16 too, so both files
hold the same numbers and the export check compares like with like. FaceRes's own weights
were float16 in its package; the fine-tuned ones move by under 1e-3.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import zipfile
from pathlib import Path

import keras
import numpy as np

from model.config import MODEL_DIR

log = logging.getLogger("training.pack")


def round_to_half(network: keras.Model) -> None:
    """Round every weight to the nearest float16 value (stored still as float32), in place."""
    for variable in network.weights:
        variable.assign(np.asarray(variable).astype(np.float16).astype(np.float32))


def save_deflated(model: keras.Model, path: Path) -> None:
    """Save a ``.keras`` file with its zip members compressed.

    Keras stores them uncompressed; float32 values rounded to float16 end in two mostly-zero
    bytes, so deflate about halves the weights file. Keras reads either kind of zip.
    """
    model.save(path)
    with zipfile.ZipFile(path) as stored:
        members = [(info.filename, stored.read(info)) for info in stored.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as deflated:
        for name, data in members:
            deflated.writestr(name, data)


def pack(run_dir: Path, out: Path) -> keras.Model:
    """Write face2data.keras (half precision), config.json and history.csv of the run in ``run_dir`` to ``out``."""
    network = keras.saving.load_model(run_dir / "face2data.keras", compile=False)
    round_to_half(network)
    out.mkdir(parents=True, exist_ok=True)
    save_deflated(network, out / "face2data.keras")
    config = {**json.loads((run_dir / "config.json").read_text()), "weights": "float16"}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    shutil.copyfile(run_dir / "history.csv", out / "history.csv")
    log.info("wrote %s: input %d px", out, network.input_shape[1])
    return network


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.pack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="a folder written by training.finetune")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    args = parser.parse_args(argv)
    pack(args.run, args.out)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
