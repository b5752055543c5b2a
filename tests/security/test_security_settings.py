"""Security settings, each checked on the shipped code and configuration.

- production never runs in debug (app factory, gunicorn.conf.py, ``python -m dashapp``);
- security headers and the CSP on every kind of response;
- uploads are bounded (request size, ``dcc.Upload`` ``max_size``);
- no endpoint fetches a URL a user supplies (static scan + a socket guard);
- CSV downloads neutralise formula injection, end to end through download callbacks;
- Ray's dashboard/client/GCS ports and Redis are never reachable from outside in any
  shipped configuration (docker-compose.yml, deploy/, packer/, the embedded head).
"""

from __future__ import annotations

import ast
import base64
import csv
import io
import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import pytest
import yaml

import engine
from dashapp import create_app
from dashapp.security import max_request_bytes
from dashapp.state import state_of

REPO = Path(__file__).resolve().parents[2]
UPDATE = "/_dash-update-component"
FORMULA = "=cmd|' /C calc'!A0"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dash.Dash]:
    yield create_app({"CACHE_DIR": str(tmp_path_factory.mktemp("security")), "ENGINE_EXECUTOR": "serial"})


@pytest.fixture(scope="module")
def client(app: dash.Dash) -> Any:
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    return client


@pytest.fixture(scope="module")
def dependencies(client: Any) -> dict[str, dict[str, Any]]:
    deps = client.get("/_dash-dependencies").json
    return {d["output"].strip(".").split("...")[0].split("@")[0]: d for d in deps}


def call(client: Any, dep: dict[str, Any], inputs: list[Any], state: list[Any]) -> Any:
    """Post one callback as the Dash renderer does; the response's JSON."""

    def spec(text: str) -> dict[str, str]:
        ident, prop = text.rsplit(".", 1)
        return {"id": ident, "property": prop.split("@")[0]}

    out = dep["output"]
    outputs = [spec(x) for x in out.strip(".").split("...")] if out.startswith("..") else spec(out)
    body = {
        "output": out,
        "outputs": outputs,
        "inputs": [{**x, "value": v} for x, v in zip(dep["inputs"], inputs, strict=False)],
        "state": [{**x, "value": v} for x, v in zip(dep["state"], state, strict=False)],
        "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"],
    }
    response = client.post(UPDATE, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.json["response"]


# ----- debug -------------------------------------------------------------------------------------------


def test_defaults_never_debug_even_with_framework_debug_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "FLASK_DEBUG",
        "DASH_DEBUG",
        "DASH_DEV_TOOLS_UI",
        "DASH_DEV_TOOLS_PROPS_CHECK",
        "WERKZEUG_DEBUG_PIN",
    ):
        monkeypatch.setenv(name, "1" if name != "DASH_DEBUG" else "true")
    monkeypatch.delenv("DEBUG", raising=False)
    app = create_app({"CACHE_DIR": str(tmp_path)})

    @app.server.get("/explode")
    def explode() -> str:
        raise RuntimeError("internal detail /srv/secret")

    assert app.server.debug is False and app.server.config["DEBUG"] is False
    assert app.server.config["PROPAGATE_EXCEPTIONS"] is False
    response = app.server.test_client().get("/explode", headers={"Accept": "text/html"})
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in text and "secret" not in text and "Werkzeug Debugger" not in text


