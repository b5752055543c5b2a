"""Security headers, upload size limit and the catch-all error handler.

The Content-Security-Policy allows nothing from other origins. Scripts: this origin plus
the hashes of Dash's inline scripts (``app.csp_hashes()``); no ``'unsafe-eval'`` and no
``'unsafe-inline'`` for scripts (checked in headless chromium: plotly 6/7 charts, hover
labels, tick and text templates render without them). Styles need ``'unsafe-inline'``:
React writes ``style`` attributes and dcc/plotly.js inject ``<style>`` elements at run
time (chromium logs "Applying inline style violates ..." without it). Images may be
``data:``/``blob:`` (Bootstrap's SVG icons, plotly's "download as PNG").
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from typing import Any

import dash
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


def content_security_policy(script_hashes: list[str]) -> str:
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def max_request_bytes(max_upload_bytes: int) -> int:
    """Two uploads (sentiment + prices) travel base64-encoded (4/3) in one callback body."""
    return 2 * math.ceil(max_upload_bytes * 4 / 3) + 1024 * 1024


def install_security(app: dash.Dash, *, max_upload_bytes: int) -> None:
    server: Flask = app.server
    server.config["MAX_CONTENT_LENGTH"] = max_request_bytes(max_upload_bytes)
    server.config["PROPAGATE_EXCEPTIONS"] = False
    server.config["SESSION_COOKIE_HTTPONLY"] = True
    server.config["SESSION_COOKIE_SAMESITE"] = "Lax"

    def csp() -> str:
        # Computed on first use: every page (and its clientside callbacks) is registered by then.
        policy = server.extensions.get("spl_csp")
        if policy is None:
            policy = content_security_policy(list(app.csp_hashes()))
            server.extensions["spl_csp"] = policy
        return policy

    @server.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp())
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if request.is_secure:  # HTTPS (gunicorn trusts X-Forwarded-Proto from FORWARDED_ALLOW_IPS)
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        message = {413: "the upload is too large", 404: "not found", 405: "method not allowed"}.get(
            exc.code or 500, exc.description or exc.name
        )
        return error_response(exc.code or 500, exc.name, message)

    @server.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        error_id = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", error_id, request.method, request.path)
        return error_response(
            500,
            "Internal Server Error",
            f"an unexpected error occurred (reference {error_id}); it has been logged",
        )


def error_response(status: int, title: str, message: str) -> Any:
    wants_html = request.accept_mimetypes.best == "text/html" and not request.path.startswith("/_dash")
    if wants_html:
        body = (
            f"<!doctype html><title>{status} {title}</title><h1>{status} {title}</h1>"
            f'<p>{_escape(message)}</p><p><a href="/">Back to the dashboard</a></p>'
        )
        return Response(body, status=status, mimetype="text/html")
    response = jsonify({"error": title, "message": message, "status": status})
    response.status_code = status
    return response


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


# Internals a visitor is not shown (docs/security.md "What the pages show"): URLs (they may
# carry credentials or tokens), host:port pairs, IP addresses and filesystem paths.
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://\S+")
# a host name or address (with a letter or a dot: "10:30" is a time) or a bracketed IPv6
_HOST_PORT = re.compile(
    r"(?<![\w.:/\-])(?:\[[0-9A-Fa-f:.]+\]|(?=[\w\-]*[A-Za-z.])[A-Za-z0-9][\w.\-]*):\d{2,5}\b"
)
_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_PATH = re.compile(r"(?<![\w.:/])(?:~|[A-Za-z]:)?[/\\](?:[^\s/\\'\",;:()]+[/\\])*[^\s/\\'\",;:()]+")
HIDDEN = "[hidden]"


def redact_internals(text: str, *known: str | None) -> str:
    """``text`` with internals replaced by ``[hidden]``: each ``known`` string (an address
    or path the caller has at hand, e.g. the cluster's address), then URLs, host:port
    pairs, IPv4 addresses and absolute paths found by pattern. For messages a visitor
    sees (the Status page); the full text belongs in the server log."""
    for item in sorted((k for k in known if k), key=len, reverse=True):
        text = text.replace(item, HIDDEN)
    for pattern in (_URL, _HOST_PORT, _IPV4, _PATH):
        text = pattern.sub(HIDDEN, text)
    return text
