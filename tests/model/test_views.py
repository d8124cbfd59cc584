"""Test-time views: zoom, mirror and averaging, alone and through the shipped network."""

import numpy as np
import pytest

from model.calibration import calibrate
from model.config import MODEL_DIR
from model.predictor import get_predictor
from model.runtime import Network, load_network
from model.views import average_views, views_of, zoom


def centred_square(size: int = 64, side: int = 32) -> np.ndarray:
    face = np.zeros((1, size, size, 3), np.uint8)
    start = (size - side) // 2
    face[:, start : start + side, start : start + side] = 255
    return face


def test_zoom_enlarges_the_centre_and_scale_one_changes_nothing():
    face = centred_square()
    assert zoom(face, 1.0) is face
    zoomed = zoom(face, 0.5)
    assert zoomed.shape == face.shape and zoomed.dtype == np.uint8
    # The centred half of the side was the white square: zoomed by 2, it fills the whole face.
    assert (zoomed[0, 2:-2, 2:-2] > 200).all()
    assert (zoom(face, 0.8)[0] > 127).mean() == pytest.approx((32 / 0.8) ** 2 / 64**2, abs=0.03)


@pytest.mark.parametrize("scale", [0.0, -0.5, 1.2])
def test_zoom_refuses_scales_outside_zero_to_one(scale):
    with pytest.raises(ValueError, match="zoom scale"):
        zoom(centred_square(), scale)


def test_views_are_each_zoom_then_each_mirror_and_average_per_face():
    faces = np.random.default_rng(0).integers(0, 255, (3, 32, 32, 3), dtype=np.uint8)
    views = views_of(faces, (1.0, 0.9))
    assert views.shape == (12, 32, 32, 3)
    assert np.array_equal(views[:3], faces) and np.array_equal(views[6:9], faces[:, :, ::-1])
    assert np.array_equal(views[9:], views[3:6][:, :, ::-1])
    # Outputs that are the view index: every face averages 0..3.
    outputs = np.repeat(np.arange(4.0), 3)[:, None]
    assert np.array_equal(average_views(outputs, 3), np.full((3, 1), 1.5))


def test_views_without_mirror_are_only_the_zooms():
    faces = np.random.default_rng(0).integers(0, 255, (3, 32, 32, 3), dtype=np.uint8)
    views = views_of(faces, (1.0, 0.9), mirror=False)
    assert views.shape == (6, 32, 32, 3)
    assert np.array_equal(views[:3], faces) and np.array_equal(views[3:], zoom(faces, 0.9))


def test_network_averages_every_view_then_calibrates():
    config = get_predictor().config
    shipped = load_network(MODEL_DIR, config)
    assert (shipped.zooms, shipped.mirror, shipped.temperatures) == (config.test_time_zooms, config.test_time_mirror, config.temperatures)
    faces = np.random.default_rng(1).integers(0, 255, (2, config.input_size, config.input_size, 3), dtype=np.uint8)
    # The shipped views, and zooms with mirrors, which the shipped config does not use but a config may name.
    for zooms, mirror in ((config.test_time_zooms, config.test_time_mirror), ((1.0, 0.9), True)):
        network = Network(MODEL_DIR / "face2data.tflite", zooms=zooms, mirror=mirror, temperatures=config.temperatures)
        raw = network.run(views_of(faces, zooms, mirror))
        views = len(zooms) * (2 if mirror else 1)
        expected = calibrate({name: values.reshape(views, -1, values.shape[1]).mean(axis=0) for name, values in raw.items()}, config.temperatures)
        predicted = network.predict(faces)
        for name in ("age", "gender", "race"):
            assert np.allclose(predicted[name], expected[name], atol=1e-6)
            assert np.allclose(predicted[name].sum(axis=1), 1, atol=1e-4)
        if views > 1:
            assert not np.allclose(predicted["race"], calibrate({"race": raw["race"][:2]}, config.temperatures)["race"], atol=1e-4)
