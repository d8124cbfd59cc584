"""What the trained part of FaceRes is fed: the frozen stem's output, cached, or the faces themselves.

Fine-tuning only the last blocks of FaceRes means the first blocks give the same output for a
given face every epoch. Computing that output once, for a few views of each training face
(the face, its mirror and augmented copies), makes an epoch several times cheaper on a CPU;
each epoch then draws one view per face, so the network still sees varied pixels. When every
layer trains there is nothing to cache, and each batch is augmented afresh instead.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from training.augment import augment

log = logging.getLogger(__name__)


def view_images(images: np.ndarray, view: int, seed: int, batch_size: int = 256) -> np.ndarray:
    """View ``view`` of every face: 0 the face, 1 its mirror, 2+ an augmented copy (``training.augment.augment``)."""
    if view == 0:
        return images
    if view == 1:
        return images[:, :, ::-1]
    batches = [
        augment(tf.constant(images[start : start + batch_size]), tf.constant([seed + view, start], tf.int32)).numpy()
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(batches)


def stem_features(stem: keras.Model, images: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """The stem's feature maps of ``images``, stored at half precision (they are ReLU6 outputs, 0..6)."""
    out = np.empty((len(images), *stem.output.shape[1:]), np.float16)
    for start in range(0, len(images), batch_size):
        out[start : start + batch_size] = stem.predict_on_batch(images[start : start + batch_size]).astype(np.float16)
    return out


def cached_views(stem: keras.Model, images: np.ndarray, views: int, seed: int, path: Path) -> np.ndarray:
    """``(views, n, h, w, c)`` float16 feature maps of ``images``, read from ``path`` when it exists.

    The file name must say what made it (stem, size, views, seed): the cache never checks.
    """
    if path.exists():
        return np.load(path, mmap_mode="r")
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = np.lib.format.open_memmap(
        path.with_suffix(".partial.npy"), mode="w+", dtype=np.float16, shape=(views, len(images), *stem.output.shape[1:])
    )
    for view in range(views):
        stored[view] = stem_features(stem, view_images(images, view, seed))
        log.info("stem features: view %d of %d (%d faces) -> %s", view + 1, views, len(images), path)
    stored.flush()
    del stored
    path.with_suffix(".partial.npy").rename(path)
    return np.load(path, mmap_mode="r")


class ViewBatches(keras.utils.PyDataset):
    """Batches of cached feature maps with their targets; each epoch draws one view per face at random."""

    def __init__(self, features: np.ndarray, targets: dict[str, np.ndarray], batch_size: int, training: bool, seed: int = 0) -> None:
        super().__init__()
        self.features, self.targets, self.batch_size, self.training = features, targets, batch_size, training
        self._random = np.random.default_rng(seed)
        self.on_epoch_end()

    def on_epoch_end(self) -> None:
        count = self.features.shape[1]
        self._order = self._random.permutation(count) if self.training else np.arange(count)
        self._views = self._random.integers(0, self.features.shape[0], count) if self.training else np.zeros(count, int)

    def __len__(self) -> int:
        count = self.features.shape[1]
        return count // self.batch_size if self.training else -(-count // self.batch_size)

    def rows(self, index: int) -> np.ndarray:
        """The faces of batch ``index``, in storage order (memory-mapped reads stay sequential)."""
        return np.sort(self._order[index * self.batch_size : (index + 1) * self.batch_size])

    def __getitem__(self, index: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        rows = self.rows(index)
        batch = np.asarray(self.features[self._views[rows], rows], dtype=np.float32)
        return batch, {name: values[rows] for name, values in self.targets.items()}


class FaceBatches(ViewBatches):
    """Batches of uint8 faces with their targets, for training every layer.

    In training, half the faces of each batch (drawn at random) go through
    ``training.augment.augment`` and the others are the face or its mirror: the same mix as the
    four cached views (the face, its mirror and two augmented copies), but drawn afresh each
    time, since nothing is cached.
    """

    def __init__(self, images: np.ndarray, targets: dict[str, np.ndarray], batch_size: int, training: bool, seed: int = 0) -> None:
        super().__init__(images[None], targets, batch_size, training, seed)

    def __getitem__(self, index: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        rows = self.rows(index)
        faces = self.features[0, rows]
        if self.training:
            faces = np.where((self._random.random(len(rows)) < 0.5)[:, None, None, None], faces[:, :, ::-1], faces)
            augmented = self._random.random(len(rows)) < 0.5
            if augmented.any():
                seed = tf.constant(self._random.integers(0, 2**31 - 1, 2), tf.int32)
                faces[augmented] = augment(tf.constant(faces[augmented]), seed).numpy()
        return faces, {name: values[rows] for name, values in self.targets.items()}
