"""Talk to a running dashboard over HTTP exactly as the browser does (tests and benchmarks).

One client for the deployment proof (``tests/deploy/test_topology.py``), the fault tests
and the benchmark scripts: ``DashClient`` discovers callbacks from ``/_dash-dependencies``,
builds request bodies from the layout's current values, fires callbacks and drives
background callbacks (``endId``, then ``cacheKey``/``job`` polling). The transport is
injectable, so the same client works over HTTP and over a Flask test client.
"""

from __future__ import annotations

import html
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from tests.support import timing

HTTP_TIMEOUT_S = timing.HTTP_S

__all__ = ["HTTP_TIMEOUT_S", "DashClient", "WaitTimeout", "collect_props", "http", "outputs_field"]


class WaitTimeout(RuntimeError):
    """Something did not happen within its time limit (the message says what, with a log tail)."""


# ----------------------------------------------------------------- HTTP


def http(
    base_url: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    timeout_s: float = HTTP_TIMEOUT_S,
    raw: bool = False,
) -> tuple[int, Any]:
    """One request on a fresh connection; (status, parsed JSON or text or bytes when ``raw``)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base_url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Connection": "close"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            payload, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        payload, status = exc.read(), exc.code
    if raw:
        return status, payload
    try:
        return status, json.loads(payload or b"null")
    except ValueError:
        return status, payload.decode(errors="replace")


# ----------------------------------------------------------------- Dash callbacks over HTTP


def outputs_field(dependency: Mapping[str, Any]) -> Any:
    """Dash's ``outputs`` field from a dependency's ``output`` string (``..a.b...c.d..`` for many)."""
    spec = dependency["output"]
    if spec.startswith(".."):
        parts = spec[2:-2].split("...")
        return [
            dict(zip(("id", "property"), part.split("@")[0].rsplit(".", 1), strict=True)) for part in parts
        ]
    component, prop = spec.split("@")[0].rsplit(".", 1)
    return {"id": component, "property": prop}


def collect_props(node: Any, found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Map component id -> props for every component with a string id in a layout tree."""
    if isinstance(node, list):
        for child in node:
            collect_props(child, found)
    elif isinstance(node, dict):
        props = node.get("props") if "type" in node and isinstance(node.get("props"), dict) else None
        if props is None:
            for value in node.values():
                collect_props(value, found)
        else:
            if isinstance(props.get("id"), str):
                found[props["id"]] = props
            for value in props.values():
                collect_props(value, found)
    return found


class DashClient:
    """Drives callbacks as the browser does: POST /_dash-update-component (background ones too).

    ``transport(method, path, body) -> (status, answer)`` is injectable so the same client
    works over HTTP and over a Flask test client.
    """

    def __init__(self, transport: Callable[[str, str, Any], tuple[int, Any]]) -> None:
        self.transport = transport
        status, index = transport("GET", "/", None)
        assert status == 200, f"GET / -> {status}"
        self.end_id = _end_id(index if isinstance(index, str) else "")
        status, self.dependencies = transport("GET", "/_dash-dependencies", None)
        assert status == 200, self.dependencies
        status, layout = transport("GET", "/_dash-layout", None)
        assert status == 200, layout
        self.props = collect_props(layout, {})

    @classmethod
    def over_http(cls, base_url: str, timeout_s: float = HTTP_TIMEOUT_S) -> DashClient:
        return cls(lambda method, path, body: http(base_url, method, path, body, timeout_s=timeout_s))

    def dependency(self, output_contains: str) -> dict[str, Any]:
        matches = [d for d in self.dependencies if output_contains in d["output"]]
        assert len(matches) == 1, f"{len(matches)} callbacks output {output_contains}"
        return matches[0]

    def body(self, dependency: Mapping[str, Any], changed: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """The request body the renderer sends for ``dependency`` when ``changed`` changes."""

        def with_value(item: Mapping[str, Any]) -> dict[str, Any]:
            key = f"{item['id']}.{item['property']}"
            value = values[key] if key in values else self.props.get(item["id"], {}).get(item["property"])
            return {**item, "value": value}

        return {
            "output": dependency["output"],
            "outputs": outputs_field(dependency),
            "inputs": [with_value(i) for i in dependency["inputs"]],
            "state": [with_value(s) for s in dependency["state"]],
            "changedPropIds": [changed],
        }

    def post(self, body: Mapping[str, Any], query: str = "") -> tuple[int, Any]:
        return self.transport("POST", "/_dash-update-component" + query, body)

    def fire(self, dependency: Mapping[str, Any], changed: str, values: Mapping[str, Any]) -> dict[str, Any]:
        status, answer = self.post(self.body(dependency, changed, values))
        assert status == 200, f"callback {changed}: HTTP {status}: {str(answer)[:500]}"
        return answer["response"]

    def fire_background(
        self,
        dependency: Mapping[str, Any],
        changed: str,
        values: Mapping[str, Any],
        limit_s: float = timing.JOB_S,
        details: Callable[[], str] | None = None,
    ) -> dict[str, Any]:
        """Start a background callback, then poll its signed handles until it answers.

        ``details()`` (e.g. the server's log tail) is added to the message of a time-out."""
        assert dependency.get("background"), f"{dependency['output']} is not a background callback"
        body = self.body(dependency, changed, values)
        end = f"?endId={urllib.request.quote(self.end_id)}" if self.end_id else ""
        status, answer = self.post(body, end)
        assert status in (200, 202), f"callback {changed}: HTTP {status}: {str(answer)[:500]}"
        if isinstance(answer, dict) and "response" in answer:
            return answer["response"]
        handles = (
            f"&cacheKey={urllib.request.quote(answer['cacheKey'])}&job={urllib.request.quote(answer['job'])}"
        )
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            time.sleep(0.3)
            status, polled = self.post(body, end + handles)
            if status == 204:
                continue
            assert status in (200, 202), f"poll {changed}: HTTP {status}: {str(polled)[:500]}"
            if isinstance(polled, dict) and "response" in polled:
                return polled["response"]
        raise WaitTimeout(
            f"background callback {changed} gave no answer within {limit_s:.0f} s\n"
            f"{details() if details else ''}"
        )

    def open_page(self, pathname: str) -> dict[str, Any]:
        """Render a page through the Dash Pages router callback and learn its components' values."""
        router = self.dependency("_pages_content.children")
        response = self.fire(
            router,
            "_pages_location.pathname",
            {"_pages_location.pathname": pathname, "_pages_location.search": ""},
        )
        collect_props(response, self.props)
        return response


def _end_id(index_html: str) -> str:
    match = re.search(
        r'<script id="_dash-config" type="application/json">(.*?)</script>', index_html, re.DOTALL
    )
    if not match:
        return ""
    return str(json.loads(html.unescape(match.group(1))).get("end_id") or "")
