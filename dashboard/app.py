"""The Face2Data web app: one Flask server carrying the REST API and the Dash dashboard.

``gunicorn wsgi:server`` (the Procfile) serves it in production; ``python -m dashboard.app``
(what ``make run`` does) serves it locally at http://127.0.0.1:8050. Importing this module
builds nothing: ``create_app()`` does, where the caller chooses.
"""

from __future__ import annotations

import logging
import threading

import dash
import dash_bootstrap_components as dbc  # noqa: F401  (registers the dbc component suite)
from flask import Flask, Response, request

from dashboard.api import api
from dashboard.components import ASSETS_DIR
from dashboard.errors import http_error_response
from dashboard.inflight import install_explanation_slots
from dashboard.jobs import background_manager
from dashboard.layout import INDEX, make_layout
from dashboard.security import harden, limit_rate, trust_proxies
from dashboard.settings import Settings
from dashboard.tabs.batch import register_batch_callbacks
from dashboard.tabs.predict import register_predict_callbacks
from model.attribution import warm_up
from model.predictor import get_predictor


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the server, register the API blueprint, mount Dash on it, harden it; ``settings`` default to the environment's."""
    settings = settings or Settings.from_environ()
    server = Flask(__name__)
    install_explanation_slots(server, settings.explanation_slots)
    server.json.sort_keys = False  # keep label and age-group order as the model defines it
    server.register_blueprint(api)
    limit_rate(server, api, settings)
    trust_proxies(server, settings)

    @server.errorhandler(404)
    @server.errorhandler(405)
    @server.errorhandler(413)
    def api_http_error(error) -> tuple[Response, int] | object:
        if request.path.startswith("/api/"):
            return http_error_response(error)
        return error

    app = dash.Dash(
        __name__,
        server=server,
        title="Face2Data",
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        suppress_callback_exceptions=False,
        update_title=None,
    )
    # The model loads now, not on the first request, and before gunicorn forks.
    app.index_string = INDEX
    app.layout = make_layout(get_predictor().artifacts, settings)
    register_predict_callbacks(app)
    jobs = server.extensions["face2data_jobs"] = background_manager(settings)  # the Celery worker finds its app here
    register_batch_callbacks(app, jobs, settings)
    harden(server, app.csp_hashes(), settings)
    return app


def warm_explanations_in_background() -> threading.Thread:
    """Start ``model.attribution.warm_up`` on a daemon thread, in the process that will serve.

    It runs after gunicorn forks (``post_fork`` in gunicorn.conf.py), not before, so that
    the explainer's interpreter (about 40 MB) is allocated by the worker that uses it, while
    the first requests are already being answered.
    """
    thread = threading.Thread(target=warm_up, args=(get_predictor(),), name="explain-warm-up", daemon=True)
    thread.start()
    return thread


def configure_logging(settings: Settings) -> None:
    """One line per record on stderr, at ``LOG_LEVEL`` (default INFO): what the platform's log collects."""
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")


if __name__ == "__main__":
    settings = Settings.from_environ()
    configure_logging(settings)
    app = create_app(settings)
    warm_explanations_in_background()
    app.run(host=settings.host, port=settings.port, debug=False)
