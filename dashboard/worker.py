"""The Celery worker of the Procfile's ``worker:`` process: ``celery --app dashboard.worker:celery worker``.

Dash names each background callback's task after the callback, so the worker builds the same
app as the web processes (``create_app``) to know them, and runs its jobs with the model it
loaded before forking its pool. It needs ``REDIS_URL``, as the web processes do to send it jobs.
"""

from dashboard.app import configure_logging, create_app
from dashboard.settings import Settings

settings = Settings.from_environ()
if not settings.redis_url:
    raise SystemExit("REDIS_URL is not set: the worker takes its jobs from Redis (see the README's deploy section)")
configure_logging(settings)
celery = create_app(settings).server.extensions["face2data_jobs"].handle
