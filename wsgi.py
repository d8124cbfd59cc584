"""The WSGI entry point of the Procfile's gunicorn: ``gunicorn wsgi:server``.

gunicorn imports this once in the master (``preload_app``), so the model and everything else
under model/ is loaded before the worker forks.
"""

from dashboard.app import configure_logging, create_app
from dashboard.settings import Settings

settings = Settings.from_environ()
configure_logging(settings)
server = create_app(settings).server
