"""Refuse malformed Dash requests with a 4xx before Dash sees them.

Dash's callback dispatcher trusts the shape of the JSON it is posted: a list, ``{}``, a
body without ``inputs`` or naming an unknown callback makes it raise ``KeyError`` or
``AttributeError`` (a logged 500). JSON nested thousands of levels deep overflows the
parser (``RecursionError``). ``dcc.Location`` values are read by Dash's page router as
text. A probe of an unknown ``/_dash-component-suites/`` file raises Dash's
``DependencyException``. Each of these is a client error: this module answers 400 (or
404) with a short JSON message and logs nothing at error level.

Normal traffic, background-callback polling included (the same body posted again with
``cacheKey``/``job`` in the query string), passes unchanged: only the keys Dash reads are
checked, and extra keys are allowed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import dash
from dash.exceptions import DependencyException
from flask import Flask, request
from werkzeug.exceptions import BadRequest

from .security import error_response

log = logging.getLogger(__name__)

MAX_JSON_DEPTH = 64  # the deepest real body (a sweep result in a Store) is about 6 levels
MAX_JSON_NODES = 2_000_000  # list items + dict values; an upload is one long string
LOCATION_PROPS = frozenset({"pathname", "search", "hash", "href"})  # dcc.Location: text or None


class MalformedRequest(BadRequest):
    """A ``/_dash-update-component`` body that is not a callback request of this app."""


def install_request_guard(app: dash.Dash) -> None:
    """Check every callback request's shape; map dependency probes to 404."""
    server: Flask = app.server
    update_path = app.config.routes_pathname_prefix + "_dash-update-component"

    @server.before_request
    def _check_callback_request() -> None:
        if request.method == "POST" and request.path == update_path:
            check_callback_body(_read_json(), app.callback_map, app.config.requests_pathname_prefix)

    @server.errorhandler(DependencyException)
    def _unknown_dependency(_exc: DependencyException) -> Any:
        # Dash's message lists every registered library: answer a plain 404 instead.
        return error_response(404, "Not Found", "not found")


def _read_json() -> Any:
    try:
        body = request.get_json()  # cached: Dash's dispatcher reads the same parsed value
    except RecursionError:
        raise MalformedRequest("the request body is nested too deeply") from None
    check_nesting(body)
    return body


def check_nesting(value: Any, *, max_depth: int = MAX_JSON_DEPTH, max_nodes: int = MAX_JSON_NODES) -> None:
    """``MalformedRequest`` when ``value`` nests deeper than ``max_depth`` or has too many nodes."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            raise MalformedRequest(f"the request body nests deeper than {max_depth} levels")
        nodes += len(children)
        if nodes > max_nodes:
            raise MalformedRequest("the request body has too many values")
        stack.extend((child, depth + 1) for child in children)


def check_callback_body(
    body: Any, callback_map: Mapping[str, Mapping[str, Any]], path_prefix: str = "/"
) -> None:
    """``MalformedRequest`` unless ``body`` is a request for one of ``callback_map``'s callbacks."""
    if not isinstance(body, dict):
        raise MalformedRequest("a callback request must be a JSON object")
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        raise MalformedRequest("the request names no callback of this app")
    spec = callback_map[output]
    for key in ("inputs", "state"):
        items = body.get(key, [] if key == "state" else None)
        if not isinstance(items, list) or len(items) != len(spec.get(key) or []):
            raise MalformedRequest(f"the callback request's {key} do not match the callback")
        for item in items:
            _check_dependency(item, key, path_prefix)
    outputs = body.get("outputs")
    if not isinstance(outputs, (dict, list)):
        raise MalformedRequest("the callback request has no outputs")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise MalformedRequest("changedPropIds must be a list of texts")


def _check_dependency(item: Any, key: str, path_prefix: str) -> None:
    # Pattern-matching (ALL) inputs arrive as lists of dependencies.
    if isinstance(item, list):
        for inner in item:
            _check_dependency(inner, key, path_prefix)
        return
    if not isinstance(item, dict) or "id" not in item or not isinstance(item.get("property"), str):
        raise MalformedRequest(f"each of the callback request's {key} needs an id and a property")
    if item["property"] in LOCATION_PROPS and not isinstance(item.get("value"), (str, type(None))):
        raise MalformedRequest(f"a location's {item['property']} must be text")
    if item["property"] == "pathname" and not str(item.get("value") or "").startswith(path_prefix):
        # Dash's page router joins and strips it as a path under the app's prefix.
        raise MalformedRequest(f"a location's pathname must start with {path_prefix}")
