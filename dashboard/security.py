"""HTTP hardening shared by the dashboard and the API: size limit, headers, request logs."""

from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, Flask, Response, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard.jobs import REDIS_TIMEOUT_S
from dashboard.settings import Settings
from model.decode import MAX_BYTES

log = logging.getLogger("face2data.requests")


def max_request_bytes(settings: Settings) -> int:
    """Werkzeug refuses larger bodies with 413 before reading them.

    The limit is above what the app accepts (one photo of ``MAX_BYTES``, or a batch of
    ``BATCH_MAX_MB``) with room for base64 (4/3) and more, so that a dashboard upload a little
    over a cap still reaches the app and gets its friendly "too large" message.
    """
    return max(MAX_BYTES, settings.batch_max_bytes) * 8 // 5


def content_security_policy(script_hashes: list[str]) -> str:
    """Everything from this server; inline scripts only by hash (Dash's renderer bootstrap)."""
    scripts = " ".join(script_hashes)  # Dash gives them quoted: 'sha256-...'
    return (
        "default-src 'self'; "
        f"script-src 'self' {scripts}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; "
        "font-src 'self' data:; "
        "connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    )


def trust_proxies(server: Flask, settings: Settings) -> None:
    """Read the client's address from ``X-Forwarded-For`` across ``TRUSTED_PROXY_HOPS`` proxies.

    A Heroku-style router forwards every request, so without this the rate limit would see
    one client, the router. Only the hops trusted here are believed: an ``X-Forwarded-For``
    a client wrote itself, beyond them, is ignored. ``gunicorn.conf.py`` (the Procfile's
    server) defaults to 1 hop; ``python -m dashboard.app`` (``make run``) to none.
    """
    hops = settings.trusted_proxy_hops
    if hops:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def limit_rate(server: Flask, api: Blueprint, settings: Settings) -> Limiter:
    """Per-client rate limits on the API, off unless set.

    ``RATE_LIMIT`` (e.g. ``30/minute``) covers the API; ``EXPLAIN_RATE_LIMIT`` (e.g.
    ``5/minute``) replaces it on ``/explain``, whose SHAP map costs hundreds of network passes;
    ``/health`` is never limited, so the platform's health check cannot be refused. Storage is
    in memory, per worker process, which with the one gunicorn worker we deploy is the whole
    server; several dynos share counts in Redis (``REDIS_URL``, or ``RATE_LIMIT_STORAGE_URI``).
    When that Redis cannot be reached, each process counts in its own memory until it can again
    (Flask-Limiter's in-memory fallback): the limits hold per process rather than refuse every
    upload, and a storage error never becomes a 500.
    """
    rate, explain_rate = settings.rate_limit, settings.explain_rate_limit
    shared = not settings.rate_limit_storage_uri.startswith("memory://")
    limiter = Limiter(
        get_remote_address,
        app=server,
        storage_uri=settings.rate_limit_storage_uri,
        storage_options={"socket_connect_timeout": REDIS_TIMEOUT_S, "socket_timeout": REDIS_TIMEOUT_S} if shared else {},
        enabled=bool(rate or explain_rate),
        headers_enabled=True,
        swallow_errors=True,
        in_memory_fallback_enabled=shared,
    )
    if rate:
        limiter.limit(rate, exempt_when=lambda: request.endpoint == "api.health")(api)
    if explain_rate:
        # A route's own limit replaces the blueprint's; it is checked by the wrapper, so the wrapper must be the view.
        server.view_functions["api.explain"] = limiter.limit(explain_rate)(server.view_functions["api.explain"])
    return limiter


def harden(server: Flask, script_hashes: list[str], settings: Settings) -> None:
    """Install the size limit, security headers and one structured log line per request."""
    server.config["MAX_CONTENT_LENGTH"] = max_request_bytes(settings)
    policy = content_security_policy(script_hashes)

    @server.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @server.after_request
    def add_headers_and_log(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = policy
        if not request.path.startswith("/_dash-component-suites/") and not request.path.startswith("/assets/"):
            record = {
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule else request.path,
                "status": response.status_code,
                "latency_ms": round(1000 * (time.perf_counter() - g.get("started", time.perf_counter())), 1),
            }
            if "faces" in g:
                record["faces"] = g.faces
            log.info(json.dumps(record))
        return response
