"""Where the Batch tab's background jobs run and their progress and results live.

Without Redis (``make run``, one dyno), a job runs in a process forked by the web worker and
its progress and rows go to a ``diskcache`` folder in RAM (``/dev/shm``), removed when the
server exits: nothing to install or run besides the app. With ``REDIS_URL`` (a Heroku-style
Redis add-on), jobs go to Celery workers (the Procfile's ``worker:`` process) through Redis,
and Dash's ``CeleryManager`` keeps progress, cancellation and results there, so whichever web
process a poll reaches can answer it, a web restart loses no job in progress, and a batch of
100 photos no longer takes the cores that answer uploads. Results expire after
``RESULT_EXPIRY_S`` in both.

The photos of a job travel in the task message through Redis, held in memory only while the
job waits and runs: run the add-on without persistence to disk, as tests do.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import diskcache
from dash import CeleryManager, DiskcacheManager  # CeleryManager imports celery only when built
from dash.background_callback.managers import BaseBackgroundCallbackManager

from dashboard.settings import Settings

RESULT_EXPIRY_S = 600
"""A finished batch's rows stay in the manager's cache this long, then are dropped."""
REDIS_TIMEOUT_S = 2.0
"""How long a request waits on an unreachable Redis before the Batch tab says so."""
QUEUE_UNREACHABLE = (
    "The batch queue (Redis) cannot be reached, so batches cannot run now; single photos on the Predict tab still work. Try again in a minute."
)


def background_manager(settings: Settings) -> BaseBackgroundCallbackManager:
    """Dash's ``CeleryManager`` on ``REDIS_URL`` when it is set, else a ``DiskcacheManager`` in a folder removed at exit."""
    if settings.redis_url:
        return CeleryManager(celery_app(settings.redis_url), expire=RESULT_EXPIRY_S)
    folder = tempfile.mkdtemp(prefix="face2data-jobs-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return DiskcacheManager(diskcache.Cache(folder), expire=RESULT_EXPIRY_S)


def celery_app(redis_url: str):
    """The Celery application on ``redis_url`` (broker and result backend): what the web processes send to and the worker runs."""
    from celery import Celery

    app = Celery("face2data", broker=redis_url, backend=redis_url)
    app.conf.update(
        result_expires=RESULT_EXPIRY_S,
        task_acks_late=True,  # a job whose worker dies before it ends is taken again, not lost
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # one batch at a time per worker process: the next waits in Redis, not in a busy worker
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=REDIS_TIMEOUT_S,
        redis_socket_connect_timeout=REDIS_TIMEOUT_S,
        redis_socket_timeout=REDIS_TIMEOUT_S,
        broker_transport_options={"socket_connect_timeout": REDIS_TIMEOUT_S, "socket_timeout": REDIS_TIMEOUT_S},
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
    )
    return app


def queue_error(manager: BaseBackgroundCallbackManager) -> str | None:
    """Why a batch cannot start now (Redis unreachable), or None when it can; a ``DiskcacheManager`` always can."""
    if not isinstance(manager, CeleryManager):
        return None
    try:
        manager.handle.backend.client.ping()
    except Exception:
        return QUEUE_UNREACHABLE
    return None
