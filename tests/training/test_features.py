"""What the trained part of FaceRes is fed when every layer trains: faces, augmented afresh."""

from collections import Counter

import numpy as np

from training.features import FaceBatches


def _faces(count: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Random uint8 faces; each one's "age" target is its index, so a batch says which faces it holds."""
    images = np.random.default_rng(0).integers(0, 256, (count, 16, 16, 3), dtype=np.uint8)
    return images, {"age": np.arange(count, dtype=np.float32)}


def test_training_batches_cover_every_face_once_as_itself_its_mirror_or_an_augmented_copy():
    images, targets = _faces(256)
    batches = FaceBatches(images, targets, 64, training=True, seed=1)
    kinds, seen = Counter(), []
    for index in range(len(batches)):
        faces, batch_targets = batches[index]
        assert faces.dtype == np.uint8 and faces.shape == (64, 16, 16, 3)
        for face, row in zip(faces, batch_targets["age"].astype(int), strict=True):
            seen.append(row)
            kinds["face" if np.array_equal(face, images[row]) else "mirror" if np.array_equal(face, images[row][:, ::-1]) else "augmented"] += 1
    assert sorted(seen) == list(range(256))
    assert 100 <= kinds["augmented"] <= 156 and 40 <= kinds["face"] <= 90 and 40 <= kinds["mirror"] <= 90, kinds


def test_validation_batches_are_the_faces_unchanged_in_order():
    images, targets = _faces(100)
    batches = FaceBatches(images, targets, 64, training=False)
    assert len(batches) == 2
    faces = np.concatenate([batches[index][0] for index in range(len(batches))])
    assert np.array_equal(faces, images)
