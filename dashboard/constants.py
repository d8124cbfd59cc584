"""Colours and labels shared by every chart, so a class looks the same everywhere."""

from model.age import AGE_GROUPS
from model.labels import GENDERS, RACES

GENDER_COLOURS = dict(zip(GENDERS, ("#1f77b4", "#d62728"), strict=True))
RACE_COLOURS = dict(zip(RACES, ("#8c6d31", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"), strict=True))
AGE_GROUP_COLOURS = {label: "#636efa" for label, _, _ in AGE_GROUPS}
TRAIN_COLOUR = "#1f77b4"
VALIDATION_COLOUR = "#ff7f0e"
FACE_BOX_COLOUR = "#00e676"
PLOT_TEMPLATE = "plotly_white"
TRAINING_CURVES = (
    # (title, history column, higher is better, y-axis format)
    ("Gender accuracy", "gender_accuracy", True, ".1%"),
    ("Race accuracy", "race_accuracy", True, ".1%"),
    ("Age MAE (years)", "age_mae", False, ".2f"),
    ("Overall loss", "loss", False, ".3f"),
)
