"""Security headers on every response, the CSP allows no third party, friendly errors, size limit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dash
import pytest

from dashapp import create_app
from dashapp.security import content_security_policy, max_request_bytes


@pytest.fixture
def app(tmp_path: Path) -> dash.Dash:
    app = create_app({"CACHE_DIR": str(tmp_path), "MAX_UPLOAD_BYTES": 4096})

    @app.server.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internal detail /etc/shadow")

    return app


@pytest.mark.parametrize("path", ["/", "/data", "/health", "/_dash-layout", "/assets/50-app.css", "/missing"])
def test_security_headers_on_every_response(app: dash.Dash, path: str) -> None:
    headers = app.server.test_client().get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_csp_allows_no_third_party_origin_and_hashes_dash_inline_scripts(app: dash.Dash) -> None:
    policy = app.server.test_client().get("/").headers["Content-Security-Policy"]
    sources = " ".join(part.split(" ", 1)[1] for part in policy.split("; "))
    assert not re.search(r"https?:|\*|//", sources)
    for digest in app.csp_hashes():
        assert digest in policy
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    script_src = policy.split("script-src", 1)[1].split(";")[0]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src


def test_unexpected_error_is_json_without_traceback(app: dash.Dash) -> None:
    response = app.server.test_client().get("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    body = response.json
    assert body["status"] == 500 and "reference" in body["message"]
    assert "secret" not in response.get_data(as_text=True) and "Traceback" not in response.get_data(
        as_text=True
    )


def test_unexpected_error_in_a_browser_is_a_small_html_page(app: dash.Dash) -> None:
    response = app.server.test_client().get("/boom", headers={"Accept": "text/html"})
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Back to the dashboard" in response.get_data(as_text=True)
    assert "shadow" not in response.get_data(as_text=True)


def test_oversized_request_is_413_with_a_message(app: dash.Dash) -> None:
    payload = json.dumps({"output": "x.children", "inputs": [], "blob": "a" * (max_request_bytes(4096) + 10)})
    response = app.server.test_client().post(
        "/_dash-update-component", data=payload, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json["message"] == "the upload is too large"


def test_request_limit_covers_two_base64_uploads() -> None:
    limit = max_request_bytes(10 * 2**20)
    assert limit >= 2 * (10 * 2**20 * 4 // 3)
    assert limit < 30 * 2**20


def test_policy_builder_includes_given_hashes() -> None:
    assert "'sha256-abc'" in content_security_policy(["'sha256-abc'"])


def test_dash_prevent_update_keeps_its_204(app: dash.Dash) -> None:
    from dash.exceptions import PreventUpdate

    @app.server.get("/prevent")
    def prevent() -> str:
        raise PreventUpdate

    assert app.server.test_client().get("/prevent").status_code == 204


def test_hsts_only_over_https(app: dash.Dash) -> None:
    client = app.server.test_client()
    assert "Strict-Transport-Security" not in client.get("/health").headers
    assert (
        client.get("/health", base_url="https://localhost")
        .headers["Strict-Transport-Security"]
        .startswith("max-age=")
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "the Ray cluster at ray-head:6379 (RAY_ADDRESS) is unreachable: connection refused",
            "the Ray cluster at [hidden] (RAY_ADDRESS) is unreachable: connection refused",
        ),
        ("cannot reach the Ray head at ray://10.0.0.1:10001", "cannot reach the Ray head at [hidden]"),
        ("redis://:s3cret@redis:6379/0 is down", "[hidden] is down"),
        ("[::1]:6379 refused", "[hidden] refused"),
        ("no such file: /srv/data/sentiment.csv", "no such file: [hidden]"),
        ("node 10.1.2.3 left", "node [hidden] left"),
        # not internals: times, ratios, sizes, the executor setting
        ("started at 10:30, 1/2 done, 3.5 GiB", "started at 10:30, 1/2 done, 3.5 GiB"),
        (
            "ENGINE_EXECUTOR=serial: sweeps use this process",
            "ENGINE_EXECUTOR=serial: sweeps use this process",
        ),
    ],
)
def test_redact_internals_hides_addresses_urls_and_paths(text: str, shown: str) -> None:
    from dashapp.security import redact_internals

    assert redact_internals(text) == shown


def test_redact_internals_hides_a_known_name_without_a_port() -> None:
    from dashapp.security import redact_internals

    assert redact_internals("the head 'ray-head' refused", "ray-head") == "the head '[hidden]' refused"
