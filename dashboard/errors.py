"""One shape for every API error: ``{"error": {"code", "message"}}`` with its HTTP status."""

from __future__ import annotations

from flask import Response, jsonify


def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    """A JSON error for the client; details and tracebacks stay in the server log."""
    return jsonify({"error": {"code": code, "message": message}}), status
