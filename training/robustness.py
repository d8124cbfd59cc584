"""How the shipped model holds up on the photos people really upload, measured on val.

Usage: ``python -m training.robustness [--model-dir model]``

Each validation crop is degraded (grayscale, blur, darkening, heavy JPEG compression)
before the shared preprocessing, and the figures are compared with the clean ones.
Writes ``model/robustness.json`` and prints a Markdown table.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from model.config import ModelConfig
from model.runtime import load_network
from training.cli import artifact_parser
from training.dataset import load_splits
from training.evaluate import evaluate_arrays


def _jpeg(image: Image.Image, quality: int = 15) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


CORRUPTIONS: dict[str, Callable[[Image.Image], Image.Image] | None] = {
    "clean": None,
    "grayscale": lambda image: ImageOps.grayscale(image).convert("RGB"),
    "blur (Gaussian, radius 2 px of 200)": lambda image: image.convert("RGB").filter(ImageFilter.GaussianBlur(2)),
    "dark (brightness x0.4)": lambda image: ImageEnhance.Brightness(image.convert("RGB")).enhance(0.4),
    "JPEG quality 15": _jpeg,
}


def main(argv: list[str] | None = None) -> dict:
    args = artifact_parser("python -m training.robustness", __doc__).parse_args(argv)
    config = ModelConfig.from_file(args.model_dir / "config.json")
    network = load_network(args.model_dir, config)
    results = {}
    for name, corrupt in CORRUPTIONS.items():
        val = load_splits(args.data, args.split, config.input_size, splits=("val",), corrupt=corrupt)["val"]
        metrics = evaluate_arrays(network, config, val)
        results[name] = {key: metrics[key] for key in ("n_images", "age_mae", "gender_accuracy", "race_accuracy")}
    (args.model_dir / "robustness.json").write_text(json.dumps({"split": "val", "results": results}, indent=2) + "\n")
    clean = results["clean"]
    print("| validation faces | age MAE (years) | gender accuracy | race accuracy |\n|---|---|---|---|")
    for name, row in results.items():
        delta = "" if name == "clean" else f" ({row['gender_accuracy'] - clean['gender_accuracy']:+.1%})"
        print(f"| {name} | {row['age_mae']:.2f} | {row['gender_accuracy']:.1%}{delta} | {row['race_accuracy']:.1%} |")
    return results


if __name__ == "__main__":
    main()
