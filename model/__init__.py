"""Face2Data inference: decode, detect, align, preprocess and predict, without TensorFlow."""

__version__ = "0.1.0"
