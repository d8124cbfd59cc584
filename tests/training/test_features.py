"""Batches of cached stem features: every face once an epoch (more for repeated ones), unknown labels weighted out."""

import numpy as np

from training.features import ViewBatches


def _features(views: int = 3, faces: int = 10) -> np.ndarray:
    """Each feature map holds its view and face number, so a batch says what it drew."""
    grid = np.zeros((views, faces, 2, 2, 2), np.float16)
    grid[..., 0] = np.arange(views)[:, None, None, None]
    grid[..., 1] = np.arange(faces)[None, :, None, None]
    return grid


def test_an_epoch_draws_every_face_once_in_some_view():
    targets = {"age": np.arange(10, dtype=np.float32)}
    batches = ViewBatches(_features(), targets, batch_size=5, training=True, seed=3)
    drawn = np.concatenate([batches[i][0][:, 0, 0, 1] for i in range(len(batches))])
    assert sorted(drawn.astype(int)) == list(range(10))
    first = batches[0]
    assert np.array_equal(first[1]["age"], first[0][:, 0, 0, 1])  # targets travel with their faces


def test_repeated_faces_come_back_in_other_views_with_their_weights():
    repeats = np.array([1] * 8 + [4, 4])
    weights = {"age": np.array([1.0] * 8 + [0.0, 0.0], np.float32)}
    batches = ViewBatches(_features(views=4), {"age": np.arange(10, dtype=np.float32)}, 4, training=True, seed=1, weights=weights, repeats=repeats)
    assert len(batches) == 16 // 4
    drawn = [batches[i] for i in range(len(batches))]
    faces = np.concatenate([x[:, 0, 0, 1] for x, _, _ in drawn]).astype(int)
    assert np.bincount(faces, minlength=10).tolist() == repeats.tolist()
    assert all(np.array_equal(w["age"], (x[:, 0, 0, 1] < 8).astype(np.float32)) for x, _, w in drawn)
    views_of_repeated = {int(v) for x, _, _ in drawn for v, f in zip(x[:, 0, 0, 0], x[:, 0, 0, 1], strict=True) if f >= 8}
    assert len(views_of_repeated) > 1


def test_validation_reads_every_face_in_order_unaugmented():
    batches = ViewBatches(_features(), {"age": np.arange(10, dtype=np.float32)}, batch_size=4, training=False)
    assert len(batches) == 3
    x = np.concatenate([batches[i][0] for i in range(3)])
    assert x[:, 0, 0, 1].tolist() == list(range(10)) and not x[:, 0, 0, 0].any()
