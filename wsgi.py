"""The WSGI entry point of the Procfile's gunicorn: ``gunicorn wsgi:server``.

gunicorn imports this once in the master (``preload_app``), so the model and everything else
under model/ is loaded before the worker forks.
"""

from dashboard.app import configure_logging, create_app

configure_logging()
server = create_app().server
