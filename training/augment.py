"""Face-safe augmentation of uint8 face batches: what real uploads vary in.

Augmentation runs here, on batches, and never inside the exported model: random layers
block the TFLite conversion, and serving must see unaugmented pixels. The augmented batch
is rounded back to uint8 so the network's input contract stays the same as at serving.
``training.features`` caches the frozen blocks' output of augmented copies of each face.
"""

import numpy as np
import tensorflow as tf

from model.align import extend_frame

ZOOM_RANGE = (0.85, 1.0)
"""Each training face is a random square crop of this fraction of the side, resized back."""
CUT_SHARE = 0.5
"""Share of augmented faces cut by a frame edge (:func:`cut_by_frame`)."""
CUT_RANGE = (0.1, 0.5)
"""How much of the crop's side lies beyond the frame in a cut face: up to half, where half the face is gone."""


def _as_pixels(x: tf.Tensor) -> tf.Tensor:
    """Round a float batch back to uint8 pixels: the network's input contract at serving."""
    return tf.cast(tf.clip_by_value(tf.round(x), 0.0, 255.0), tf.uint8)


def augment(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Flip, zoom/shift, light, colour, grayscale and blur: what real uploads vary in.

    Takes and returns a uint8 batch ``(n, s, s, 3)``; ``seed`` is a ``(2,)`` int tensor so
    each batch draws its own, reproducible randomness.
    """
    n = tf.shape(images)[0]
    size = tf.shape(images)[1]
    seeds = tf.random.experimental.stateless_split(seed, 8)
    x = tf.cast(images, tf.float32)
    x = tf.image.stateless_random_flip_left_right(x, seeds[0])
    # Random zoom (scale in ZOOM_RANGE) and shift: boxes in normalised coordinates.
    scale = tf.random.stateless_uniform((n, 1), seeds[1], *ZOOM_RANGE)
    offset = tf.random.stateless_uniform((n, 2), seeds[2], 0.0, 1.0) * (1.0 - scale)
    boxes = tf.concat([offset, offset + scale], axis=1)
    x = tf.image.crop_and_resize(x, boxes, tf.range(n), tf.stack([size, size]))
    # Brightness (darker photos too), contrast and saturation, per image.
    brightness = tf.random.stateless_uniform((n, 1, 1, 1), seeds[3], 0.6, 1.3)
    contrast = tf.random.stateless_uniform((n, 1, 1, 1), seeds[4], 0.7, 1.3)
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    x = (x - mean) * contrast + mean * brightness
    gray = tf.image.rgb_to_grayscale(x)
    draws = tf.random.stateless_uniform((n, 1, 1, 1, 2), seeds[5])
    saturation = 0.6 + 0.8 * draws[..., 0]
    saturation = tf.where(draws[..., 1] < 0.1, 0.0, saturation)  # 10% fully grayscale
    x = gray + (x - gray) * saturation
    blur_draw = tf.random.stateless_uniform((n, 1, 1, 1), seeds[6])
    blurred = tf.nn.avg_pool2d(x, ksize=3, strides=1, padding="SAME")
    x = tf.where(blur_draw < 0.15, blurred, x)
    return _as_pixels(x)


def cut_by_frame(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A share (``CUT_SHARE``) of a uint8 batch's faces cut by the frame on one side, filled as serving fills them.

    A face that reaches past the photo's edge is aligned into a crop whose missing side
    ``model.align.extend_frame`` fills with repeated edge pixels; the network is trained on
    exactly such crops, a random side and ``CUT_RANGE`` share of the crop beyond the frame.
    """
    out = images.copy()
    size = images.shape[1]
    for index in np.flatnonzero(rng.random(len(images)) < CUT_SHARE):
        cut = int(rng.uniform(*CUT_RANGE) * size)
        side = ("top", "bottom", "left", "right")[rng.integers(4)]
        kept = {
            "top": images[index, cut:],
            "bottom": images[index, : size - cut],
            "left": images[index, :, cut:],
            "right": images[index, :, : size - cut],
        }
        out[index] = extend_frame(kept[side], **{side: cut})
    return out
