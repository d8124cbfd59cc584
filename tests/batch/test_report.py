"""The collection summary: expected and adjusted shares with honest intervals, one face per photo, and a page that needs no network."""

import re

import numpy as np
import pandas as pd
import pytest

from model.batch.quantify import Reference, adjusted_shares, expected_shares
from model.batch.report import report_html
from model.batch.summary import summarise
from model.predictor import get_predictor
from training.contract import GENDERS, RACES


def columns(frame: pd.DataFrame) -> dict:
    return {column: frame[column].to_numpy() for column in frame.columns}


def table(faces: int = 200, seed: int = 1) -> pd.DataFrame:
    """Two faces per photo (the second always smaller), one photo without a face and one unreadable file."""
    rng = np.random.default_rng(seed)
    config = get_predictor().config
    rows = pd.DataFrame({"file": [f"photo{index // 2}.jpg" for index in range(faces)], "face": [index % 2 for index in range(faces)]})
    rows["box"] = [[0.0, 0.0, 100.0 - 50 * (index % 2), 100.0] for index in range(faces)]
    rows["age"] = rng.uniform(0, 90, faces)
    for head, alpha in (("gender", [2, 2]), ("race", [4, 1, 1, 1, 1]), ("age_group", [1] * 9)):
        probabilities = rng.dirichlet(alpha, faces)
        for index, label in enumerate(config.labels[head]):
            rows[f"p_{label}"] = probabilities[:, index]
    rows["error"] = None
    extra = pd.DataFrame(
        [
            {"file": "cat.jpg", "face": None, "box": None, "error": None},
            {"file": "broken.jpg", "face": None, "box": None, "error": "The image is damaged or truncated and cannot be decoded."},
        ]
    )
    return pd.concat([rows, extra], ignore_index=True)


def summary_of(frame: pd.DataFrame, faces: str = "all"):
    return summarise(columns(frame), get_predictor().config, get_predictor().artifacts.references, faces, draws=200)


def test_expected_shares_are_mean_probabilities_with_intervals_around_them():
    data = table()
    summary = summary_of(data)
    faces = data[data["face"].notna()]
    race = summary.heads["race"]
    assert np.allclose(race.expected.share, faces[[f"p_{label}" for label in RACES]].mean().to_numpy())
    assert (race.expected.low < race.expected.share).all() and (race.expected.share < race.expected.high).all()
    assert summary.faces == 200 and summary.files == 102 and summary.age_counts.sum() == 200
    assert summary.faces_per_photo == {0: 1, 2: 100}
    assert [file for file, _ in summary.errors] == ["broken.jpg"]


def test_adjusted_shares_are_fractions_inside_their_intervals():
    for head in ("gender", "race", "age_group"):
        adjusted = summary_of(table()).heads[head].adjusted
        assert np.isclose(adjusted.share.sum(), 1) and (adjusted.share >= 0).all() and (adjusted.share <= 1).all()
        assert (adjusted.low <= adjusted.share).all() and (adjusted.share <= adjusted.high).all() and (adjusted.high <= 1).all()


def test_largest_counts_one_face_per_photo_the_largest():
    data = table()
    summary = summary_of(data, faces="largest")
    assert summary.faces == 100 and summary.faces_counted == "largest"
    largest = data[data["face"] == 0]
    assert np.allclose(summary.heads["gender"].expected.share, largest[[f"p_{label}" for label in GENDERS]].mean().to_numpy())
    with pytest.raises(ValueError, match="largest"):
        summary_of(data, faces="some")


def test_the_summary_json_has_the_documented_shape():
    document = summary_of(table(), faces="largest").to_dict()
    config = get_predictor().config
    assert {key: document[key] for key in ("photos", "faces", "errors", "faces_counted")} == {
        "photos": 102,
        "faces": 100,
        "errors": 1,
        "faces_counted": "largest",
    }
    assert list(document["heads"]) == ["gender", "race", "age_group"]
    for head, shares in document["heads"].items():
        assert shares["labels"] == list(config.labels[head])
        for estimate in ("expected", "adjusted"):
            assert set(shares[estimate]) == {"share", "low", "high"} and all(
                len(values) == len(shares["labels"]) for values in shares[estimate].values()
            )
            assert abs(sum(shares[estimate]["share"]) - 1) < 1e-3
    assert document["heads"]["race"]["adjustment"] == "em" and document["heads"]["age_group"]["adjustment"] == "none"


def simulate(
    confusion: np.ndarray, label_prior: np.ndarray, model_prior: np.ndarray, faces: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from ``label_prior``; a model that sees a signal drawn from ``confusion`` (column j: P(signal | label j)) and
    answers its Bayes posterior under ``model_prior``, the mix it was calibrated on."""
    labels = rng.choice(len(label_prior), faces, p=label_prior)
    signals = np.array([rng.choice(len(label_prior), p=confusion[:, label]) for label in labels])
    posteriors = confusion[signals] * model_prior
    return posteriors / posteriors.sum(axis=1, keepdims=True), labels


def test_em_recovers_shifted_shares_where_expected_counts_are_biased():
    """A model that reads class 2 as class 0 half the time: a collection rich in class 2 looks rich in class 0.

    With the confusion known only through a reference set (3,000 faces), the adjusted shares of a
    shifted collection of 3,000 faces must come within 0.03 of the truth while the expected
    counts stay more than 0.1 off, and the adjusted intervals must hold the truth.
    """
    rng = np.random.default_rng(0)
    confusion = np.array([[0.9, 0.05, 0.5], [0.05, 0.9, 0.0], [0.05, 0.05, 0.5]])
    reference_prior, collection_prior = np.array([0.6, 0.3, 0.1]), np.array([0.2, 0.2, 0.6])
    reference = Reference(*simulate(confusion, reference_prior, reference_prior, 3000, rng))
    collection, labels = simulate(confusion, collection_prior, reference_prior, 3000, rng)
    truth = np.bincount(labels, minlength=3) / len(labels)
    expected = expected_shares(collection, rng, 200)
    adjusted = adjusted_shares(collection, reference, rng, 200)
    assert np.abs(expected.share - truth).max() > 0.1
    assert np.abs(adjusted.share - truth).max() < 0.03, (adjusted.share, truth)
    assert ((adjusted.low <= truth) & (truth <= adjusted.high)).all()


def test_intervals_narrow_as_the_collection_grows():
    rng = np.random.default_rng(0)
    small = expected_shares(rng.dirichlet([1, 1], 50), rng, 200)
    large = expected_shares(rng.dirichlet([1, 1], 5000), rng, 200)
    assert (large.high - large.low)[0] < (small.high - small.low)[0] / 5


def test_the_report_holds_every_summary_and_loads_nothing_from_the_network():
    page = report_html(summary_of(table()))
    for section in ("ages", "gender", "race", "age-group", "faces-per-photo", "errors"):
        assert f'id="{section}"' in page
    assert not re.search(r"<script[^>]*\ssrc=|<link\s|<img\s|@import", page)  # every script, style and image is inline
    assert "Plotly.newPlot" in page and page.count("plotly.js v") == 1  # plotly.js inlined once
    assert "broken.jpg" in page and "UTKFace val" in page and "adjusted share" in page
