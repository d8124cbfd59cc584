"""The Face2Data network: one residual trunk shared by three named heads.

A shared trunk learns face features once for all three tasks (multi-task learning helps
each of them on UTKFace), and pre-activation-free residual blocks with batch norm train
fast and stably from scratch, which matters when there are no pretrained weights.
"""

import keras
from keras import layers

from model.labels import GENDERS, MAX_AGE, RACES


def _conv_bn_relu(x, filters: int, strides: int = 1):
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def _residual_block(x, filters: int, strides: int):
    shortcut = x
    y = _conv_bn_relu(x, filters, strides)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    if strides != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False)(shortcut)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def _head(features, name: str, units: int, hidden: int, dropout: float):
    x = layers.Dense(hidden, activation="relu", name=f"{name}_hidden")(features)
    x = layers.Dropout(dropout)(x)
    return layers.Dense(units, activation="softmax", name=name)(x)


def make_model(
    image_size: int = 64,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    blocks_per_stage: int = 1,
    head_units: int = 128,
    dropout: float = 0.3,
    name: str = "face2data",
    input_dtype: str = "uint8",
) -> keras.Model:
    """Build the multi-output model: uint8 RGB in; ``age``, ``gender``, ``race`` distributions out.

    Pixel scaling is the first layer so that the exported ``.tflite`` takes plain uint8 RGB.
    The ``age`` output is a distribution over 0..MAX_AGE years (see ``training.losses``).
    """
    if image_size < 32 or not widths:
        raise ValueError("image_size must be at least 32 and widths must not be empty")
    inputs = keras.Input((image_size, image_size, 3), dtype=input_dtype, name="image")
    x = layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = _conv_bn_relu(x, widths[0])
    for filters in widths:
        for block in range(blocks_per_stage):
            x = _residual_block(x, filters, strides=2 if block == 0 else 1)
    features = layers.GlobalAveragePooling2D()(x)
    outputs = {
        "age": _head(features, "age", MAX_AGE + 1, head_units, dropout),
        "gender": _head(features, "gender", len(GENDERS), head_units, dropout),
        "race": _head(features, "race", len(RACES), head_units, dropout),
    }
    return keras.Model(inputs, outputs, name=name)
