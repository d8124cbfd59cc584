"""The model contract as training defines it: what the network reads and what it predicts.

These are the only definitions of the label orders, the age range and the age groups.
Training writes them into ``config.json`` (``contract``); serving, the API document, the
dashboard and the batch summary read them back from there (``model.config``), so the
contract always travels with the network it describes.
"""

from __future__ import annotations

GENDERS: tuple[str, ...] = ("male", "female")
RACES: tuple[str, ...] = ("White", "Black", "Asian", "Indian", "Others")
CLASSES: dict[str, int] = {"gender": len(GENDERS), "race": len(RACES)}
"""The classification outputs and their class counts; age is a distribution, targeted by the years themselves."""
OUTPUTS: tuple[str, ...] = ("age", *CLASSES)
"""The network's outputs by name, in the order every table and chart lists them."""
MAX_AGE: int = 116
"""Oldest age in UTKFace; the age head predicts a distribution over 0..MAX_AGE years."""
AGE_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("0-2", 0, 2),
    ("3-9", 3, 9),
    ("10-19", 10, 19),
    ("20-29", 20, 29),
    ("30-39", 30, 39),
    ("40-49", 40, 49),
    ("50-59", 50, 59),
    ("60-69", 60, 69),
    ("70+", 70, MAX_AGE),
)
"""(label, first year, last year): the groups users see, and the bands evaluation reports per group."""
CAFFE_MEANS_BGR: tuple[float, float, float] = (103.939, 116.779, 123.68)
"""FaceRes's own input normalisation (B, G, R means, no scaling), folded into the network's first layer."""


def contract(image_size: int) -> dict:
    """The part of ``config.json`` that serving relies on, for a network of ``image_size`` pixels."""
    return {
        "input": {"size": image_size, "channels": 3, "dtype": "uint8", "color": "RGB"},
        "labels": {"gender": list(GENDERS), "race": list(RACES)},
        "age": {"years": [0, MAX_AGE], "groups": [{"label": label, "first": first, "last": last} for label, first, last in AGE_GROUPS]},
        "outputs": {
            "age": f"probability of each age 0..{MAX_AGE} years",
            "gender": "probabilities in labels.gender order",
            "race": "probabilities in labels.race order",
        },
        "preprocessing": (
            "model.preprocess.preprocess: aligned UTKFace-geometry crop, RGB, bicubic resize to input.size; inside the model: "
            f"RGB to BGR (in the first convolution's kernel) minus the caffe means {list(CAFFE_MEANS_BGR)}, no scaling"
        ),
    }
