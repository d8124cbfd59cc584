"""tf.data input pipeline: batches of uint8 faces with face-safe augmentation.

Augmentation runs here, on batches, and never inside the exported model: random layers
block the TFLite conversion, and serving must see unaugmented pixels. The augmented batch
is rounded back to uint8 so the network's input contract stays the same as at serving.
"""

import tensorflow as tf

from model.labels import CLASSES
from training.dataset import SplitArrays

AUTOTUNE = tf.data.AUTOTUNE
ZOOM_RANGE = (0.85, 1.0)
"""Each training face is a random square crop of this fraction of the side, resized back."""


def _targets(arrays: SplitArrays) -> dict:
    one_hot = {task: tf.one_hot(getattr(arrays, task), classes) for task, classes in CLASSES.items()}
    return {"age": arrays.age, **one_hot}


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


def _mixing_draws(n: tf.Tensor, seed: tf.Tensor, alpha: float) -> tuple[tf.Tensor, tf.Tensor]:
    """Each face's own share ``lam ~ Beta(alpha, alpha)`` folded to at least one half, and its partner.

    Folding keeps the face an image mostly shows the one its labels mostly describe.
    """
    seeds = tf.random.experimental.stateless_split(seed, 3)
    first = tf.random.stateless_gamma((n,), seeds[0], alpha)
    second = tf.random.stateless_gamma((n,), seeds[1], alpha)
    lam = first / (first + second)
    return tf.maximum(lam, 1.0 - lam), tf.random.experimental.stateless_shuffle(tf.range(n), seeds[2])


def _blend(values: tf.Tensor, lam: tf.Tensor, partner: tf.Tensor) -> tf.Tensor:
    values = tf.cast(values, tf.float32)
    weight = tf.reshape(lam, [-1] + [1] * (len(values.shape) - 1))
    return weight * values + (1.0 - weight) * tf.gather(values, partner)


def mix_up(images: tf.Tensor, targets: dict, seed: tf.Tensor, alpha: float) -> tuple[tf.Tensor, dict]:
    """Blend each face with another face of the batch, and its labels in the same proportion.

    Mixup keeps a from-scratch network from memorising its training faces (the race head
    reaches 95% on train and 82% on val without it). The age target is the blended age in
    years, which the age loss spreads into its Gaussian as usual.
    """
    lam, partner = _mixing_draws(tf.shape(images)[0], seed, alpha)
    return _as_pixels(_blend(images, lam, partner)), {name: _blend(value, lam, partner) for name, value in targets.items()}


def make_dataset(
    arrays: SplitArrays,
    batch_size: int,
    training: bool,
    seed: int = 0,
    mixup_alpha: float = 0.0,
) -> tf.data.Dataset:
    """Batches of ``(images, {"age", "gender", "race"})``; shuffled and augmented when training.

    With ``mixup_alpha`` > 0, training batches are also mixed (see ``mix_up``).
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    dataset = tf.data.Dataset.from_tensor_slices((arrays.images, _targets(arrays)))
    if training:
        dataset = dataset.shuffle(len(arrays), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=training)
    if training:
        seeds = tf.data.Dataset.random(seed=seed).batch(2)

        def augment_batch(batch: tuple, batch_seed: tf.Tensor) -> tuple:
            images, targets = augment(batch[0], batch_seed), batch[1]
            # The reversed seed gives mixing draws of their own, independent of the augmentation's.
            mix_seed = batch_seed[::-1]
            if mixup_alpha > 0:
                return mix_up(images, targets, mix_seed, mixup_alpha)
            return images, targets

        dataset = tf.data.Dataset.zip(dataset, seeds).map(augment_batch, num_parallel_calls=AUTOTUNE)
    return dataset.prefetch(AUTOTUNE)
