"""A hostile HTTP client against the app in-process (Flask test client, nothing listens).

Malformed bodies, unknown callbacks, oversized requests, traversal in asset paths, wrong
methods and content types: each answer is a 4xx (or a normal page), carries the security
headers, holds no traceback text, and the next normal request still works.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import pytest

from dashapp import create_app
from dashapp.state import state_of

UPDATE = "/_dash-update-component"
BADGE = {
    "output": "source-badge.children",
    "outputs": {"id": "source-badge", "property": "children"},
    "inputs": [{"id": "session-source", "property": "data", "value": None}],
    "state": [],
    "changedPropIds": ["session-source.data"],
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dash.Dash]:
    yield create_app(
        {
            "CACHE_DIR": str(tmp_path_factory.mktemp("hostile-http")),
            "ENGINE_EXECUTOR": "serial",
            "MAX_UPLOAD_BYTES": 4096,
        }
    )


@pytest.fixture(scope="module")
def client(app: dash.Dash) -> Any:
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    return client


def assert_clean(response: Any, *statuses: int) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code in statuses, (response.status_code, text[:200])
    assert "Traceback" not in text and 'File "' not in text and "site-packages" not in text
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", "")


def assert_still_serving(client: Any) -> None:
    response = client.post(UPDATE, json=BADGE)
    assert response.status_code == 200 and "Demo data" in response.get_data(as_text=True)


# ----- bodies Dash cannot parse at all --------------------------------------------------------------


@pytest.mark.parametrize(
    "data,content_type,status",
    [
        ("{not json", "application/json", 400),
        ("", "application/json", 400),
        ("\xff\xfe{", "application/json", 400),
        ('{"output": "source-badge.children"', "application/json", 400),
        ("output=x", "application/x-www-form-urlencoded", 415),
        ("<xml/>", "text/xml", 415),
    ],
)
def test_unparseable_bodies_are_4xx(client: Any, data: str, content_type: str, status: int) -> None:
    assert_clean(client.post(UPDATE, data=data, content_type=content_type), status)
    assert_still_serving(client)


def test_wrong_method_is_refused(client: Any) -> None:
    assert_clean(client.put("/health"), 405)
    assert_clean(client.delete(UPDATE), 405)
    # GET falls through to Dash's page router (the app shell), never to the callback dispatcher.
    response = client.get(UPDATE)
    assert_clean(response, 200, 404, 405)
    assert "application/json" not in response.content_type


def test_oversized_body_is_413_and_the_app_keeps_serving(app: dash.Dash, client: Any) -> None:
    body = json.dumps({**BADGE, "padding": "x" * (app.server.config["MAX_CONTENT_LENGTH"] + 1)})
    response = client.post(UPDATE, data=body, content_type="application/json")
    assert_clean(response, 413)
    assert response.json["message"] == "the upload is too large"
    assert_still_serving(client)


# ----- JSON that is valid but not a Dash callback request --------------------------------------------

MALFORMED_CALLBACK_REQUESTS = {
    "a list": [1, 2],
    "an empty object": {},
    "a string": "output",
    "no inputs": {"output": "source-badge.children", "outputs": BADGE["outputs"]},
    "inputs not a list": {**BADGE, "inputs": "x"},
    "input without value": {**BADGE, "inputs": [{"id": "session-source", "property": "data"}]},
    "too few inputs": {**BADGE, "inputs": []},
    "unknown callback": {
        **BADGE,
        "output": "nope.children",
        "outputs": {"id": "nope", "property": "children"},
    },
    "outputs mismatch": {**BADGE, "outputs": [{"id": "a", "property": "b"}, {"id": "c", "property": "d"}]},
}


@pytest.mark.parametrize("name", sorted(MALFORMED_CALLBACK_REQUESTS))
def test_malformed_callback_request_leaks_nothing_and_the_app_keeps_serving(client: Any, name: str) -> None:
    response = client.post(UPDATE, json=MALFORMED_CALLBACK_REQUESTS[name])
    assert_clean(response, 200, 204, 400, 404, 422, 500)
    assert_still_serving(client)


@pytest.mark.parametrize("name", ["a list", "an empty object", "unknown callback", "no inputs"])
def test_malformed_callback_request_is_a_400(client: Any, name: str) -> None:
    assert_clean(client.post(UPDATE, json=MALFORMED_CALLBACK_REQUESTS[name]), 400, 404)


def test_deeply_nested_json_is_a_400(client: Any) -> None:
    response = client.post(UPDATE, data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert_clean(response, 400, 413)


def test_deeply_nested_json_leaks_nothing(client: Any) -> None:
    response = client.post(UPDATE, data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert_clean(response, 400, 413, 500)
    assert_still_serving(client)


# ----- paths ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/assets/../dashapp/config.py",
        "/assets/%2e%2e/dashapp/config.py",
        "/assets/..%2f..%2fetc%2fpasswd",
        "/assets/%2e%2e%2f%2e%2e%2fgunicorn.conf.py",
        "/assets//etc/passwd",
    ],
)
def test_asset_traversal_is_404_and_serves_no_file(client: Any, path: str) -> None:
    response = client.get(path)
    assert_clean(response, 404, 200)  # 200: Dash's page router answers with the app shell
    text = response.get_data(as_text=True)
    assert "root:" not in text and "SECRET_KEY" not in text and "wsgi_app" not in text


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/../../etc/passwd",
        "/_dash-component-suites/dash/../../../../etc/passwd",
        "/_dash-component-suites/nopkg/x.js",
        "/_dash-component-suites/dash/nofile.js",
    ],
)
def test_component_suite_probe_serves_no_file(client: Any, path: str) -> None:
    response = client.get(path)
    assert_clean(response, 404, 500)
    assert "root:" not in response.get_data(as_text=True)
    # Dash's message lists the registered libraries; none of it may reach the client.
    assert "Registered libraries" not in response.get_data(as_text=True)


def test_component_suite_probe_is_a_404(client: Any) -> None:
    assert_clean(client.get("/_dash-component-suites/nopkg/x.js"), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/?top_n=99999999999999999999999&min_likes=1e400&start=9999-99-99&benchmark=%3Dcmd",
        "/stocks?symbols=%3Dcmd%7C%27%20%2FC%20calc%27%21A0,%2B1,%40SUM(1)&start=1677-01-01",
        "/sweep?grid_top_n=" + "1," * 5000,
        "/data?x=" + "%00" * 100,
        "/status?%ff%fe=%ff",
        "/nope/../../etc/passwd",
    ],
)
def test_hostile_query_strings_still_render_the_shell(client: Any, path: str) -> None:
    response = client.get(path)
    assert_clean(response, 200, 404)
    assert "root:" not in response.get_data(as_text=True)


def test_layout_of_a_hostile_link_shows_only_escaped_messages(client: Any) -> None:
    """The page body is built by Dash's router callback: user text reaches React as JSON strings."""
    body = {
        "output": "..{}...{}..".format("_pages_content.children", "_pages_store.data"),
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": "/"},
            {
                "id": "_pages_location",
                "property": "search",
                "value": "?benchmark=<script>alert(1)</script>&top_n=<img src=x onerror=alert(1)>",
            },
        ],
        "state": [],
        "changedPropIds": ["_pages_location.pathname"],
    }
    response = client.post(UPDATE, json=body)
    assert_clean(response, 200)
    payload = response.json
    text = json.dumps(payload)
    assert "Ignored benchmark" in text or "benchmark" in text
    # Never raw HTML: Dash components carry text in "children" strings that React escapes.
    assert "dangerously_allow_html" not in text and "dangerouslySetInnerHTML" not in text


def test_cache_dir_is_temporary(app: dash.Dash, tmp_path_factory: pytest.TempPathFactory) -> None:
    assert Path(state_of(app.server).config.CACHE_DIR).is_relative_to(tmp_path_factory.getbasetemp())
