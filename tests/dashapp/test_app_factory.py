"""create_app: configuration precedence, safe defaults, pages, local assets, the WSGI entry point."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import dash
import pytest

from dashapp import create_app
from dashapp.config import AppConfig, ConfigError
from dashapp.state import state_of


@pytest.fixture
def app(tmp_path: Path) -> dash.Dash:
    return create_app({"CACHE_DIR": str(tmp_path / "cache")})


def test_config_override_reaches_the_flask_app(tmp_path: Path) -> None:
    app = create_app({"CACHE_DIR": str(tmp_path / "c"), "DEMO_SEED": 11, "MAX_UPLOAD_BYTES": 2048})
    config = state_of(app.server).config
    assert (str(tmp_path / "c"), 11, 2048) == (config.CACHE_DIR, config.DEMO_SEED, config.MAX_UPLOAD_BYTES)
    assert (tmp_path / "c" / "results").is_dir() and (tmp_path / "c" / "background").is_dir()


def test_environment_is_read_and_overrides_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEMO_SEED", "3")
    monkeypatch.setenv("CACHE_DEFAULT_TIMEOUT", "60")
    config = AppConfig.load(overrides={"DEMO_SEED": "5", "CACHE_DIR": str(tmp_path)})
    assert config.DEMO_SEED == 5  # override beats environment
    assert config.CACHE_DEFAULT_TIMEOUT == 60  # environment beats default


def test_debug_is_off_by_default(app: dash.Dash) -> None:
    assert state_of(app.server).config.DEBUG is False
    assert app.server.config["DEBUG"] is False
    assert app.server.config["PROPAGATE_EXCEPTIONS"] is False


def test_debug_is_refused_under_gunicorn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    with pytest.raises(ConfigError, match="refused in production"):
        create_app({"CACHE_DIR": str(tmp_path), "DEBUG": True})


def test_secret_key_is_random_when_unset() -> None:
    assert AppConfig.load(env={}).SECRET_KEY != AppConfig.load(env={}).SECRET_KEY
    assert len(AppConfig.load(env={}).SECRET_KEY) >= 32
    assert AppConfig.load(env={"SECRET_KEY": "fixed"}).SECRET_KEY == "fixed"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATA_SOURCE": "bogus"}, "DATA_SOURCE must be one of"),
        ({"DATA_SOURCE": "files"}, "needs SENTIMENT_PATH"),
        ({"CACHE_TYPE": "RedisCache"}, "needs CACHE_REDIS_URL"),
        ({"CACHE_TYPE": "Memcached"}, "CACHE_TYPE must be one of"),
        ({"MAX_UPLOAD_BYTES": "ten"}, "MAX_UPLOAD_BYTES must be a whole number"),
        ({"MAX_UPLOAD_BYTES": "10"}, "MAX_UPLOAD_BYTES must be a whole number >= 1024"),
        ({"DEBUG": "maybe"}, "DEBUG must be 0/1"),
        ({"ENGINE_EXECUTOR": "threads"}, "ENGINE_EXECUTOR must be one of"),
        ({"COMPUTE_PROCESSES": "-1"}, "COMPUTE_PROCESSES must be a whole number >= 0"),
        ({"COMPUTE_NICENESS": "20"}, "COMPUTE_NICENESS must be between 0 and 19"),
    ],
)
def test_bad_configuration_fails_at_start_with_one_sentence(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AppConfig.load(env=env)


def test_unknown_override_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown configuration key"):
        AppConfig.load(env={}, overrides={"CACHE_DIRECTORY": "/tmp"})


def test_compute_pool_follows_the_configuration(tmp_path: Path) -> None:
    inline = state_of(create_app({"CACHE_DIR": str(tmp_path / "a")}).server).compute
    pooled = state_of(create_app({"CACHE_DIR": str(tmp_path / "b"), "COMPUTE_PROCESSES": 2}).server).compute
    assert (inline.processes, pooled.processes) == (0, 2)
    assert not pooled.started  # nothing starts until the first job (after gunicorn's fork)


def test_defaults() -> None:
    config = AppConfig.load(env={})
    assert (config.DATA_SOURCE, config.CACHE_TYPE, config.MAX_UPLOAD_BYTES) == (
        "demo",
        "FileSystemCache",
        10 * 2**20,
    )


def test_yahoo_cache_dir_is_read_once_with_the_config(tmp_path: Path) -> None:
    config = AppConfig.load(env={"CACHE_DIR": str(tmp_path / "c"), "YAHOO_CACHE_DIR": str(tmp_path / "y")})
    assert config.yahoo_cache_dir() == tmp_path / "y"
    assert config.provider_env()["YAHOO_CACHE_DIR"] == str(tmp_path / "y")  # what provider_from_env gets
    assert (
        AppConfig.load(env={"CACHE_DIR": str(tmp_path / "c")}).yahoo_cache_dir() == tmp_path / "c" / "yahoo"
    )
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"YAHOO_CACHE_DIR .* is not a directory"):
        AppConfig.load(env={"YAHOO_CACHE_DIR": str(tmp_path / "file")})


def test_the_app_does_not_sniff_yahoo_cache_dir_after_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment is read once, by create_app; a later change reaches nothing."""
    from dashapp.services import sources

    app = create_app({"CACHE_DIR": str(tmp_path / "cache")})
    monkeypatch.setenv("YAHOO_CACHE_DIR", str(tmp_path / "elsewhere"))
    with app.server.test_request_context("/"):
        provider = sources._upload_provider(b"date,symbol\n", None, "s.csv", "")
    assert provider.cache.directory == tmp_path / "cache" / "yahoo"


