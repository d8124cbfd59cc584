"""The Python API: its documented examples run, every kind of input reads the same, and it answers as the REST API does."""

import doctest
import json

import numpy as np
import pytest
from PIL import Image

import model
from model import api
from model.decode import ImageError
from support import FIXTURES, ROOT


def test_the_documented_examples_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testmod(api, raise_on_error=False)
    assert tried >= 4 and failures == 0


def test_a_path_bytes_an_image_and_an_array_read_alike(fixture_bytes):
    path = FIXTURES / "group.jpg"
    photo = Image.open(path).convert("RGB")
    answers = [model.analyze(source) for source in (path, str(path), fixture_bytes("group.jpg"), photo, np.asarray(photo))]
    boxes = [[face.box for face in faces] for faces in answers]
    assert len(boxes[0]) == 6 and all(found == boxes[0] for found in boxes)


def test_it_answers_as_the_rest_api_does(fixture_bytes):
    from dashboard.app import create_app

    rest = (
        create_app()
        .server.test_client()
        .post("/api/v1/predict", data=fixture_bytes("group_selfie.jpg"), content_type="image/jpeg")
        .get_json()["faces"]
    )
    assert [face.to_dict() for face in model.analyze(fixture_bytes("group_selfie.jpg"))] == json.loads(json.dumps(rest))


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ImageError):
        model.analyze(b"not a photo")
    with pytest.raises(ValueError, match="uint8 RGB"):
        model.analyze(np.zeros((8, 8), np.float32))
    with pytest.raises(IndexError, match="no face 3"):
        model.explain(FIXTURES / "astronaut.png", face=3)
    with pytest.raises(AttributeError):
        model.predict_everything  # noqa: B018
