"""Operational URLs: ``/health`` (liveness) and ``/ready`` (readiness: cache, Ray, data source).

Both are open to anonymous clients: ``/ready`` says which check is down and why in one
sentence with addresses, URLs and paths replaced by ``[hidden]`` (``redact_internals``,
as on the Status page); the full sentence goes to the server log."""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from typing import Any

import dash
from flask import Flask, Response, jsonify, request

import engine

from .config import ConfigError
from .security import redact_internals
from .state import state_of

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 1.5  # readiness answers within 2 s: each check is bounded below this
NO_STORE = "no-store"


def register_routes(server: Flask) -> None:
    # Two threads: a hung check (dead Redis, unreachable Ray head) only ever blocks its own.
    server.extensions["spl_ready_pool"] = concurrent.futures.ThreadPoolExecutor(
        max_workers=3, thread_name_prefix="spl-ready"
    )

    @server.get("/health")
    def health() -> Response:
        """Liveness: answers as long as the process serves requests; touches nothing else."""
        return _no_store(jsonify({"status": "ok"}), 200)

    @server.get("/ready")
    def ready() -> Response:
        """Readiness: the cache round-trips, the Ray cluster answers and the default data
        source's settings and files are usable, each within a short timeout."""
        pool = server.extensions["spl_ready_pool"]
        checks = {
            "cache": lambda: _check_cache(server),
            "ray": lambda: _check_ray(server),
            "data": lambda: _check_data(server),
        }
        futures = {name: pool.submit(_in_context(server, fn)) for name, fn in checks.items()}
        known = _internals(server)
        results = {
            name: _for_visitors(name, _outcome(name, future), known) for name, future in futures.items()
        }
        down = sorted(name for name, result in results.items() if result["status"] != "ok")
        body = {"status": "ok" if not down else "unavailable", "checks": results, "down": down}
        return _no_store(jsonify(body), 200 if not down else 503)


def register_not_found(app: dash.Dash) -> None:
    """An address that is no page answers 404 (with the shell, whose page says "404 - Page
    not found"); Dash serves every unknown path from its catch-all route with a 200."""
    catch_all = app.config.routes_pathname_prefix + "<path:path>"

    @app.server.after_request
    def not_found(response: Response) -> Response:
        rule = request.url_rule
        if rule is None or rule.rule != catch_all or response.status_code != 200:
            return response
        if _page_exists(app.strip_relative_path(request.path) or ""):
            return response
        response.status_code = 404
        return response


def _page_exists(path_id: str) -> bool:
    """Whether a page of ``dash.page_registry`` answers ``path_id`` (no leading slash), as
    Dash's router matches it: the path exactly; a template with variables is taken as a match."""
    for page in dash.page_registry.values():
        template = page.get("path_template") or ""
        if "<" in template or path_id == str(page.get("path") or "").strip("/"):
            return True
        if template and path_id == template.strip("/"):
            return True
    return False


def _no_store(response: Response, status: int) -> Response:
    response.status_code = status
    response.headers["Cache-Control"] = NO_STORE
    return response


def _in_context(server: Flask, fn: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        with server.app_context():
            return fn()

    return run


def _outcome(name: str, future: concurrent.futures.Future[dict[str, Any]]) -> dict[str, Any]:
    try:
        return future.result(timeout=READY_TIMEOUT_S)
    except concurrent.futures.TimeoutError:
        return {"status": "down", "detail": f"no answer within {READY_TIMEOUT_S:g} s"}
    except (engine.EngineError, ConfigError) as exc:
        return {"status": "down", "detail": str(exc)}
    except Exception as exc:
        return {"status": "down", "detail": f"{type(exc).__name__}: {exc}"[:300]}


def _internals(server: Flask) -> tuple[str | None, ...]:
    """The configured addresses, URLs and paths a readiness sentence may quote."""
    state = state_of(server)
    config = state.config
    return (
        getattr(state.ray, "address", None),
        config.CACHE_REDIS_URL,
        config.CACHE_DIR,
        config.SENTIMENT_PATH,
        config.PRICES_PATH,
        config.YAHOO_CACHE_DIR,
    )


def _for_visitors(name: str, result: dict[str, Any], known: tuple[str | None, ...]) -> dict[str, Any]:
    """``result`` as an anonymous client may see it: a text detail with internals hidden
    (the full one logged when the check is down)."""
    detail = result.get("detail")
    if not isinstance(detail, str):
        return result
    if result.get("status") != "ok":
        log.warning("readiness check %s is down: %s", name, detail)
    return {**result, "detail": redact_internals(detail, *known)}


def _check_cache(server: Flask) -> dict[str, Any]:
    cache = state_of(server).results
    cache.round_trip()
    return {"status": "ok", "detail": cache.backend_name}


def _check_data(server: Flask) -> dict[str, Any]:
    """The default data source's settings (checked at start-up) and that its files are
    still readable; the files are not read (that is the first page's job)."""
    config = state_of(server).config
    config.check_data_source()
    return {"status": "ok", "detail": config.DATA_SOURCE}


def _check_ray(server: Flask) -> dict[str, Any]:
    mode = state_of(server).config.ENGINE_EXECUTOR
    if mode == "serial":
        return {"status": "ok", "detail": "not used (ENGINE_EXECUTOR=serial)"}
    # A TCP probe of the head (no Ray driver, nothing started): answers within ~1 s from
    # the first request of a fresh worker (docs/ray.md "Readiness and status").
    status = engine.probe_cluster(state_of(server).ray)  # the app's RayConfig, read once by create_app
    error = getattr(status, "error", None)
    if error or getattr(status, "available", True) is False:
        return {"status": "down", "detail": str(error or "the Ray cluster is not reachable")}
    if getattr(status, "mode", None) == "not started":
        # The embedded single-host cluster starts with the first job that needs it.
        return {"status": "ok", "detail": "embedded cluster not started yet (starts on first use)"}
    # The mode only: the head's address is an internal one (docs/security.md).
    mode = getattr(status, "mode", None)
    return {"status": "ok", "detail": {"mode": mode} if mode else "reachable"}
