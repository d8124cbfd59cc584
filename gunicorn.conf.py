"""gunicorn settings for a 512 MB, 2-core Heroku-style dyno (read by the Procfile's command).

One worker process with a few threads: the model (LiteRT, ~20 MB) is loaded once before
the fork (``preload_app``), inference releases the GIL, and a second worker would double
memory for little gain on 2 cores. Override with WEB_CONCURRENCY / GUNICORN_THREADS.
"""

import os

# The Procfile's server runs behind the platform's router: trust its one X-Forwarded-For hop
# (dashboard.security.trust_proxies). This file is read before the app is imported.
os.environ.setdefault("TRUSTED_PROXY_HOPS", "1")

bind = f"0.0.0.0:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
preload_app = True
timeout = 30
graceful_timeout = 10
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
limit_request_field_size = 8190
accesslog = None  # the app writes one structured line per request itself
errorlog = "-"


def post_fork(server, worker) -> None:
    """In each worker, warm the explainer up on a background thread (see dashboard.app)."""
    from dashboard.app import warm_explanations_in_background

    warm_explanations_in_background()
