"""The one geometry step that training and serving share.

Training builds its arrays with :func:`preprocess` and serving feeds the network with it,
so the model always sees exactly the pixels it was trained on. Pixel scaling is *not*
done here: it lives inside the network, which takes plain uint8 RGB.
"""

import numpy as np
from PIL import Image


def preprocess(face: Image.Image, size: int) -> np.ndarray:
    """Turn an aligned face crop (UTKFace geometry, any size) into the network input.

    Returns a ``(size, size, 3)`` uint8 RGB array. Pillow's area-aware bicubic resize keeps
    downscaled faces free of aliasing whatever the source resolution.
    """
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    rgb = face if face.mode == "RGB" else face.convert("RGB")
    return np.asarray(rgb.resize((size, size), Image.Resampling.BICUBIC), dtype=np.uint8)
