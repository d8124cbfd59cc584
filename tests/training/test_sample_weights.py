"""Children's gender weighed more: the per-face loss weights reach Keras with the right faces."""

import numpy as np

from training.dataset import SplitArrays
from training.features import ViewBatches
from training.finetune import parse_args, sample_weights_of, targets_of


def _arrays(ages: list[int]) -> SplitArrays:
    count = len(ages)
    return SplitArrays(
        np.array([f"{i}.jpg" for i in range(count)]),
        np.zeros((count, 4, 4, 3), np.uint8),
        np.array(ages, np.float32),
        np.arange(count) % 2,
        np.arange(count) % 5,
    )


def _args(*options: str):
    return parse_args(["--data", "d", "--split", "s", "--epochs", "1", "--out", "o", *options])


def test_only_children_gender_is_weighed_more():
    arrays = _arrays([1, 9, 10, 35, 80, 4])
    weights = sample_weights_of(arrays, _args("--child-gender-weight", "3"))
    assert weights["gender"].tolist() == [3, 3, 1, 1, 1, 3]
    assert weights["age"].tolist() == weights["race"].tolist() == [1] * 6
    assert sample_weights_of(arrays, _args()) is None


def test_batches_carry_each_face_its_own_weight():
    ages = list(range(0, 64, 2))
    arrays = _arrays(ages)
    features = np.arange(len(ages), dtype=np.float32).reshape(1, -1, 1, 1, 1)
    batches = ViewBatches(
        features, targets_of(arrays), 8, training=True, seed=3, sample_weights=sample_weights_of(arrays, _args("--child-gender-weight", "2"))
    )
    for index in range(len(batches)):
        inputs, targets, weights = batches[index]
        assert np.array_equal(weights["gender"], np.where(targets["age"] < 10, 2.0, 1.0))
        assert np.array_equal(inputs.ravel(), np.array([ages.index(age) for age in targets["age"]], np.float32))
