"""The Sentiment Portfolio Lab dashboard (Dash on Flask), built by ``create_app``.

``create_app`` is a Flask-style application factory: the app's state (configuration,
caches, the per-worker LRUs, the background-job manager) is one ``dashapp.state.AppState``
installed on the Flask server with ``state.init_app`` and read with ``state.get_state()``,
so tests can build as many apps as they like with temporary directories, and gunicorn
imports ``dashapp.wsgi:application``.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dash
import diskcache

import engine

from .cache import make_cache
from .config import AppConfig, ray_config
from .jobs import CooperativeDiskcacheManager
from .layout import build_layout, register_callbacks
from .pool import ComputePool
from .request_guard import install_request_guard
from .routes import register_not_found, register_routes
from .security import install_security
from .state import AppState, init_app

PACKAGE_DIR = Path(__file__).resolve().parent
PAGES_DIR = PACKAGE_DIR / "pages"
ASSETS_DIR = PACKAGE_DIR.parent / "assets"

log = logging.getLogger(__name__)

__all__ = ["AppConfig", "create_app", "finish_setup"]


def create_app(config: Mapping[str, Any] | None = None) -> dash.Dash:
    """Build the Dash app; ``config`` overrides the environment (see ``dashapp.config``)."""
    settings = AppConfig.load(overrides=config)
    engine.tune_allocator()  # this process and the compute children that build their own app
    engine.single_blas_thread()  # the same numbers as the CLI and Ray tasks, to the last bit
    cache_dir = settings.cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    background = CooperativeDiskcacheManager(diskcache.Cache(str(cache_dir / "background")))

    # A fresh context: Dash's ``get_app()`` prefers a context variable that an earlier app's
    # request may have left set in this thread, and ``register_page(redirect_from=...)``
    # would then add its redirect routes to that earlier app (tests build many apps).
    app = contextvars.copy_context().run(_new_dash, settings, background)
    server = app.server
    server.config.update(SECRET_KEY=settings.SECRET_KEY, DEBUG=settings.DEBUG)
    results = make_cache(server, settings, "results", timeout=settings.CACHE_DEFAULT_TIMEOUT, threshold=5000)
    uploads = make_cache(server, settings, "uploads", timeout=settings.UPLOAD_TIMEOUT, threshold=500)
    state = AppState(
        config=settings,
        ray=ray_config(settings),  # read once here; services pass it to the engine
        compute=ComputePool.for_config(settings),  # no process starts until the first job
        results=results,
        uploads=uploads,
        background=background,
    )
    init_app(server, state)
    install_security(app, max_upload_bytes=settings.MAX_UPLOAD_BYTES)
    install_request_guard(app)
    register_routes(server)
    register_not_found(app)
    app.layout = build_layout
    register_callbacks(app)
    log.info(
        "dashboard created: data source %s, cache %s, executor %s, compute processes %d",
        settings.DATA_SOURCE,
        settings.CACHE_TYPE,
        settings.ENGINE_EXECUTOR,
        settings.COMPUTE_PROCESSES,
    )
    # Built: this process's start-up objects (its imports, the app's layout and callbacks)
    # are left out of every full collection from now on (once per process; job processes
    # forked from it inherit it; engine.collector says why).
    engine.freeze_startup_objects()
    return app


def finish_setup(app: dash.Dash) -> None:
    """Run Dash's first-request set-up now, before the server accepts traffic.

    Dash completes an app lazily on its first request (``_setup_server``: it marks itself
    done *before* filling ``callback_map``), so a fresh gunicorn worker that receives
    several concurrent first requests answers some with a half-built callback map (HTTP
    400 from the request guard, once a 500 "dictionary changed size during iteration").
    One internal request on the serving thread finishes it. Call it for the one app a
    process serves (``dashapp.wsgi``, ``python -m dashapp``): Dash moves the pages'
    callbacks into the first app that sets up, so it is not done inside ``create_app``,
    which tests call many times per process.
    """
    prefix = app.config.routes_pathname_prefix
    response = app.server.test_client().get(prefix + "_dash-dependencies")
    if response.status_code != 200:
        raise RuntimeError(
            f"dashboard set-up failed: {prefix}_dash-dependencies answered {response.status_code}"
        )


def _new_dash(settings: AppConfig, background: CooperativeDiskcacheManager) -> dash.Dash:
    from dash import _get_app

    _get_app.app_context.set(None)  # only inside the copied context: get_app() falls back to the new app
    return dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        assets_folder=str(ASSETS_DIR),
        # Bootstrap is vendored in assets/ (served by this app): no CDN, nothing third-party.
        external_stylesheets=[],
        serve_locally=True,
        suppress_callback_exceptions=True,
        background_callback_manager=background,
        title=settings.TITLE,
        update_title=None,
        # flask-compress: a backtest's callback response is ~140 KB of JSON that gzips to
        # ~27 KB. No response body carries a secret, so BREACH-style guessing has no target.
        compress=True,
    )
