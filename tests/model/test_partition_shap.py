"""Partition SHAP: the game's rules hold, and the maps are shap's own."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from model.partition_shap import halves, partition_shap_values
from support import ROOT

SHAPE = (7, 5, 3)  # all three axes split, unevenly
RNG = np.random.default_rng(0)
IMAGE = RNG.integers(0, 256, SHAPE).astype(np.uint8)
BACKGROUND = RNG.integers(0, 256, SHAPE).astype(np.uint8)
WEIGHTS = RNG.normal(size=SHAPE)


def additive(images: np.ndarray) -> np.ndarray:
    return (images * WEIGHTS).sum(axis=(1, 2, 3))


def interacting(images: np.ndarray) -> np.ndarray:
    """Not additive: the left half's pixels gate the right half's."""
    left, right = images[:, :3].astype(float), images[:, 3:].astype(float)
    return np.tanh(left.mean(axis=(1, 2, 3)) / 100) * right.mean(axis=(1, 2, 3)) + (images[:, 0, 0, 0] > 128)


def test_an_additive_function_gives_each_value_its_own_contribution():
    values = partition_shap_values(additive, IMAGE, BACKGROUND, max_evals=100_000, batch_size=64)
    np.testing.assert_allclose(values, WEIGHTS * (IMAGE.astype(float) - BACKGROUND), atol=1e-9)


@pytest.mark.parametrize("max_evals", [2, 10, 50, 500])
def test_the_values_add_up_to_the_whole_change_at_any_budget(max_evals):
    values = partition_shap_values(interacting, IMAGE, BACKGROUND, max_evals=max_evals, batch_size=8)
    whole = interacting(np.stack([IMAGE]))[0] - interacting(np.stack([BACKGROUND]))[0]
    assert values.shape == SHAPE and values.sum() == pytest.approx(whole, abs=1e-9)


def test_a_budget_of_only_the_two_ends_spreads_the_change_evenly():
    values = partition_shap_values(interacting, IMAGE, BACKGROUND, max_evals=2, batch_size=8)
    assert np.ptp(values) < 1e-12 and values.flat[0] != 0


def test_halves_split_the_widest_side_then_the_next_axes():
    assert halves(((0, 7), (0, 5), (0, 3))) == (((0, 3), (0, 5), (0, 3)), ((3, 7), (0, 5), (0, 3)))
    assert halves(((0, 2), (0, 5), (0, 3))) == (((0, 2), (0, 2), (0, 3)), ((0, 2), (2, 5), (0, 3)))
    assert halves(((4, 5), (2, 3), (0, 3))) == (((4, 5), (2, 3), (0, 1)), ((4, 5), (2, 3), (1, 3)))


def test_an_image_and_a_background_of_other_shapes_are_refused():
    with pytest.raises(ValueError, match="shape"):
        partition_shap_values(additive, IMAGE, BACKGROUND[:6], max_evals=10, batch_size=8)


# Runs in a fresh process with numba's compiler off (shap's kernels as Python: seconds, not a
# compile of tens of seconds): shap 0.51's PartitionExplainer and Image masker against ours,
# on the shipped network's gender output for a real face, at the shipped budget.
COMPARE = """
import json
import numpy as np
import shap
from PIL import Image
from model.attribution import MAX_EVALS, SHAP_BATCH, attribution_map, blurred, output_function
from model.predictor import get_predictor

predictor = get_predictor()
(face,) = predictor.predict(Image.open("tests/fixtures/astronaut.png"))
evaluate, _ = output_function(predictor, face, "gender")
pixels = predictor.face_pixels(face)
masker = shap.maskers.Image(blurred(pixels).astype(np.float64), pixels.shape)
explainer = shap.Explainer(lambda images: evaluate(np.round(images).astype(np.uint8)), masker, algorithm="partition")
theirs = explainer(pixels[None].astype(np.float64), max_evals=MAX_EVALS, batch_size=SHAP_BATCH, silent=True).values[0].sum(axis=-1)
ours = attribution_map(evaluate, pixels)
print(json.dumps({"difference": float(np.abs(ours - theirs).max()), "scale": float(np.abs(theirs).max())}))
"""


@pytest.mark.subprocesses
def test_the_face_maps_are_those_of_shaps_partition_explainer():
    environment = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    output = subprocess.run([sys.executable, "-c", COMPARE], cwd=ROOT, env=environment, capture_output=True, text=True, check=True)
    result = json.loads(output.stdout.strip().splitlines()[-1])
    assert result["scale"] > 0 and result["difference"] <= 1e-9 * result["scale"]
