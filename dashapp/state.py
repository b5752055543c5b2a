"""The app's state: one typed object per Dash app, installed by ``create_app``.

As flaskr's ``db.py`` does with ``init_app`` and ``get_db``: ``create_app`` builds an
``AppState`` and registers it on the Flask server with ``init_app``; everything else
reads it with ``get_state()`` (the app of the current request, or, in a background-callback
process, which has no request context, the app Dash runs). Pages and services never
import the app, and tests can build as many apps as they like.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flask

import engine

from .cache import SafeCache
from .config import AppConfig
from .jobs import CooperativeDiskcacheManager
from .lru import BoundedLRU
from .pool import ComputePool

EXTENSION = "spl"
VIEW_LRU_SIZE = 8  # rendered backtest views (~150 KB of JSON each) kept in this worker's memory
MARKET_DATA_LRU_SIZE = 4  # MarketData of the demo is ~40 MB; a few sources per worker is plenty


@dataclasses.dataclass(frozen=True, kw_only=True)
class AppState:
    """Everything one app owns; the LRUs are per worker process, the caches shared.

    - ``results``: computed, JSON-able results (``SafeCache``, "Clear cache" empties it);
    - ``uploads``: validated bytes of uploaded data sets, by the hash of their bytes, file names and reading options;
    - ``market_data``: loaded ``engine.MarketData`` by source key and benchmark;
    - ``prepared``: ``engine.PreparedData`` by data fingerprint (every backtest reuses it);
    - ``views``: rendered backtest views by cache key;
    - ``background``: the background-callback manager (its cancel reaches the engine);
    - ``ray``: where Ray work runs, built once by ``create_app`` (``config.ray_config``) and
      passed explicitly to the engine (no environment read per call);
    - ``compute``: this worker's process pool for CPU-heavy callback work (``dashapp.pool``;
      started lazily, inline when ``COMPUTE_PROCESSES`` is 0).
    """

    config: AppConfig
    ray: engine.RayConfig
    compute: ComputePool
    results: SafeCache
    uploads: SafeCache
    background: CooperativeDiskcacheManager
    market_data: BoundedLRU[engine.MarketData] = dataclasses.field(
        default_factory=lambda: BoundedLRU(MARKET_DATA_LRU_SIZE)
    )
    prepared: BoundedLRU[engine.PreparedData] = dataclasses.field(
        default_factory=lambda: BoundedLRU(MARKET_DATA_LRU_SIZE)
    )
    views: BoundedLRU[Any] = dataclasses.field(default_factory=lambda: BoundedLRU(VIEW_LRU_SIZE))


def init_app(server: flask.Flask, state: AppState) -> None:
    """Install ``state`` on ``server`` (called once, by ``create_app``)."""
    server.extensions[EXTENSION] = state


def state_of(server: flask.Flask) -> AppState:
    """The state ``create_app`` installed on ``server``."""
    return server.extensions[EXTENSION]


def get_state() -> AppState:
    """The state of the app serving this request (or this background-callback job)."""
    if flask.has_app_context():
        return state_of(flask.current_app._get_current_object())  # type: ignore[attr-defined]
    import dash  # background callbacks run in a forked process without an app context

    return state_of(dash.get_app().server)
