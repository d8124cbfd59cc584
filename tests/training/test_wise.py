"""WiSE-FT: the blend reaches both ends, leaves the heads alone, and the rule picks as it says."""

import keras
import numpy as np

from training import faceres
from training.wise import choose, interpolate, pretrained_blocks


def _tuned() -> keras.Model:
    frozen, top = faceres.make_model(32, 11, head_units=8)
    for layer in top.layers:
        layer.set_weights([weight + 0.5 for weight in layer.get_weights()])
    return faceres.join(frozen, top, 11)


def test_the_blend_runs_from_pretrained_to_fine_tuned_and_keeps_the_heads():
    tuned = _tuned()
    start = pretrained_blocks(tuned, 11)
    assert sorted(start) == ["conv_dw_12", "conv_dw_13", "conv_pw_12", "conv_pw_13"]
    for alpha in (0.0, 0.5, 1.0):
        blended = interpolate(tuned, start, alpha)
        for name, weights in start.items():
            expected = [(1 - alpha) * w0 + alpha * w1 for w0, w1 in zip(weights, tuned.get_layer(name).get_weights(), strict=True)]
            for got, want in zip(blended.get_layer(name).get_weights(), expected, strict=True):
                np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
        for name in ("gender", "race_hidden", "conv_pw_11"):
            for got, want in zip(blended.get_layer(name).get_weights(), tuned.get_layer(name).get_weights(), strict=True):
                np.testing.assert_array_equal(got, want)


def test_the_rule_takes_val_within_noise_then_the_outside_score():
    candidates = {
        1.0: {"val_selection_error": 0.300, "val_standard_error": 0.010, "outside_score": 0.90},
        0.8: {"val_selection_error": 0.305, "val_standard_error": 0.010, "outside_score": 0.93},
        0.6: {"val_selection_error": 0.330, "val_standard_error": 0.010, "outside_score": 0.99},
    }
    assert choose(candidates) == 0.8  # 0.6 reads outside best, but val is past its noise
    candidates[0.8]["outside_score"] = 0.90
    assert choose(candidates) == 1.0  # a tie goes to the network closer to the fine-tuned one
