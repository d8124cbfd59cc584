"""The training input pipeline: mixup blends faces and labels alike, and only when asked."""

import numpy as np
import tensorflow as tf

from training.dataset import SplitArrays
from training.pipeline import make_dataset, mix_up


def _batch(n: int = 16) -> tuple[tf.Tensor, dict]:
    """Faces of one flat grey level each, equal to their age in years: a blend shows in both alike."""
    ages = np.arange(n, dtype=np.float32) * 12
    images = np.broadcast_to(ages[:, None, None, None], (n, 8, 8, 3)).astype(np.uint8)
    targets = {
        "age": tf.constant(ages),
        "gender": tf.one_hot(np.arange(n) % 2, 2),
        "race": tf.one_hot(np.arange(n) % 5, 5),
    }
    return tf.constant(images), targets


def test_mix_up_blends_each_face_and_its_labels_by_the_same_weight():
    images, targets = _batch()
    mixed, mixed_targets = mix_up(images, targets, tf.constant([3, 4], tf.int64), alpha=0.4)
    grey = mixed.numpy()[:, 0, 0, 0].astype(np.float32)
    np.testing.assert_allclose(grey, mixed_targets["age"].numpy(), atol=0.5)
    assert not np.array_equal(mixed.numpy(), images.numpy()), "alpha 0.4 must blend some faces"


def test_mix_up_keeps_the_labels_distributions_led_by_the_face_shown_most():
    images, targets = _batch()
    _, mixed_targets = mix_up(images, targets, tf.constant([5, 6], tf.int64), alpha=1.0)
    for name in ("gender", "race"):
        mixed = mixed_targets[name].numpy()
        np.testing.assert_allclose(mixed.sum(axis=1), 1.0, atol=1e-6)
        own = mixed[np.arange(len(mixed)), targets[name].numpy().argmax(axis=1)]
        assert (own >= 0.5 - 1e-6).all()


def _arrays(n: int = 24) -> SplitArrays:
    rng = np.random.default_rng(0)
    return SplitArrays(
        files=[f"{i}.jpg" for i in range(n)],
        images=rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
        age=rng.integers(1, 90, n),
        gender=rng.integers(0, 2, n),
        race=rng.integers(0, 5, n),
    )


def test_training_batches_hold_one_hot_labels_without_mixup_and_soft_ones_with_it():
    plain = next(iter(make_dataset(_arrays(), 24, training=True, seed=1)))[1]["race"].numpy()
    mixed = next(iter(make_dataset(_arrays(), 24, training=True, seed=1, mixup_alpha=0.4)))[1]["race"].numpy()
    assert set(np.unique(plain)) == {0.0, 1.0}
    assert ((mixed > 0) & (mixed < 1)).any()
