"""gunicorn settings for a 512 MB, 2-core Heroku-style dyno (read by the Procfile's command).

One worker process with a few threads: the model (LiteRT, ~20 MB) is loaded once before
the fork (``preload_app``), inference releases the GIL, and a second worker would double
memory for little gain on 2 cores. Override with WEB_CONCURRENCY / GUNICORN_THREADS.
"""

import ctypes
import os


def keep_freed_memory() -> None:
    """Make glibc keep the buffers a request frees for the next one, instead of giving them back to the kernel.

    By default glibc serves blocks over a moving threshold (up to 32 MiB) with fresh ``mmap``
    pages and unmaps them when freed, and trims the heap above 128 KiB free; a photo's working
    images and the networks' tensors are such blocks, so every request faulted megabytes of
    zeroed pages back in (about 1,200 page faults and 5 ms of kernel time per 1 MP portrait under
    the earlier MTCNN detector, measured in the worker). With both thresholds fixed high the faults fall to 10-80 per request (`make
    benchmark-against` counts them). Peak memory is no higher (`make benchmark`'s worker peak:
    262 MB against 287 in two runs): the same blocks are reused, only no longer returned between
    requests. The forked worker inherits the settings. Not glibc (macOS, musl): nothing to do.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    mallopt(-3, 32 * 2**20)  # M_MMAP_THRESHOLD, glibc's largest: only blocks over 32 MiB get their own mapping
    mallopt(-1, 256 * 2**20)  # M_TRIM_THRESHOLD: keep up to 256 MiB free at the heap's top


keep_freed_memory()

# The Procfile's server runs behind the platform's router: trust its one X-Forwarded-For hop
# (dashboard.security.trust_proxies). This file is read before the app is imported.
os.environ.setdefault("TRUSTED_PROXY_HOPS", "1")

bind = f"0.0.0.0:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "dashboard.gunicorn_worker.DrainingThreadWorker"  # gthread that stops taking connections at SIGTERM
preload_app = True
timeout = 30
graceful_timeout = 10
keepalive = 5
limit_request_field_size = 8190
accesslog = None  # the app writes one structured line per request itself
errorlog = "-"


def post_fork(server, worker) -> None:
    """In each worker, warm the explainer up on a background thread (see dashboard.app)."""
    from dashboard.app import warm_explanations_in_background

    warm_explanations_in_background()
