"""Test-time views: zoom, mirror and averaging, alone and through the shipped network."""

import numpy as np
import pytest

from model.config import MODEL_DIR, load_config
from model.runtime import load_network
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


def test_shipped_network_averages_the_views_its_config_names():
    config = load_config()
    network = load_network(MODEL_DIR, config)
    zooms, mirror = config.test_time_zooms, config.test_time_mirror
    assert network.zooms == zooms and network.mirror == mirror and len(zooms) >= 1
    faces = np.random.default_rng(1).integers(0, 255, (2, config.input_size, config.input_size, 3), dtype=np.uint8)
    raw = network.run(views_of(faces, zooms, mirror))
    predicted = network.predict(faces)
    views = len(zooms) * (2 if mirror else 1)
    for name in ("age", "gender", "race"):
        assert np.allclose(predicted[name], raw[name].reshape(views, -1, raw[name].shape[1]).mean(axis=0), atol=1e-6)
        assert np.allclose(predicted[name].sum(axis=1), 1, atol=1e-4)
