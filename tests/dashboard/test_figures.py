import dataclasses
import json

from dash import dcc
from PIL import Image

from dashboard.constants import class_colours
from dashboard.figures import confusion_figure, photo_figure, probability_bars, reliability_figure, training_curve
from dashboard.tabs.about import network_sentence
from dashboard.tabs.evaluation import evaluation_tab
from dashboard.tabs.training import training_tab
from model.config import MODEL_DIR
from model.history import read_history
from model.predictor import get_predictor


def test_training_curve_marks_the_best_validation_epoch():
    history = {"epoch": [0, 1, 2], "age_mae": [9.0, 7.0, 6.0], "val_age_mae": [8.0, 6.5, 6.9]}
    figure = training_curve(history, "age_mae", "Age MAE", higher_is_better=False, tick_format=".2f")
    train, validation, best = figure.data
    assert list(train.x) == [1, 2, 3] and list(validation.y) == [8.0, 6.5, 6.9]
    assert list(best.x) == [2] and list(best.y) == [6.5] and best.name == "best (epoch 2)"
    accuracy = training_curve({"epoch": [0, 1], "race_accuracy": [0.5, 0.6], "val_race_accuracy": [0.7, 0.65]}, "race_accuracy", "Race", True, ".1%")
    assert list(accuracy.data[2].x) == [1]


def test_shipped_history_has_every_curve():
    history = read_history(MODEL_DIR / "history.csv")
    for column in ("loss", "gender_accuracy", "race_accuracy", "age_mae"):
        assert len(history[column]) == len(history[f"val_{column}"]) == len(history["epoch"]) == get_predictor().config.training["epochs"]


def test_probability_bars_are_sorted_and_in_percent():
    figure = probability_bars({"male": 0.2, "female": 0.8}, {"male": "#00f", "female": "#f00"}, "Gender")
    (bars,) = figure.data
    assert list(bars.y) == ["male", "female"]  # plotly draws the last bar on top: most likely on top
    assert list(bars.text) == ["20%", "80%"] and list(bars.marker.color) == ["#00f", "#f00"]


def test_confusion_figure_normalises_rows():
    figure = confusion_figure([[8, 2], [1, 9]], ["male", "female"], "Gender")
    (heatmap,) = figure.data
    assert [list(row) for row in heatmap.z] == [[0.8, 0.2], [0.1, 0.9]]
    assert [list(row) for row in heatmap.customdata] == [[8, 2], [1, 9]]


def test_photo_figure_draws_one_numbered_box_per_face():
    figure = photo_figure(Image.new("RGB", (400, 300)), [[10, 20, 50, 60], [200, 100, 40, 40]])
    assert len(figure.layout.shapes) == 2 and [a.text for a in figure.layout.annotations] == ["<b>1</b>", "<b>2</b>"]
    assert figure.layout.shapes[1].x1 == 240 and figure.layout.images[0].source.startswith("data:image/jpeg;base64,")


def test_photo_figure_shows_the_whole_photo_whatever_the_boxes():
    """The axes span the photo, not the last face's box (a loop variable once shadowed the photo's size and zoomed on it)."""
    figure = photo_figure(Image.new("RGB", (1500, 900)), [[10, 20, 50, 60], [200, 100, 40, 30]])
    assert tuple(figure.layout.xaxis.range) == (0, 1500) and tuple(figure.layout.yaxis.range) == (900, 0)
    assert (figure.layout.images[0].sizex, figure.layout.images[0].sizey) == (1500, 900) and figure.layout.height == 312


def test_training_tab_draws_four_curves_or_says_how_to_get_them(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text(
        "epoch,loss,val_loss,gender_accuracy,val_gender_accuracy,race_accuracy,val_race_accuracy,age_mae,val_age_mae\n"
        "0,3,2.9,0.8,0.85,0.7,0.75,6,5.5\n1,2.8,2.7,0.85,0.88,0.75,0.8,5,5.2\n"
    )
    curves = read_history(history)
    assert curves["epoch"] == [0.0, 1.0] and curves["val_age_mae"] == [5.5, 5.2]
    assert str(training_tab(curves)).count("training-graph") == 4
    assert "make train" in str(training_tab({}))


def test_the_about_tab_reads_the_network_from_config():
    config = get_predictor().config
    sentence = network_sentence(dataclasses.replace(config, input_size=128, max_age=99))
    assert "(128x128 input)" in sentence and "over 0-99 years" in sentence


def test_reliability_figure_draws_both_curves_against_the_diagonal():
    before = [{"confidence": 0.9, "accuracy": 0.7, "n": 30}, {"confidence": 0.99, "accuracy": 0.95, "n": 300}]
    after = [{"confidence": 0.75, "accuracy": 0.72, "n": 40}]
    diagonal, raw, calibrated = reliability_figure(before, after, "Gender").data
    assert list(diagonal.x) == [0, 1] and list(raw.y) == [0.7, 0.95] and list(calibrated.x) == [0.75]
    assert raw.marker.size[1] > raw.marker.size[0]  # the bigger bin draws the bigger marker


def test_the_evaluation_tab_charts_each_head_per_age_band():
    metrics = json.loads((MODEL_DIR / "metrics.json").read_text())
    titles = {
        component.figure.layout.title.text: component.figure
        for component in evaluation_tab(metrics, class_colours(get_predictor().config))._traverse()
        if isinstance(component, dcc.Graph)
    }
    gender = titles["Gender accuracy per age band"].data[0]
    assert list(gender.x) == list(metrics["by_age_band"]) and list(gender.y) == [row["gender_accuracy"] for row in metrics["by_age_band"].values()]
    assert {"Age MAE per age band (years)", "Race accuracy per age band"} <= set(titles)


def test_the_evaluation_tab_tables_the_outside_sets_with_a_dash_for_missing_labels():
    metrics = json.loads((MODEL_DIR / "metrics.json").read_text())
    outside = {
        "sets": {
            "lag young, held-out": {"n_images": 321, "gender_accuracy": 0.9, "gender_ece": 0.04},
            "frl": {
                "n_images": 244,
                "gender_accuracy": 0.97,
                "gender_ece": 0.02,
                "race_accuracy": 0.91,
                "race_ece": 0.05,
                "others_recall": 0.1,
                "age_mae": 4.0,
            },
        }
    }
    tab = evaluation_tab(metrics, class_colours(get_predictor().config), outside)
    rows = [component for component in tab._traverse() if getattr(component, "_type", "") == "Tr"]
    cells = [[str(cell.children) for cell in row.children] for row in rows]
    assert cells[1] == ["lag young, held-out", "321", "90.0%", "0.040", "-", "-", "-", "-"]
    assert cells[2][-1] == "4.00" and cells[2][4] == "91.0%"
    assert not any(
        getattr(component, "_type", "") == "Table" for component in evaluation_tab(metrics, class_colours(get_predictor().config))._traverse()
    )


def test_the_dataset_tab_names_every_source_training_read():
    from dashboard.tabs.dataset import dataset_tab

    summary = get_predictor().artifacts.dataset_summary
    colours = class_colours(get_predictor().config)

    def words(tab) -> str:
        return " ".join(str(component.children) for component in tab._traverse() if isinstance(getattr(component, "children", None), str))

    assert "1,158 web photos of children and adults" in words(dataset_tab(summary, colours, {"train": 18966, "lag_train": 1158}))
    assert "LAG (Large Age-Gap)" not in words(dataset_tab(summary, colours, {"train": 18966}))
