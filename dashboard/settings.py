"""The web app's settings: every environment variable it reads, read here, once per app.

``create_app`` builds one ``Settings`` and hands it to whatever needs it, so a test (or a
second app in one process) can run with its own without touching the environment. The
README's table lists the same variables; gunicorn's own (``PORT``, ``WEB_CONCURRENCY``,
``GUNICORN_THREADS``) are read by ``gunicorn.conf.py``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    rate_limit: str = ""
    """``RATE_LIMIT``, e.g. ``30/minute`` per client on the API; empty: no limit."""
    explain_rate_limit: str = ""
    """``EXPLAIN_RATE_LIMIT``, e.g. ``5/minute``: replaces ``RATE_LIMIT`` on ``/explain``."""
    redis_url: str = ""
    """``REDIS_URL`` (a Heroku-style Redis add-on sets it): rate-limit counts and Batch tab jobs live there, jobs run on Celery workers."""
    rate_limit_storage_uri: str = "memory://"
    """``RATE_LIMIT_STORAGE_URI``: where the counts live; default ``REDIS_URL`` when set, else each process's memory."""
    trusted_proxy_hops: int = 0
    """``TRUSTED_PROXY_HOPS``: proxies whose ``X-Forwarded-For`` is believed (the Procfile's server sets 1)."""
    batch_max_mb: float = 50.0
    """``BATCH_MAX_MB``: the Batch tab's cap on one upload, all files together."""
    explanation_slots: int = 2
    """``EXPLANATION_SLOTS``: explanations one worker runs or queues at once; past it, 503."""
    log_level: str = "INFO"
    """``LOG_LEVEL`` of the one-line-per-record log on stderr."""
    host: str = "127.0.0.1"
    """``HOST`` that ``python -m dashboard.app`` binds (gunicorn binds 0.0.0.0)."""
    port: int = 8050
    """``PORT`` of ``python -m dashboard.app`` (gunicorn.conf.py reads its own)."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        def read(name: str, default: object) -> str:
            return (environ.get(name) or "").strip() or str(default)

        defaults = cls()
        redis_url = read("REDIS_URL", "")
        return cls(
            rate_limit=read("RATE_LIMIT", ""),
            explain_rate_limit=read("EXPLAIN_RATE_LIMIT", ""),
            redis_url=redis_url,
            rate_limit_storage_uri=read("RATE_LIMIT_STORAGE_URI", redis_url or defaults.rate_limit_storage_uri),
            trusted_proxy_hops=int(read("TRUSTED_PROXY_HOPS", defaults.trusted_proxy_hops)),
            batch_max_mb=float(read("BATCH_MAX_MB", defaults.batch_max_mb)),
            explanation_slots=int(read("EXPLANATION_SLOTS", defaults.explanation_slots)),
            log_level=read("LOG_LEVEL", defaults.log_level),
            host=read("HOST", defaults.host),
            port=int(read("PORT", defaults.port)),
        )

    @property
    def batch_max_bytes(self) -> int:
        return int(self.batch_max_mb * 2**20)
