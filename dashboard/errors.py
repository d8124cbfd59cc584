"""One shape for every API error: ``{"error": {"code", "message"}}`` with its HTTP status."""

from __future__ import annotations

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

HTTP_ERROR_CODES: dict[int, str] = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 429: "rate_limited"}
"""The one table from the HTTP errors Werkzeug and Flask-Limiter raise to the API's error codes."""


def error_response(status: int, code: str, message: str, allow: list[str] | None = None) -> tuple[Response, int]:
    """A JSON error for the client; details and tracebacks stay in the server log.

    ``allow`` lists the methods a 405 must name in its ``Allow`` header (RFC 9110).
    """
    response = jsonify({"error": {"code": code, "message": message}})
    if allow:
        response.headers["Allow"] = ", ".join(sorted(allow))
    return response, status


def http_error_response(error: HTTPException) -> tuple[Response, int]:
    """The JSON form of a Werkzeug HTTP error (404, 405, 413, 429...), with its ``Allow`` header for a 405."""
    status = error.code or 500
    return error_response(
        status, HTTP_ERROR_CODES.get(status, "http_error"), error.description or error.name, allow=getattr(error, "valid_methods", None)
    )
