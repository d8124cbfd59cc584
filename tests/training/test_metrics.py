import numpy as np

from training.contract import AGE_GROUPS, GENDERS, RACES
from training.metrics import compute_metrics


def one_hot(indices: list[int], classes: int) -> np.ndarray:
    return np.eye(classes)[indices]


def test_figures_per_age_band_show_where_in_life_each_head_fails():
    """Children's gender is wrong here, adults' right: the bands must say so, and list only bands with faces."""
    age = np.array([1.0, 5.0, 8.0, 25.0, 27.0, 75.0])
    gender = [0, 1, 0, 1, 0, 1]
    predicted_gender = [1, 1, 1, 1, 0, 1]
    race = [0, 1, 2, 3, 4, 0]
    metrics = compute_metrics(
        age,
        age + np.array([1, 1, 1, 2, 2, 6]),
        np.array(gender),
        one_hot(predicted_gender, 2),
        np.array(race),
        one_hot(race, 5),
        GENDERS,
        RACES,
        AGE_GROUPS,
    )
    bands = metrics["by_age_band"]
    assert list(bands) == ["0-2", "3-9", "20-29", "70+"]
    assert bands["3-9"] == {"n_images": 2, "age_mae": 1.0, "gender_accuracy": 0.5, "race_accuracy": 1.0}
    assert bands["0-2"]["gender_accuracy"] == 0.0
    assert bands["20-29"]["gender_accuracy"] == 1.0 and bands["20-29"]["age_mae"] == 2.0
    assert bands["70+"]["age_mae"] == 6.0
    assert metrics["gender_accuracy"] == round(4 / 6, 4)