def test_gunicorn_conf_imports_clean_and_sets_nothing_debug_like() -> None:
    probe = (
        "import json, runpy, sys\n"
        "ns = runpy.run_path('gunicorn.conf.py')\n"
        "heavy = sorted(m for m in ('dashapp', 'engine', 'ray', 'dash', 'flask') if m in sys.modules)\n"
        "keys = ('reload', 'loglevel', 'bind', 'preload_app', 'spew', 'raw_env', 'reload_extra_files',"
        " 'check_config', 'print_config', 'limit_request_line', 'limit_request_field_size')\n"
        "print(json.dumps({'heavy': heavy, **{k: ns.get(k) for k in keys}}))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    settings = json.loads(done.stdout)
    assert done.stderr == ""
    assert settings["heavy"] == [], (
        "importing gunicorn.conf.py must not import the app or Ray (preload is off)"
    )
    assert settings["reload"] is False and not settings["reload_extra_files"]
    assert settings["loglevel"] == "info" and not settings["spew"]
    assert not settings["check_config"] and not settings["print_config"]
    assert not any("DEBUG" in str(v).upper() for v in settings["raw_env"] or [])
    assert settings["bind"] == ["127.0.0.1:8050"]  # loopback unless SPL_BIND says otherwise
    assert 0 < settings["limit_request_line"] <= 8190 and 0 < settings["limit_request_field_size"] <= 8190


class _FakeApp:
    def __init__(self, calls: list[dict[str, Any]], config: Any) -> None:
        self.calls, self.config = calls, config

    def run(self, **kwargs: Any) -> None:
        self.calls.append({"config": self.config, **kwargs})


def _run_dev_server(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import dashapp.__main__ as dev

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(dev, "create_app", lambda config=None: _FakeApp(calls, config))
    monkeypatch.setattr(dev, "finish_setup", lambda app: None)  # needs a real Dash app
    dev.main(argv)
    (call_,) = calls
    return call_


def test_dev_server_is_not_debug_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUG", "0")
    plain = _run_dev_server([], monkeypatch)
    assert (
        plain["debug"] is False and plain["host"] == "127.0.0.1" and not (plain["config"] or {}).get("DEBUG")
    )
    asked = _run_dev_server(["--debug"], monkeypatch)
    assert asked["debug"] is True and asked["config"] == {"DEBUG": True} and asked["host"] == "127.0.0.1"


def test_dev_server_refuses_debug_on_a_public_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        _run_dev_server(["--debug", "--host", "0.0.0.0"], monkeypatch)
    except SystemExit as exit_:
        assert exit_.code not in (0, None)
        return
    pytest.fail("debug mode was started on 0.0.0.0")


# ----- headers ----------------------------------------------------------------------------------------

PAGES = [
    "/",
    "/backtest",
    "/sweep",
    "/stocks",
    "/data",
    "/status",
    "/health",
    "/ready",
    "/_dash-layout",
    "/_dash-dependencies",
    "/assets/50-app.css",
    "/no-such-page",
    "/assets/no-such-file.css",
]


def _assert_security_headers(headers: Any) -> None:
    policy = headers["Content-Security-Policy"]
    directives = dict(part.split(" ", 1) for part in policy.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'" and directives["form-action"] == "'self'"
    assert (
        "'unsafe-eval'" not in directives["script-src"] and "'unsafe-inline'" not in directives["script-src"]
    )
    assert not re.search(r"https?:|\*|//", " ".join(directives.values())), "no third-party origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"] and "geolocation=()" in headers["Permissions-Policy"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_page(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (200, 404, 503)
    _assert_security_headers(response.headers)


def test_security_headers_on_callbacks_and_errors(app: dash.Dash, client: Any) -> None:
    badge = {
        "output": "source-badge.children",
        "outputs": {"id": "source-badge", "property": "children"},
        "inputs": [{"id": "session-source", "property": "data", "value": None}],
        "state": [],
        "changedPropIds": [],
    }
    too_big = json.dumps({**badge, "pad": "x" * (app.server.config["MAX_CONTENT_LENGTH"] + 1)})
    for response in (
        client.post(UPDATE, json=badge),
        client.post(UPDATE, data=too_big, content_type="application/json"),
        client.post(UPDATE, data="{bad", content_type="application/json"),
        client.put("/health"),
    ):
        assert response.status_code in (200, 400, 405, 413)
        _assert_security_headers(response.headers)


def test_session_cookie_flags(app: dash.Dash) -> None:
    assert app.server.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.server.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert len(app.server.config["SECRET_KEY"]) >= 32


# ----- upload limits ----------------------------------------------------------------------------------


def test_request_size_is_bounded_by_default(app: dash.Dash) -> None:
    upload = state_of(app.server).config.MAX_UPLOAD_BYTES
    assert upload == 10 * 2**20
    assert app.server.config["MAX_CONTENT_LENGTH"] == max_request_bytes(upload) < 30 * 2**20


def test_data_page_uploads_have_max_size(
    app: dash.Dash, client: Any, dependencies: dict[str, dict[str, Any]]
) -> None:
    page = call(client, dependencies["_pages_content.children"], ["/data", ""], [])
    uploads = [c for c in _components(page) if c.get("type") == "Upload"]
    assert {u["props"]["id"] for u in uploads} == {"data-upload-sentiment", "data-upload-prices"}
    limit = state_of(app.server).config.MAX_UPLOAD_BYTES
    assert all(u["props"]["max_size"] == limit for u in uploads)
    assert all(u["props"].get("multiple") is False for u in uploads)


def _components(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "type" in node and "props" in node:
            yield node
        for value in node.values():
            yield from _components(value)
    elif isinstance(node, list):
        for value in node:
            yield from _components(value)


# ----- no user-supplied URL is ever fetched ---------------------------------------------------------------

NETWORK_MODULES = {
    "requests",
    "urllib.request",
    "urllib3",
    "httpx",
    "aiohttp",
    "http.client",
    "pycurl",
    "curl_cffi",
    "socket",
    "ftplib",
    "smtplib",
    "yfinance",
    "websocket",
    "websockets",
}
READERS_THAT_TAKE_URLS = {
    "read_csv",
    "read_parquet",
    "read_json",
    "read_html",
    "read_excel",
    "read_xml",
    "read_table",
    "read_feather",
    "read_pickle",
    "urlopen",
}


def _python_files() -> list[Path]:
    return sorted(p for package in ("dashapp", "engine") for p in (REPO / package).rglob("*.py"))


def test_only_the_yahoo_module_imports_network_code() -> None:
    found: dict[str, set[str]] = {}
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                if name in NETWORK_MODULES or name.split(".")[0] in {
                    "requests",
                    "httpx",
                    "aiohttp",
                    "yfinance",
                    "urllib3",
                    "curl_cffi",
                }:
                    found.setdefault(str(path.relative_to(REPO)), set()).add(name)
    allowed = {
        "engine/data/yahoo.py": {"yfinance", "yfinance.exceptions"},  # the one data download (fixed host)
        "engine/execution/cluster.py": {
            "socket"
        },  # a free loopback port, and a TCP probe of the operator's RAY_ADDRESS
    }
    assert set(found) <= set(allowed), found
    for module, names in found.items():
        assert names <= allowed[module], (module, names)


def test_pandas_readers_only_ever_read_in_memory_bytes() -> None:
    """pandas' read_* functions fetch http(s)/s3/ftp URLs themselves: only io buffers may reach them."""
    offenders = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in READERS_THAT_TAKE_URLS
            ):
                first = node.args[0] if node.args else None
                in_memory = (
                    isinstance(first, ast.Call)
                    and isinstance(first.func, ast.Attribute)
                    and first.func.attr in ("StringIO", "BytesIO")
                )
                cache_file = path.name == "yahoo.py" and ast.unparse(first or node) == "path"  # its own cache
                if not in_memory and not cache_file:
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno} {ast.unparse(node)[:80]}")
    assert not offenders, offenders


URLS = (
    "http://169.254.169.254/latest/meta-data/",
    "https://example.com/data.csv",
    "file:///etc/passwd",
    "ftp://10.0.0.1/x.csv",
    "s3://bucket/key.csv",
    "\\\\10.0.0.1\\share\\x.csv",
)


def test_no_callback_fetches_a_url_given_as_a_data_source(
    client: Any, dependencies: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[Any] = []
    real_connect = socket.socket.connect

    def guarded_connect(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost")):
            return real_connect(sock, address)
        attempts.append(address)
        raise OSError("outbound connection blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: (
            attempts.append(host)
            or (_ for _ in ()).throw(socket.gaierror("name resolution blocked by the test"))
        ),
    )
    import yfinance  # uses libcurl (curl_cffi), which the socket guard cannot see

    monkeypatch.setattr(
        yfinance, "download", lambda *args, **kwargs: attempts.append(("yfinance", args, kwargs))
    )
    upload = dependencies["data-candidate.data"]
    for url in URLS:
        sources = (
            url,
            {"kind": "url", "url": url},
            {"kind": "upload", "id": url, "name": url},
            {"kind": "files", "path": url},
        )
        for source in sources:
            for key in ("source-badge.children", "data-active.children", "status-message.children"):
                dep = dependencies[key]
                call(client, dep, [source] * len(dep["inputs"]), [source] * len(dep["state"]))
        answer = call(client, upload, [url, None], [url, None])
        assert "data-candidate" not in answer or answer["data-candidate"]["data"] is None
        # A data: URL holding a URL is just text to validate, never a link to follow.
        text_url = "data:text/csv;base64," + base64.b64encode(url.encode()).decode()
        answer = call(client, upload, [text_url, text_url], ["x.csv", "y.csv"])
        assert answer["data-candidate"]["data"] is None
    assert attempts == [], f"outbound connections attempted: {attempts}"


def test_the_only_outbound_fetch_is_yahoo_for_ticker_shaped_symbols(
    client: Any, dependencies: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An upload without a price file makes the server ask Yahoo, for validated tickers only."""
    import numpy as np
    import pandas as pd
    import yfinance

    # The download runs in the Data page's background job (a forked process): it writes down
    # what it was asked for in a file the test reads afterwards.
    asked = tmp_path / "requested.txt"

    def fake_download(tickers: Any, **kwargs: Any) -> pd.DataFrame:
        names = [tickers] if isinstance(tickers, str) else list(tickers)
        with asked.open("a") as handle:
            handle.write("".join(f"{name}\n" for name in names))
        days = pd.bdate_range("2021-12-01", "2022-06-30")
        closes = 100 * np.cumprod(
            1 + np.random.default_rng(0).normal(0, 0.01, (len(days), len(names))), axis=0
        )
        columns = pd.MultiIndex.from_product([["Close"], names], names=["Price", "Ticker"])
        return pd.DataFrame(closes, index=pd.DatetimeIndex(days, name="Date"), columns=columns)

    monkeypatch.setattr(yfinance, "download", fake_download)
    # The fake prices do not reach a shared cache: the app keeps Yahoo downloads in its own
    # temporary CACHE_DIR (AppConfig.yahoo_cache_dir; the environment is read once, by create_app).
    rows = ["date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment"]
    for day in pd.bdate_range("2022-01-03", "2022-03-31"):
        for symbol in ("YHOOA", "YHOOB", "http://169.254.169.254/", "=cmd|' /C calc'!A0", "../etc"):
            rows.append(f'{day.date()},"{symbol}",5,30,50,100,0.5')
    contents = "data:text/csv;base64," + base64.b64encode("\n".join(rows).encode()).decode()
    answer = call(client, dependencies["data-candidate.data"], [contents, None], ["no-prices.csv", None])
    job = answer["data-yahoo-job"]["data"]
    assert job is not None and answer["data-candidate"]["data"] is None  # the job downloads

    def transport(method: str, path: str, body: Any) -> tuple[int, Any]:
        response = client.open(path, method=method, json=body)
        text = response.get_data(as_text=True)
        try:
            return response.status_code, json.loads(text or "null")
        except ValueError:
            return response.status_code, text

    from tests.support.dash_http import DashClient

    dash_client = DashClient(transport)
    done = dash_client.fire_background(
        dependencies["data-validation.children"],
        "data-yahoo-job.data",
        {
            "data-yahoo-job.data": job,
            "data-upload-sentiment.contents": contents,
            "data-upload-sentiment.filename": "no-prices.csv",
        },
    )
    assert done["data-candidate"]["data"]["kind"] == "upload"
    requested = asked.read_text().split()
    assert requested and set(requested) <= {"YHOOA", "YHOOB", "QQQ"}
    assert all(engine.is_ticker(t) for t in requested)


# ----- CSV downloads neutralise formula injection -----------------------------------------------------------


def _cells(content: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content)))


def _formula_cells(rows: list[list[str]], *, skip_comments: bool) -> list[str]:
    bad = []
    for row in rows:
        if skip_comments and row and row[0].startswith("#"):
            continue
        bad.extend(cell for cell in row if cell.startswith(FORMULA_START) and not NUMBER.match(cell))
    return bad


def _hostile_sweep_result() -> dict[str, Any]:
    return {
        "records": [
            {
                "top_n": FORMULA,
                "sharpe": "+1+cmd",
                "error": "@SUM(1)",
                "weighting": "-2+cmd",
                "cagr": -0.25,
                "note": "\t=1",
            }
        ],
        "columns": ["top_n", "sharpe", "error", "weighting", "cagr", "note", FORMULA],
        "grid": {"top_n": [FORMULA, "," + FORMULA]},
        "base": {"benchmark": "," + FORMULA},
        "deflated_sharpe": "," + FORMULA,
        "executor": "\n=1+1",
    }


def test_sweep_download_neutralises_client_supplied_cells(
    client: Any, dependencies: dict[str, dict[str, Any]]
) -> None:
    answer = call(client, dependencies["sweep-download.data"], [1], [_hostile_sweep_result()])
    download = answer["sweep-download"]["data"]
    # Named by the engine's one rule from the server's data (never from the client's Store).
    assert re.fullmatch(r"sweep_[0-9a-f]{16}\.csv", download["filename"]) and download["type"] == "text/csv"
    rows = _cells(download["content"])
    assert _formula_cells(rows, skip_comments=True) == []
    body = [r for r in rows if r and not r[0].startswith("#")]
    # Only the grid's and the engine's columns are written (engine.research.sweep_export), so
    # the client's extra column named as a formula is not in the file at all.
    assert "top_n" in body[0] and FORMULA not in body[0] and "'" + FORMULA not in body[0]
    assert "'" + FORMULA in body[1] and "'@SUM(1)" in body[1] and "-0.25" in body[1]  # numbers stay numbers


def test_sweep_download_header_lines_hold_no_formula_cell(
    client: Any, dependencies: dict[str, dict[str, Any]]
) -> None:
    answer = call(client, dependencies["sweep-download.data"], [1], [_hostile_sweep_result()])
    rows = _cells(answer["sweep-download"]["data"]["content"])
    assert _formula_cells(rows, skip_comments=False) == []


def _demo_upload() -> tuple[str, str]:
    demo = engine.DemoProvider()
    sentiment, _ = demo.sentiment()
    symbols = sorted(sentiment["symbol"].unique())[:10]
    sentiment = sentiment[sentiment["symbol"].isin(symbols)]
    prices, _ = demo.prices([*symbols, "QQQ"], None, None)

    def encoded(text: str) -> str:
        return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()

    return (
        encoded(sentiment.to_csv(index=False, date_format="%Y-%m-%d")),
        encoded(prices.to_csv(index_label="date", date_format="%Y-%m-%d")),
    )


def test_backtest_downloads_of_an_upload_with_a_formula_name_are_safe(
    client: Any, dependencies: dict[str, dict[str, Any]]
) -> None:
    """Upload (named like a formula) -> use it -> run -> download each CSV: no formula cell anywhere."""
    sentiment, prices = _demo_upload()
    saved = call(
        client,
        dependencies["data-candidate.data"],
        [sentiment, prices],
        [FORMULA + ".csv", "@SUM(1),=1+1.csv"],
    )
    source = saved["data-candidate"]["data"]
    assert source["kind"] == "upload" and not source["name"].startswith(FORMULA_START)
    chosen = call(client, dependencies["session-source.data"], [1, None], [source])
    assert chosen["session-source"]["data"] == source
    run = dependencies["backtest-results.children"]
    fields = [None] * (len(run["state"]) - 1)
    result = call(client, run, [1, None], [*fields, source])
    state = result["backtest-run-state"]["data"]
    assert state and state["source"] == source
    for kind in ("returns", "holdings", "metrics"):
        answer = call(client, dependencies[f"backtest-download-{kind}.data"], [1], [state])
        content = answer[f"backtest-download-{kind}"]["data"]["content"]
        rows = _cells(content)
        assert rows[0][0].startswith("#") and len(rows) > 3
        assert _formula_cells(rows, skip_comments=False) == [], kind
        assert FORMULA not in content


# ----- what is reachable from outside --------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_publishes_only_the_app_and_on_loopback_by_default(compose: dict[str, Any]) -> None:
    published = {
        name: service.get("ports") for name, service in compose["services"].items() if service.get("ports")
    }
    assert set(published) == {"app"}
    (mapping,) = published["app"]
    assert mapping.endswith(":8050") and "${SPL_PUBLISH:-127.0.0.1:8050}" in mapping
    for name in ("ray-head", "ray-worker", "redis"):
        assert "network_mode" not in compose["services"][name], f"{name} must stay on the compose network"


def test_compose_redis_requires_a_password_and_is_not_published(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    assert "ports" not in redis
    command = "\n".join(redis["command"])
    assert "requirepass" in command and ":?" in command  # an empty password stops redis-server
    assert redis["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD:?")
    assert "${REDIS_PASSWORD:?" in compose["services"]["app"]["environment"]["CACHE_REDIS_URL"]
    assert "--protected-mode no" not in command


def _shipped_text_files() -> list[Path]:
    roots = [
        REPO / "deploy",
        REPO / "packer",
        REPO / "docker-compose.yml",
        REPO / "Dockerfile",
        REPO / "gunicorn.conf.py",
        REPO / "engine" / "execution" / "cluster.py",
    ]
    files: list[Path] = []
    for root in roots:
        if root.is_dir():
            files.extend(p for p in root.rglob("*") if p.is_file())
        elif root.is_file():
            files.append(root)
    return files


def test_no_shipped_configuration_opens_the_ray_dashboard_or_client_port() -> None:
    offenders = []
    pattern = re.compile(
        r"--dashboard-host[= ]+(?!127\.0\.0\.1|localhost)|--include-dashboard[= ]+true"
        r"|ray-client-server-port|--ray-client|RAY_DASHBOARD_HOST|:8265\b|:10001\b|\b8265:",
        re.IGNORECASE,
    )
    for path in _shipped_text_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:100]}")
    assert not offenders, offenders


def test_every_ray_head_start_disables_the_dashboard_and_requires_a_token() -> None:
    node = (REPO / "deploy" / "bin" / "ray-node.sh").read_text()
    head_line = next(line for line in node.splitlines() if "--head" in line)
    assert "--include-dashboard=false" in head_line
    assert re.search(r'RAY_AUTH_MODE:-}" == token \]\] \|\| die', node)
    embedded = (REPO / "engine" / "execution" / "cluster.py").read_text()
    assert '"--include-dashboard=false"' in embedded and '"--node-ip-address=127.0.0.1"' in embedded
    assert 'RAY_AUTH_MODE="token"' in embedded


def test_packer_security_groups_keep_ray_and_redis_inside_the_vpc() -> None:
    readme = (REPO / "packer" / "README.md").read_text()
    section = readme.split("### Security groups", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")][2:]  # skip header and rule
    groups = {}
    for line in lines:
        group, inbound, source = (cell.strip() for cell in line.strip("|").split("|"))
        groups[group.split(" ")[0].strip("`")] = (inbound, source)
    assert set(groups) == {"alb", "app", "ray", "redis"}
    assert groups["ray"][1].startswith("`ray` itself"), "Ray ports only from the ray group"
    assert groups["redis"] == ("6379", "`app` only")
    assert groups["app"] == ("8050", "`alb` only")
    assert "0.0.0.0/0" not in section
    for path in (REPO / "packer").rglob("*.hcl"):
        assert "0.0.0.0/0" not in path.read_text(), f"{path.name} opens a port to the internet"