def test_clearing_the_cache_is_off_unless_the_operator_allows_it() -> None:
    assert AppConfig.load(env={}).SPL_ALLOW_CACHE_CLEAR is False
    assert AppConfig.load(env={"SPL_ALLOW_CACHE_CLEAR": "1"}).SPL_ALLOW_CACHE_CLEAR is True
    with pytest.raises(ConfigError, match="SPL_ALLOW_CACHE_CLEAR must be 0/1"):
        AppConfig.load(env={"SPL_ALLOW_CACHE_CLEAR": "sometimes"})


def test_pages_are_registered(app: dash.Dash) -> None:
    paths = {page["module"]: page["path"] for page in dash.page_registry.values()}
    assert paths["dashapp.pages.data"] == "/data"
    assert paths["dashapp.pages.status"] == "/status"


def test_index_serves_the_shell_with_local_stylesheets_only(app: dash.Dash) -> None:
    response = app.server.test_client().get("/data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Sentiment Portfolio Lab</title>" in html
    links = re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert any("00-bootstrap" in href for href in links)
    assert not [
        href
        for href in links + re.findall(r'<script[^>]+src="([^"]+)"', html)
        if href.startswith(("http:", "https:", "//"))
    ]


def test_shell_layout_has_the_session_store_location_and_badge(app: dash.Dash) -> None:
    with app.server.test_request_context("/"):
        layout = str(app.layout())
    for fragment in (
        "id='session-source'",
        "storage_type='session'",
        "id='url'",
        "refresh='callback-nav'",
        "id='source-badge'",
        "Data",
        "Status",
    ):
        assert fragment in layout


def test_badge_callback_says_synthetic_for_the_demo(app: dash.Dash) -> None:
    from dashapp.layout import render_badge

    with app.server.app_context():
        assert "SYNTHETIC" in str(render_badge(None))
        assert "malformed" in str(render_badge({"kind": "upload", "id": "nope"}))


def test_wsgi_exposes_a_flask_application(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "wsgi-cache"))
    import dashapp.wsgi as wsgi

    module: Any = importlib.reload(wsgi)
    assert module.application is module.app.server
    assert module.application.test_client().get("/health").json == {"status": "ok"}
    assert str(tmp_path / "wsgi-cache") == state_of(module.application).config.CACHE_DIR


def test_dev_server_parses_arguments_without_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    import dashapp.__main__ as main

    seen: dict[str, Any] = {}

    class FakeApp:
        def run(self, **kwargs: Any) -> None:
            seen.update(kwargs)

    monkeypatch.setattr(main, "create_app", lambda config=None: seen.update(config=config) or FakeApp())
    monkeypatch.setattr(main, "finish_setup", lambda app: seen.update(set_up=isinstance(app, FakeApp)))
    main.main(["--port", "8123"])
    assert seen == {"config": None, "set_up": True, "host": "127.0.0.1", "port": 8123, "debug": False}


def test_responses_are_compressed_for_clients_that_accept_it(app: dash.Dash) -> None:
    import gzip

    client = app.server.test_client()
    plain = client.get("/_dash-layout")
    packed = client.get("/_dash-layout", headers={"Accept-Encoding": "gzip"})
    assert plain.headers.get("Content-Encoding") is None
    assert packed.headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert "Content-Security-Policy" in packed.headers  # compression keeps the security headers


def test_the_wsgi_entry_point_stops_on_a_bad_setting_with_one_line(tmp_path: Path) -> None:
    """gunicorn's workers import dashapp.wsgi: a bad setting stops them (exit 3, gunicorn's
    'worker failed to boot', which halts gunicorn) with the sentence, no traceback."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DATA_SOURCE": "demo",
        "DAYFIRST": "maybe",
        "CACHE_DIR": str(tmp_path / "cache"),
        "ENGINE_EXECUTOR": "serial",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import dashapp.wsgi"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 3
    assert "DAYFIRST must be true or false, got 'maybe'" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1_000", "DEMO_SEED must be a whole number, got '1_000'"),  # int() took it
        ("\u0661\u0662", "DEMO_SEED must be a whole number"),  # Arabic-Indic digits: int() took them
        ("9" * 5000, "DEMO_SEED is far too large a number"),  # int() raised past 4,300 digits
        ("x" * 5000, "(5,000 characters)"),  # the echo is short
    ],
)
def test_a_whole_number_setting_is_read_by_the_engine_rule(raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        AppConfig.load(env={"DEMO_SEED": raw})
    assert message in str(caught.value)
    assert len(str(caught.value)) < 200


def test_a_whole_number_setting_with_spaces_and_sign_is_read() -> None:
    assert AppConfig.load(env={"DEMO_SEED": " +12 "}).DEMO_SEED == 12


def test_a_malformed_ray_setting_stops_the_app_with_one_sentence() -> None:
    from dashapp.config import ray_config

    settings = AppConfig.load(env={})
    with pytest.raises(ConfigError, match="SPL_RAY_OBJECT_STORE_BYTES must be a whole number, got '512MB'"):
        ray_config(settings, {"SPL_RAY_OBJECT_STORE_BYTES": "512MB"})


def test_create_app_freezes_the_start_up_objects_of_its_process(tmp_path: Path) -> None:
    """At its end ``create_app`` leaves the process's start-up containers (its imports, the
    app's layout and callbacks) out of the collector's generations
    (``engine.freeze_startup_objects``): checked in a fresh interpreter, as it is
    process-wide and once per process."""
    import json
    import subprocess
    import sys

    code = (
        "import gc, json, sys\n"
        "from dashapp import create_app\n"
        "create_app({'CACHE_DIR': sys.argv[1]})\n"
        "print(json.dumps({'frozen': gc.get_freeze_count(), 'tracked': len(gc.get_objects())}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "cache")], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["frozen"] > 10_000
    assert seen["tracked"] < seen["frozen"] // 10
