"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from model import __version__
from model.config import ModelConfig
from model.decode import MAX_BYTES, MAX_PIXELS


def _probabilities(labels: tuple[str, ...]) -> dict:
    return {
        "type": "object",
        "required": ["label", "probabilities"],
        "properties": {
            "label": {"type": "string", "enum": list(labels)},
            "probabilities": {
                "type": "object",
                "required": list(labels),
                "properties": {label: {"type": "number", "minimum": 0, "maximum": 1} for label in labels},
            },
        },
    }


POINT = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}
    },
}


def face_schema(config: ModelConfig) -> dict:
    """One face of a prediction; its labels and age groups are the model's (``config.json``)."""
    return {
        "type": "object",
        "required": ["box", "score", "landmarks", "age", "age_range", "age_groups", "gender", "race", "detected"],
        "properties": {
            "box": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 4,
                "maxItems": 4,
                "description": "[x, y, width, height] in pixels of the upright photo",
            },
            "score": {"type": ["number", "null"], "description": "detector confidence; null when the whole image was taken as the face"},
            "landmarks": {
                "type": "object",
                "additionalProperties": POINT,
                "description": "left_eye, right_eye, nose, mouth_left, mouth_right; 'left' is the image's left",
            },
            "age": {"type": "number", "description": "expected age in years"},
            "age_range": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2, "description": "80% interval in years"},
            "age_groups": {"type": "object", "required": list(config.labels["age_group"]), "additionalProperties": {"type": "number"}},
            "gender": _probabilities(config.genders),
            "race": _probabilities(config.races),
            "detected": {
                "type": "boolean",
                "description": "true when detection found and aligned the face; false when the whole image was read as one face (skip_detection, or a small square image with no face found)",
            },
        },
    }


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def openapi_document(config: ModelConfig) -> dict:
    """The whole document, for the model of ``config``; it describes only what the routes in ``dashboard.api`` really do."""
    binary = {"type": "string", "contentMediaType": "application/octet-stream"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Face2Data API",
            "version": __version__,
            "description": "Age, gender and race of every face in a photo. Photos are processed in memory and never stored.",
        },
        "paths": {
            "/api/v1/predict": {
                "post": {
                    "summary": "Predict age, gender and race for every face in a photo",
                    "parameters": [
                        {
                            "name": "skip_detection",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "boolean"},
                            "description": "the photo is already an aligned face crop: read it whole, without detection",
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {"schema": {"type": "object", "required": ["image"], "properties": {"image": binary}}},
                            "image/jpeg": {"schema": binary},
                            "image/png": {"schema": binary},
                            "image/webp": {"schema": binary},
                            "image/heic": {"schema": binary},
                            "application/octet-stream": {"schema": binary},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The faces found, in reading order (rows top to bottom, left to right in a row), numbered as the dashboard numbers them; a photo with no face gives an empty list.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Prediction"}}},
                        },
                        "400": _error("Missing, empty, unreadable or truncated image"),
                        "413": _error(f"Larger than {MAX_BYTES // 2**20} MB or {MAX_PIXELS // 1_000_000} megapixels"),
                        "415": _error("Not a supported image type (JPEG, PNG, WebP, HEIC, GIF, BMP, TIFF)"),
                        "429": _error("Too many requests from this client (only when rate limiting is on)"),
                    },
                }
            },
            "/api/v1/explain": {
                "post": {
                    "summary": "SHAP attribution map of one output (age, gender or race) of one face",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["image"],
                                    "properties": {
                                        "image": binary,
                                        "face": {
                                            "type": "integer",
                                            "minimum": 0,
                                            "default": 0,
                                            "description": "index in the predict response's faces",
                                        },
                                        "target": {"type": "string", "enum": ["age", "gender", "race"], "default": "gender"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The face, the explained output and its map",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Explanation"}}},
                        },
                        "400": _error("Missing, empty or unreadable image, or a bad face index or target"),
                        "413": _error(f"Larger than {MAX_BYTES // 2**20} MB or {MAX_PIXELS // 1_000_000} megapixels"),
                        "415": _error("Not a supported image type"),
                        "422": _error("The photo has no face with that index"),
                        "429": _error("Too many requests from this client (only when rate limiting is on)"),
                        "503": _error("Every explanation slot is taken (EXPLANATION_SLOTS); try again after the Retry-After header's seconds"),
                    },
                }
            },
            "/api/v1/health": {
                "get": {
                    "summary": "Liveness: the model is loaded; whether this process's explainer has warmed up",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["status", "explainer"],
                                        "properties": {
                                            "status": {"const": "ok"},
                                            "version": {"type": "string"},
                                            "explainer": {"enum": ["ready", "warming up"]},
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/api/v1/model": {
                "get": {
                    "summary": "Labels, input size, version and the test-split metrics of the shipped model",
                    "responses": {
                        "200": {
                            "description": "model facts",
                            "content": {"application/json": {"schema": {"type": "object", "required": ["version", "labels", "metrics"]}}},
                        }
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
        },
        "components": {
            "schemas": {
                "Face": face_schema(config),
                "Error": ERROR,
                "Explanation": {
                    "type": "object",
                    "required": ["face_index", "face", "target", "explained_output", "method", "overlay_png", "grid"],
                    "properties": {
                        "face_index": {"type": "integer"},
                        "face": {"$ref": "#/components/schemas/Face"},
                        "target": {"type": "string", "enum": ["age", "gender", "race"]},
                        "explained_output": {
                            "type": "object",
                            "required": ["label", "value"],
                            "properties": {"label": {"type": "string"}, "value": {"type": "number"}},
                        },
                        "method": {"type": "string"},
                        "overlay_png": {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"},
                        "grid": {
                            "type": "array",
                            "items": {"type": "array", "items": {"type": "number"}},
                            "description": "SHAP value per network input pixel (rows of the aligned face at the model's input size), in the output's units",
                        },
                        "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}},
                    },
                },
                "Prediction": {
                    "type": "object",
                    "required": ["faces", "image", "timings_ms"],
                    "properties": {
                        "faces": {"type": "array", "items": {"$ref": "#/components/schemas/Face"}},
                        "image": {
                            "type": "object",
                            "required": ["width", "height"],
                            "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
                        },
                        "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}},
                    },
                },
            }
        },
    }
