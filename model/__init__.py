"""Face2Data inference: decode, detect, align, preprocess and predict, without TensorFlow.

``model.analyze(image)`` and ``model.explain(image)`` are the Python API (``model.api``); they
are imported on first use, so that importing one of the package's modules loads no network.
"""

__version__ = "0.1.0"
__all__ = ["analyze", "explain"]


def __getattr__(name: str):
    if name in __all__:
        from model import api

        return getattr(api, name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")
