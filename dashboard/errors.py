"""One shape for every API error: ``{"error": {"code", "message"}}`` with its HTTP status."""

from __future__ import annotations

from flask import Response, jsonify


def error_response(status: int, code: str, message: str, allow: list[str] | None = None) -> tuple[Response, int]:
    """A JSON error for the client; details and tracebacks stay in the server log.

    ``allow`` lists the methods a 405 must name in its ``Allow`` header (RFC 9110).
    """
    response = jsonify({"error": {"code": code, "message": message}})
    if allow:
        response.headers["Allow"] = ", ".join(sorted(allow))
    return response, status
