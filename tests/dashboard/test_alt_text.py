"""Words for charts: each says what its figure shows, from the same numbers."""

from dashboard.alt_text import confusion_text, curve_text, probabilities_text, summary_texts
from model.batch.summary import summarise
from model.predictor import get_predictor


def test_bars_read_most_likely_first_in_percent():
    assert probabilities_text("Race", {"White": 0.05, "Asian": 0.9, "Black": 0.05}) == "Race: Asian 90%, White 5%, Black 5%."


def test_a_curve_says_its_best_validation_epoch():
    history = {"epoch": [0.0, 1.0, 2.0], "age_mae": [9.0, 7.0, 6.0], "val_age_mae": [8.0, 6.5, 6.9]}
    assert curve_text(history, "age_mae", "Age MAE", False, ".2f") == "Age MAE per epoch: best validation 6.50 at epoch 2 of 3; train 7.00 then."


def test_a_confusion_matrix_says_each_class_recall_and_its_commonest_mistake():
    text = confusion_text([[8, 2, 0], [1, 9, 0], [3, 0, 1]], ["a", "b", "c"], "Race confusion")
    assert text == (
        "Race confusion, recall per true class: a read right 80%, most often mistaken for b; "
        "b read right 90%, most often mistaken for a; c read right 25%, most often mistaken for a."
    )


def test_the_batch_summary_has_words_for_each_of_its_charts():
    columns = {
        "file": ["a.jpg", "b.jpg"],
        "face": [0, 0],
        "box": [[0, 0, 10, 10], [0, 0, 20, 20]],
        "age": [30.0, 41.0],
        "error": [None, None],
    }
    config = get_predictor().config
    for labels in config.labels.values():
        for index, label in enumerate(labels):
            columns[f"p_{label}"] = [1.0 if index == 0 else 0.0] * 2
    texts = summary_texts(summarise(columns, config, get_predictor().artifacts.references, draws=20))
    assert set(texts) == {"ages", "gender", "race", "age-group", "faces-per-photo"}
    assert texts["ages"] == "Predicted age of 2 faces, from 30 to 41 years." and texts["faces-per-photo"] == "Faces per photo: 2 photos with 1 face."
    assert texts["race"].startswith("Race, adjusted shares with 95% intervals: White") and "expected 100%" in texts["race"]
