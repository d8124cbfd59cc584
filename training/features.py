"""The frozen stem's output for every face and view, computed once and kept on disk.

Fine-tuning only the last blocks of FaceRes means the first blocks give the same output for a
given face every epoch. Computing that output once, for a few views of each training face
(the face, its mirror and augmented copies), makes an epoch several times cheaper on a CPU;
each epoch then draws one view per face, so the network still sees varied pixels.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from training.augment import augment, cut_by_frame

log = logging.getLogger(__name__)


def view_images(images: np.ndarray, view: int, seed: int, batch_size: int = 256) -> np.ndarray:
    """View ``view`` of every face: 0 the face, 1 its mirror, 2+ an augmented copy (``training.augment``), some cut by the frame."""
    if view == 0:
        return images
    if view == 1:
        return images[:, :, ::-1]
    batches = [
        augment(tf.constant(images[start : start + batch_size]), tf.constant([seed + view, start], tf.int32)).numpy()
        for start in range(0, len(images), batch_size)
    ]
    return cut_by_frame(np.concatenate(batches), np.random.default_rng([seed, view]))


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
    """Batches of cached feature maps with their targets; each epoch draws one view per face at random.

    ``weights`` (per output, per face) leave a face's unknown labels out of the loss, as for
    photos labelled with gender alone; ``repeats`` (per face) draws a small set's faces more
    than once an epoch, each time in another view.
    """

    def __init__(
        self,
        features: np.ndarray,
        targets: dict[str, np.ndarray],
        batch_size: int,
        training: bool,
        seed: int = 0,
        weights: dict[str, np.ndarray] | None = None,
        repeats: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.features, self.targets, self.batch_size, self.training, self.weights = features, targets, batch_size, training, weights
        count = features.shape[1]
        self._rows = np.repeat(np.arange(count), repeats) if repeats is not None else np.arange(count)
        self._random = np.random.default_rng(seed)
        self.on_epoch_end()

    def on_epoch_end(self) -> None:
        count = len(self._rows)
        self._order = self._random.permutation(self._rows) if self.training else self._rows
        self._views = self._random.integers(0, self.features.shape[0], count) if self.training else np.zeros(count, int)

    def __len__(self) -> int:
        count = len(self._rows)
        return count // self.batch_size if self.training else -(-count // self.batch_size)

    def __getitem__(self, index: int) -> tuple:
        window = slice(index * self.batch_size, (index + 1) * self.batch_size)
        sort = np.argsort(self._order[window], kind="stable")  # the memory-mapped cache reads fastest in order
        rows, views = self._order[window][sort], self._views[window][sort]
        batch = np.asarray(self.features[views, rows], dtype=np.float32)
        targets = {name: values[rows] for name, values in self.targets.items()}
        if self.weights is None:
            return batch, targets
        return batch, targets, {name: values[rows] for name, values in self.weights.items()}
