"""SHAP maps must point at what really moves the output (a faithfulness test on real faces)."""

import io

import numpy as np
import pytest
from PIL import Image

from model.attribution import attribution_map, blurred, output_function
from model.predictor import get_predictor
from training.dataset import iter_images, read_split

pytestmark = pytest.mark.full_split

FACES = 50
FRACTION = 0.2


def test_masking_the_most_attributed_pixels_moves_the_output_more_than_random(datasets):
    predictor = get_predictor()
    split_of = read_split(datasets / "utkface_split.csv")
    rng = np.random.default_rng(0)
    top_changes, random_changes = [], []
    for name, data in iter_images(datasets / "UTKFace.tar.gz"):
        if split_of.get(name) != "test":
            continue
        (face,) = predictor.predict(Image.open(io.BytesIO(data)).convert("RGB"), skip_detection=True)
        evaluate, _ = output_function(predictor, face, "gender")
        pixels = predictor.face_pixels(face)
        grid = attribution_map(evaluate, pixels)
        hidden = blurred(pixels)
        count = int(FRACTION * grid.size)
        top = np.zeros(grid.size, bool)
        top[np.argsort(grid.ravel())[-count:]] = True
        chance = np.zeros(grid.size, bool)
        chance[rng.choice(grid.size, count, replace=False)] = True
        candidates = [np.where(mask.reshape(grid.shape)[..., None], hidden, pixels) for mask in (top, chance)]
        original, masked_top, masked_random = evaluate(np.stack([pixels, *candidates]))
        top_changes.append(abs(original - masked_top))
        random_changes.append(abs(original - masked_random))
        if len(top_changes) == FACES:
            break
    top_mean, random_mean = float(np.mean(top_changes)), float(np.mean(random_changes))
    print(
        f"\nfaithfulness on {FACES} test faces (gender): masking the top 20% moves the output by {top_mean:.4f}, a random 20% by {random_mean:.4f} ({top_mean / random_mean:.1f}x)"
    )
    assert top_mean >= 2 * random_mean
