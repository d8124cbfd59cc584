"""Train the Face2Data model on the canonical UTKFace train split, choosing on val.

Usage: ``python -m training.train --data PATH --split PATH --epochs N --out DIR``

Writes ``face2data.keras`` (the best validation epoch, without optimizer state),
``history.csv`` (one row per epoch, train and ``val_`` columns) and ``config.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from pathlib import Path

import keras
import tensorflow as tf

from model.labels import GENDERS, MAX_AGE, RACES
from training.architecture import make_model
from training.dataset import load_splits_cached, sha256_of
from training.losses import age_distribution_loss, mae
from training.pipeline import make_dataset

log = logging.getLogger("training.train")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="UTKFace.tar.gz or its unpacked folder")
    parser.add_argument("--split", type=Path, required=True, help="canonical split CSV (file,...,split)")
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for the artifacts")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=2e-3, help="peak, after warm-up")
    parser.add_argument("--warmup-epochs", type=int, default=2)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--widths", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--blocks-per-stage", type=int, default=1)
    parser.add_argument(
        "--ema",
        type=float,
        default=0.0,
        help="momentum of an exponential moving average of the weights (e.g. 0.99); validated and shipped instead of the raw weights. 0 turns it off",
    )
    parser.add_argument(
        "--mixup",
        type=float,
        default=0.0,
        help="alpha of the Beta distribution that mixes training faces and their labels (e.g. 0.2); 0 turns mixup off",
    )
    parser.add_argument(
        "--initial-weights",
        type=Path,
        help="start from a trained face2data.keras (any input size: the network is fully convolutional up to its pooling), e.g. to fine-tune at a larger size",
    )
    parser.add_argument("--limit", type=int, default=0, help="use only the first N train and val images (smoke runs)")
    parser.add_argument("--cache", type=Path, default=Path(".cache"), help="where decoded arrays are kept")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="Keras progress output")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if args.mixup < 0:
        parser.error("--mixup must be 0 (off) or a positive alpha")
    return args


def compile_model(model: keras.Model, args: argparse.Namespace, steps_per_epoch: int) -> None:
    """Loss per named output, AdamW with a warm-up then cosine schedule."""
    warmup_steps = min(args.warmup_epochs, args.epochs - 1) * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=args.learning_rate / 10 if warmup_steps else args.learning_rate,
        decay_steps=max(1, (args.epochs * steps_per_epoch) - warmup_steps),
        warmup_target=args.learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
        alpha=0.01,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=args.weight_decay, use_ema=args.ema > 0, ema_momentum=args.ema or 0.99),
        loss={
            "age": age_distribution_loss,
            "gender": keras.losses.CategoricalCrossentropy(label_smoothing=args.label_smoothing),
            "race": keras.losses.CategoricalCrossentropy(label_smoothing=args.label_smoothing),
        },
        loss_weights={"age": 0.5, "gender": 1.0, "race": 1.0},
        metrics={"age": [mae], "gender": ["accuracy"], "race": ["accuracy"]},
    )


class SelectionError(keras.callbacks.Callback):
    """Adds ``val_selection_error`` to each epoch's logs: the figure that picks the checkpoint.

    ``val_loss`` is a poor choice here: the age cross-entropy keeps rising as the age
    distribution sharpens while the age MAE and both accuracies still improve. This sums what
    users see instead: age MAE in tens of years plus the gender and race error rates.
    """

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None and "val_age_mae" in logs:
            logs["val_selection_error"] = logs["val_age_mae"] / 10 + (1 - logs["val_gender_accuracy"]) + (1 - logs["val_race_accuracy"])


def write_config(path: Path, args: argparse.Namespace, data_sha256: str, wall_time_s: float, best_epoch: int, sizes: dict, recipe: dict) -> None:
    """config.json: everything serving needs (input, labels) and everything to reproduce the run (``recipe``: the trainer's own settings)."""
    config = {
        "input": {"size": args.image_size, "channels": 3, "dtype": "uint8", "color": "RGB"},
        "labels": {"gender": list(GENDERS), "race": list(RACES), "age_years": [0, MAX_AGE]},
        "outputs": {
            "age": "probability of each age 0..116 years",
            "gender": "probabilities in labels.gender order",
            "race": "probabilities in labels.race order",
        },
        "preprocessing": "model.preprocess.preprocess: aligned UTKFace-geometry crop, RGB, bicubic resize to input.size; pixel scaling is inside the model",
        # The face and its mirror image (model.views); extra zooms were measured and not kept (docs/model.md).
        "test_time_augmentation": {"mirror": True, "zooms": [1.0]},
        "training": {
            "epochs": args.epochs,
            "best_epoch": best_epoch,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
            "warmup_epochs": args.warmup_epochs,
            "weight_decay": args.weight_decay,
            "label_smoothing": args.label_smoothing,
            **recipe,
            "seed": args.seed,
            "images": sizes,
        },
        "dataset": {"source": Path(args.data).name, "sha256": data_sha256},
        "wall_time_s": round(wall_time_s, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()} {platform.release()}, TensorFlow {tf.__version__}",
    }
    path.write_text(json.dumps(config, indent=2) + "\n")


def train(args: argparse.Namespace) -> Path:
    """Run one training and return the folder holding its artifacts."""
    started = time.time()
    keras.utils.set_random_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    splits = load_splits_cached(args.data, args.split, args.image_size, args.cache)
    train_arrays, val_arrays = splits["train"], splits["val"]
    if args.limit:
        train_arrays, val_arrays = (_head(train_arrays, args.limit), _head(val_arrays, args.limit))
    batch_size = min(args.batch_size, len(train_arrays))
    train_data = make_dataset(train_arrays, batch_size, training=True, seed=args.seed, mixup_alpha=args.mixup)
    val_data = make_dataset(val_arrays, batch_size, training=False)
    architecture = {"image_size": args.image_size, "widths": tuple(args.widths), "blocks_per_stage": args.blocks_per_stage}
    model = make_model(**architecture)
    if args.initial_weights:
        model.set_weights(keras.saving.load_model(args.initial_weights, compile=False).get_weights())
    compile_model(model, args, steps_per_epoch=len(train_arrays) // batch_size)
    best_weights = args.out / "best.weights.h5"
    # Order matters: the backup keeps the raw weights; with EMA, validation and the checkpoint see the averaged ones.
    callbacks = [
        SelectionError(),
        keras.callbacks.CSVLogger(args.out / "history.csv"),
        keras.callbacks.BackupAndRestore(args.cache / "backup" / args.out.name),
        keras.callbacks.TerminateOnNaN(),
        *([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if args.ema else []),
        keras.callbacks.ModelCheckpoint(best_weights, monitor="val_selection_error", mode="min", save_best_only=True, save_weights_only=True),
    ]
    history = model.fit(train_data, validation_data=val_data, epochs=args.epochs, callbacks=callbacks, verbose=args.verbose)
    # Ship the best validation epoch as a fresh, uncompiled model: no optimizer state in the artifact.
    shipped = make_model(**architecture)
    shipped.load_weights(best_weights)
    shipped.save(args.out / "face2data.keras")
    best_weights.unlink()
    errors = history.history.get("val_selection_error", [])
    best_epoch = 1 + min(range(len(errors)), key=errors.__getitem__) if errors else args.epochs
    recipe = {
        "ema_momentum": args.ema or None,
        "mixup_alpha": args.mixup or None,
        "widths": args.widths,
        "blocks_per_stage": args.blocks_per_stage,
        "initial_weights": str(args.initial_weights) if args.initial_weights else None,
    }
    write_config(
        args.out / "config.json",
        args,
        sha256_of(args.data),
        time.time() - started,
        best_epoch,
        {"train": len(train_arrays), "val": len(val_arrays)},
        recipe,
    )
    log.info("wrote %s in %.0f s (best epoch %d)", args.out, time.time() - started, best_epoch)
    return args.out


def _head(arrays, count: int):
    return type(arrays)(*(getattr(arrays, field)[:count] for field in ("files", "images", "age", "gender", "race")))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    train(parse_args())
