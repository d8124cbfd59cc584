"""Training augmentation: uint8 in and out, reproducible per seed, and it really varies the faces."""

import numpy as np
import tensorflow as tf

from training.augment import augment


def _faces(n: int = 16, size: int = 32) -> tf.Tensor:
    return tf.constant(np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8))


def test_augment_keeps_the_input_contract():
    faces = _faces()
    augmented = augment(faces, tf.constant([1, 2], tf.int32))
    assert augmented.dtype == tf.uint8 and augmented.shape == faces.shape


def test_augment_is_reproducible_per_seed_and_varies_across_seeds():
    faces = _faces()
    first, again = (augment(faces, tf.constant([1, 2], tf.int32)).numpy() for _ in range(2))
    other = augment(faces, tf.constant([3, 4], tf.int32)).numpy()
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert not np.array_equal(first, faces.numpy())


def test_a_flat_face_keeps_one_grey_level_per_channel_set():
    """Light, contrast and zoom move a flat face's level but never draw structure into it."""
    flat = tf.constant(np.full((8, 32, 32, 3), 128, np.uint8))
    augmented = augment(flat, tf.constant([5, 6], tf.int32)).numpy().astype(int)
    assert (augmented.max(axis=(1, 2)) - augmented.min(axis=(1, 2)) <= 1).all()
