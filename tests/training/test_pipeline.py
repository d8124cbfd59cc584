"""The training input pipeline: mixup and cutmix blend faces and labels alike, and only when asked."""

import numpy as np
import pytest
import tensorflow as tf

from training.dataset import SplitArrays
from training.pipeline import blend_with_teacher, cut_mix, make_dataset, mix_up


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


def test_cut_mix_pastes_real_pixels_and_blends_labels_by_the_pasted_area():
    images, targets = _batch()
    mixed, mixed_targets = cut_mix(images, targets, tf.constant([3, 4], tf.int64), alpha=1.0)
    pixels = mixed.numpy()[..., 0].astype(np.float32)
    assert set(np.unique(pixels)) <= set(np.unique(images.numpy())), "cutmix must not blend pixel values"
    np.testing.assert_allclose(pixels.mean(axis=(1, 2)), mixed_targets["age"].numpy(), atol=1e-3)
    own_share = (pixels == images.numpy()[..., 0]).mean(axis=(1, 2))
    assert (own_share >= 0.5).all() and (own_share < 1).any()


def _flat_grey_batches_mixed(mixup_alpha: float, cutmix_alpha: float, batches: int = 8) -> list[str]:
    """How each training batch of flat grey faces came out: "cut", "blend" or "none".

    Augmentation keeps a flat face flat and a blend of two flat faces is flat too, so only a
    pasted box leaves two grey levels inside one face.
    """
    n = 16 * batches
    levels = (np.arange(n) * 2).astype(np.uint8)
    arrays = SplitArrays(
        files=[f"{i}.jpg" for i in range(n)],
        images=np.broadcast_to(levels[:, None, None, None], (n, 32, 32, 3)).copy(),
        age=np.arange(n),
        gender=np.arange(n) % 2,
        race=np.arange(n) % 5,
    )
    kinds = []
    for images, targets in make_dataset(arrays, 16, training=True, seed=3, mixup_alpha=mixup_alpha, cutmix_alpha=cutmix_alpha):
        race = targets["race"].numpy()
        two_levels = any(len(np.unique(face)) > 1 for face in images.numpy()[..., 0])
        kinds.append("cut" if two_levels else "blend" if ((race > 0) & (race < 1)).any() else "none")
    return kinds


def test_with_mixup_and_cutmix_each_batch_takes_one_of_the_two():
    kinds = _flat_grey_batches_mixed(mixup_alpha=0.4, cutmix_alpha=1.0)
    assert set(kinds) == {"cut", "blend"}, kinds
    assert set(_flat_grey_batches_mixed(mixup_alpha=0.4, cutmix_alpha=0.0)) == {"blend"}
    assert set(_flat_grey_batches_mixed(mixup_alpha=0.0, cutmix_alpha=1.0)) == {"cut"}
    assert set(_flat_grey_batches_mixed(mixup_alpha=0.0, cutmix_alpha=0.0)) == {"none"}


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


def test_teacher_targets_blend_by_weight_follow_file_names_and_reach_the_batches(tmp_path):
    arrays = _arrays()
    reversed_files = arrays.files[::-1]
    race = np.full((len(arrays), 5), 0.2, dtype=np.float32)
    np.savez(tmp_path / "teacher.npz", files=reversed_files, gender=np.tile([[0.9, 0.1]], (len(arrays), 1)), race=race)

    soft = blend_with_teacher(arrays, tmp_path / "teacher.npz", weight=0.25)

    np.testing.assert_allclose(soft["race"], 0.75 * np.eye(5)[arrays.race] + 0.05, atol=1e-6)
    np.testing.assert_allclose(soft["gender"][:, 0], 0.75 * (arrays.gender == 0) + 0.225, atol=1e-6)
    batch = next(iter(make_dataset(arrays, len(arrays), training=False, soft_targets=soft)))[1]
    np.testing.assert_allclose(batch["race"].numpy(), soft["race"])


def test_teacher_without_a_training_face_is_refused(tmp_path):
    arrays = _arrays()
    np.savez(tmp_path / "teacher.npz", files=arrays.files[1:], gender=np.zeros((len(arrays) - 1, 2)), race=np.zeros((len(arrays) - 1, 5)))
    with pytest.raises(ValueError, match="no targets for 1 training faces"):
        blend_with_teacher(arrays, tmp_path / "teacher.npz", weight=0.5)
