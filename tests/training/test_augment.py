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


def test_cut_faces_repeat_the_frame_edge_as_serving_fills_it():
    from training.augment import CUT_RANGE, CUT_SHARE, cut_by_frame

    faces = np.random.default_rng(1).integers(0, 256, (400, 40, 40, 3), dtype=np.uint8)
    cut = cut_by_frame(faces, np.random.default_rng(2))
    assert cut.dtype == np.uint8 and cut.shape == faces.shape
    changed = np.flatnonzero((cut != faces).any(axis=(1, 2, 3)))
    assert abs(len(changed) / len(faces) - CUT_SHARE) < 0.08
    for index in changed[:50]:
        face, original = cut[index], faces[index]
        # one side is a run of one repeated row or column, as long as CUT_RANGE allows; the rest is the face, unmoved
        runs = {
            "top": next(r for r in range(40) if not np.array_equal(face[r], face[r + 1])),
            "bottom": next(r for r in range(40) if not np.array_equal(face[39 - r], face[38 - r])),
            "left": next(c for c in range(40) if not np.array_equal(face[:, c], face[:, c + 1])),
            "right": next(c for c in range(40) if not np.array_equal(face[:, 39 - c], face[:, 38 - c])),
        }
        side, length = max(runs.items(), key=lambda item: item[1])
        assert CUT_RANGE[0] * 40 - 1 <= length <= CUT_RANGE[1] * 40
        kept = {"top": np.s_[length:], "bottom": np.s_[: 40 - length], "left": np.s_[:, length:], "right": np.s_[:, : 40 - length]}[side]
        assert np.array_equal(face[kept], original[kept])
