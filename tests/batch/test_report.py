"""The collection summary: expected counts with bootstrap intervals, and a page that needs no network."""

import re

import numpy as np
import pandas as pd

from model.batch.report import report_html
from model.batch.summary import expected_counts, summarise
from model.predictor import get_predictor
from training.contract import GENDERS, RACES


def columns(frame: pd.DataFrame) -> dict:
    return {column: frame[column].to_numpy() for column in frame.columns}


def table(faces: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.dirichlet([2, 2], faces)
    race = rng.dirichlet([4, 1, 1, 1, 1], faces)
    rows = pd.DataFrame({"file": [f"photo{index // 2}.jpg" for index in range(faces)], "face": [index % 2 for index in range(faces)]})
    rows["age"] = rng.uniform(0, 90, faces)
    for index, label in enumerate(GENDERS):
        rows[f"p_{label}"] = gender[:, index]
    for index, label in enumerate(RACES):
        rows[f"p_{label}"] = race[:, index]
    rows["error"] = None
    extra = pd.DataFrame(
        [
            {"file": "cat.jpg", "face": None, "error": None},
            {"file": "broken.jpg", "face": None, "error": "The image is damaged or truncated and cannot be decoded."},
        ]
    )
    return pd.concat([rows, extra], ignore_index=True)


def test_shares_are_sums_of_probabilities_with_intervals_around_them():
    data = table()
    summary = summarise(columns(data), get_predictor().config)
    faces = data[data["face"].notna()]
    race = summary.shares["race"]
    assert np.allclose(race.expected, faces[[f"p_{label}" for label in RACES]].sum().to_numpy())
    assert (race.low < race.expected).all() and (race.expected < race.high).all()
    assert np.isclose(race.share.sum(), 1) and race.labels[int(np.argmax(race.share))] == "White"
    assert summary.faces == 200 and summary.files == 102 and summary.age_counts.sum() == 200
    assert summary.faces_per_photo == {0: 1, 2: 100}
    assert [file for file, _ in summary.errors] == ["broken.jpg"]


def test_intervals_narrow_as_the_collection_grows():
    rng = np.random.default_rng(0)
    small = expected_counts(rng.uniform(0, 1, (50, 1)), ["a"], rng)
    large = expected_counts(rng.uniform(0, 1, (5000, 1)), ["a"], rng)
    width = lambda shares: float((shares.high - shares.low)[0] / shares.expected[0])  # noqa: E731
    assert width(large) < width(small) / 5


def test_the_report_holds_four_summaries_and_loads_nothing_from_the_network():
    page = report_html(summarise(columns(table()), get_predictor().config))
    for section in ("ages", "gender", "race", "faces-per-photo", "errors"):
        assert f'id="{section}"' in page
    assert not re.search(r"<script[^>]*\ssrc=|<link\s|<img\s|@import", page)  # every script, style and image is inline
    assert "Plotly.newPlot" in page and page.count("plotly.js v") == 1  # plotly.js inlined once
    assert "broken.jpg" in page
