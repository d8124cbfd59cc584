"""The Keras rebuild of FaceRes against the original TF.js graph, run node by node on real faces."""

import base64
import shutil

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from model.preprocess import preprocess
from support import FIXTURES
from training import faceres


def run_graph(topology: dict, weights: dict[str, np.ndarray], bgr_minus_means: np.ndarray) -> dict[str, np.ndarray]:
    """Execute the TF.js graph as its JSON says, op by op with TensorFlow: the reference the rebuild must match."""
    values: dict[str, tf.Tensor] = {"input_1": tf.constant(bgr_minus_means, tf.float32)}
    for node in topology["node"]:
        op, name, inputs = node["op"], node["name"], [values[i] for i in node.get("input", []) if not i.startswith("^")]
        attr = node.get("attr", {})
        if op == "Placeholder":
            continue
        if op == "Const":
            values[name] = tf.constant(weights[name])
            continue
        if op in ("Conv2D", "DepthwiseConv2dNative"):
            strides = [int(i) for i in attr["strides"]["list"]["i"]]
            padding = base64.b64decode(attr["padding"]["s"]).decode()
            convolve = tf.nn.conv2d if op == "Conv2D" else tf.nn.depthwise_conv2d
            values[name] = convolve(inputs[0], inputs[1], strides, padding)
        elif op == "_FusedMatMul":
            fused = [base64.b64decode(s).decode() for s in attr["fused_ops"]["list"]["s"]]
            out = tf.matmul(inputs[0], inputs[1]) + inputs[2]
            values[name] = tf.nn.relu(out) if "Relu" in fused else out
        else:
            function = {
                "Add": tf.add, "Mul": tf.multiply, "Relu": tf.nn.relu, "Minimum": tf.minimum, "Maximum": tf.maximum,
                "Sigmoid": tf.sigmoid, "Softmax": tf.nn.softmax,
                "Mean": lambda x, axes: tf.reduce_mean(x, axis=axes),
            }[op]  # fmt: skip
            values[name] = function(*inputs)
    return {key: values[key].numpy() for key in ("global_pooling/Mean", "gender_pred/Sigmoid", "age_pred/Softmax")}


def real_faces(size: int = faceres.NATIVE_SIZE) -> np.ndarray:
    """Fixture faces, uint8 RGB (FaceRes's native size unless told)."""
    crops = [Image.open(FIXTURES / "utkface_crop.jpg"), Image.open(FIXTURES / "astronaut.png").crop((150, 40, 330, 220))]
    crops.append(crops[0].transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    return np.stack([preprocess(crop, size) for crop in crops])


def test_keras_rebuild_matches_the_tfjs_graph_on_real_faces():
    topology, weights = faceres.read_graph()
    faces = real_faces()
    reference = run_graph(topology, weights, faces[..., ::-1].astype(np.float32) - np.array(faceres.CAFFE_MEANS_BGR, np.float32))
    rebuilt = faceres.make_zero_shot()(faces)
    np.testing.assert_allclose(np.asarray(rebuilt["feature"]), reference["global_pooling/Mean"], atol=1e-3)
    np.testing.assert_allclose(np.asarray(rebuilt["p_male"]), reference["gender_pred/Sigmoid"], atol=1e-3)
    np.testing.assert_allclose(np.asarray(rebuilt["age_bins"]), reference["age_pred/Softmax"], atol=1e-3)
    # Not vacuous: the faces differ, and the feature is far from zero.
    assert np.abs(reference["global_pooling/Mean"]).mean() > 0.05
    assert np.ptp(reference["gender_pred/Sigmoid"]) > 0.01 or np.ptp(reference["global_pooling/Mean"][:, :8]) > 0.01


def test_joined_network_is_the_stem_followed_by_the_top():
    frozen, trainable = faceres.make_model(128, frozen_blocks=6, head_units=16)
    faces = real_faces(128)
    expected = trainable(frozen(faces))
    joined = faceres.join(frozen, trainable, frozen_blocks=6)
    actual = joined(faces)
    for name in ("age", "gender", "race"):
        np.testing.assert_allclose(np.asarray(actual[name]), np.asarray(expected[name]), atol=1e-5)
    assert not frozen.trainable and trainable.trainable


def test_tampered_weights_are_refused(tmp_path):
    for name in ("faceres.json", "faceres.bin", "SHA256SUMS"):
        shutil.copy(faceres.PRETRAINED_DIR / name, tmp_path / name)
    data = bytearray((tmp_path / "faceres.bin").read_bytes())
    data[1000] ^= 0xFF
    (tmp_path / "faceres.bin").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256"):
        faceres.read_graph(tmp_path)


def test_preprocessing_is_bgr_minus_caffe_means():
    """The first layer subtracts the means in RGB order from an RGB image: the graph's BGR means, reversed."""
    stem = faceres.stem(32, 0)
    image = np.full((1, 32, 32, 3), (200, 100, 50), np.uint8)
    normalised = stem.get_layer("caffe_means")(image.astype(np.float32))
    np.testing.assert_allclose(np.asarray(normalised)[0, 0, 0], np.array((200, 100, 50)) - np.array(faceres.CAFFE_MEANS_BGR[::-1]), atol=1e-4)
