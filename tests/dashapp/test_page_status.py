"""Status page callbacks called directly: app, cache statistics, clearing, cluster panel.

The page is public: its output never holds the cache's directory, a Redis URL or the Ray
cluster's address; clearing the shared cache is off unless ``SPL_ALLOW_CACHE_CLEAR``."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

import engine
from dashapp import create_app, services


@dataclasses.dataclass(frozen=True, kw_only=True)
class FakeCluster:
    mode: str = "external"
    address: str = "ray://head:10001"
    nodes: int = 3
    cpus: float = 24.0
    memory_bytes: int = 48 * 2**30
    object_store_bytes: int = 12 * 2**30
    connected: bool = True
    error: str | None = None


ADDRESS = "ray://head:10001"


@contextlib.contextmanager
def status_page(tmp_path: Path, **config: Any) -> Iterator[Any]:
    """The page module inside a request to an app built with ``config`` (cluster_status is faked)."""
    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "ray", **config})
    from dashapp.pages import status

    with app.server.test_request_context("/status"):
        yield status


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    """The default configuration: clearing the cache is off."""
    with status_page(tmp_path) as status:
        yield status


@pytest.fixture
def clearable(tmp_path: Path) -> Iterator[Any]:
    """An operator turned clearing on (SPL_ALLOW_CACHE_CLEAR=1)."""
    with status_page(tmp_path, SPL_ALLOW_CACHE_CLEAR="1") as status:
        yield status


def call(prop_id: str, fn: Any, *args: Any) -> Any:
    def run() -> Any:
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}]))
        return fn(*args)

    return contextvars.copy_context().run(run)


def test_status_shows_version_source_and_cache(page: Any, tmp_path: Path) -> None:
    message, app_panel, cache_panel = call("session-source.data", page.refresh, None, None)
    assert message is None
    assert engine.__version__ in str(app_panel) and "SYNTHETIC" in str(app_panel)
    assert "filesystem (FileSystemCache)" in str(cache_panel) and "'yes'" in str(cache_panel)
    # The cache directory (and any part of the temporary path) is not for visitors.
    for panel in (app_panel, cache_panel):
        assert str(tmp_path) not in str(panel) and "cache/results" not in str(panel)
        assert "Location" not in str(panel)


def test_a_redis_url_and_its_password_are_not_shown(tmp_path: Path) -> None:
    url = "redis://:s3cret-pass@127.0.0.1:1/0"  # nothing listens on port 1: a fast refusal
    with status_page(tmp_path, CACHE_TYPE="RedisCache", CACHE_REDIS_URL=url) as status:
        _, _, cache_panel = call("session-source.data", status.refresh, None, None)
    text = str(cache_panel)
    assert "redis (RedisCache)" in text
    for secret in ("s3cret", "127.0.0.1", "redis://", ":1/0"):
        assert secret not in text


def test_clearing_is_off_by_default_and_refused_on_the_server(page: Any) -> None:
    """A crafted callback request (the button is not in the page) must not clear the cache."""
    assert "Clear cache" not in str(page.layout())
    services.backtest(None, {"top_n": 2})
    cache_panel, message = call("status-clear.n_clicks", page.clear, 1)
    assert "Clearing the cache is turned off on this server" in str(message)
    assert "SPL_ALLOW_CACHE_CLEAR=1" in str(message)
    assert services.cache_stats()["keys"] == 1
    assert "Th(children='Cached results', scope='row'), Td('1')" in str(cache_panel)
    with pytest.raises(services.CacheClearRefused):
        services.clear_cache()
    assert services.cache_stats()["keys"] == 1


def test_a_crafted_clear_request_over_http_is_refused(tmp_path: Path) -> None:
    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    client = app.server.test_client()
    with app.server.test_request_context("/status"):
        services.backtest(None, {"top_n": 2})
    deps = client.get("/_dash-dependencies").json
    clear = next(d for d in deps if d["inputs"] == [{"id": "status-clear", "property": "n_clicks"}])
    outputs = [
        {"id": x.split(".")[0], "property": x.split(".")[1].split("@")[0]}
        for x in clear["output"].strip(".").split("...")
    ]
    response = client.post(
        "/_dash-update-component",
        json={
            "output": clear["output"],
            "outputs": outputs,
            "inputs": [{"id": "status-clear", "property": "n_clicks", "value": 1}],
            "state": [],
            "changedPropIds": ["status-clear.n_clicks"],
        },
    )
    assert response.status_code == 200
    assert "turned off" in response.get_data(as_text=True)
    with app.server.test_request_context("/status"):
        assert services.cache_stats()["keys"] == 1


def test_clear_button_empties_the_results_cache_when_allowed(clearable: Any) -> None:
    assert "Clear cache" in str(clearable.layout())
    services.backtest(None, {"top_n": 2})
    assert services.cache_stats()["keys"] == 1
    cache_panel, message = call("status-clear.n_clicks", clearable.clear, 1)
    assert "Cache cleared" in str(message)
    assert services.cache_stats()["keys"] == 0
    assert "Th(children='Cached results', scope='row'), Td('0')" in str(cache_panel)


def test_page_insertion_does_not_clear_the_cache(clearable: Any) -> None:
    services.backtest(None, {"top_n": 2})
    _, message = call("status-clear.n_clicks", clearable.clear, None)
    assert message is None and services.cache_stats()["keys"] == 1


def test_clear_failure_is_a_message(clearable: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "clear_cache", lambda: 1 / 0)
    _, message = call("status-clear.n_clicks", clearable.clear, 1)
    assert "could not be cleared" in str(message) and "ZeroDivision" not in str(message)


def test_cluster_panel_formats_the_cluster(page: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "cluster_status", lambda **_: FakeCluster(), raising=False)
    text = str(page.cluster_panel(None))
    for fragment in ("external", "Reachable", "'3'", "'24'", "48.0 GiB", "12.0 GiB", "'yes'"):
        assert fragment in text
    assert "head" not in text and "10001" not in text and "Address" not in text


def test_an_unreachable_cluster_says_so_without_its_address(
    page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = f"the Ray cluster at {ADDRESS} (RAY_ADDRESS) is unreachable: connection refused"
    monkeypatch.setattr(
        engine, "cluster_status", lambda **_: FakeCluster(nodes=0, cpus=0.0, error=error), raising=False
    )
    text = str(page.cluster_panel(None))
    assert "Th(children='Reachable', scope='row'), Td('no')" in text
    assert "is unreachable: connection refused" in text
    assert "head" not in text and "10001" not in text


@pytest.mark.parametrize(
    ("error", "fragment"),
    [
        (
            engine.ClusterUnavailableError("cannot reach the Ray head at ray://10.0.0.1:10001"),
            "cannot reach the Ray head at [hidden]",
        ),
        (RuntimeError("internal detail"), "could not be read"),
    ],
)
def test_cluster_panel_errors_are_messages(
    page: Any, monkeypatch: pytest.MonkeyPatch, error: Exception, fragment: str
) -> None:
    def fail(**_: Any) -> Any:
        raise error

    monkeypatch.setattr(engine, "cluster_status", fail, raising=False)
    text = str(page.cluster_panel(None))
    assert fragment in text and "Ray cluster unavailable" in text
    assert "internal detail" not in text or isinstance(error, engine.EngineError)
    assert "10.0.0.1" not in text and "10001" not in text


def test_status_with_a_broken_session_source_still_renders(page: Any) -> None:
    _, app_panel, _ = call("session-source.data", page.refresh, None, {"kind": "upload", "id": "x"})
    assert "malformed" in str(app_panel)


def test_cluster_panel_says_when_the_embedded_cluster_is_not_started(
    page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        engine,
        "cluster_status",
        lambda **_: FakeCluster(mode="not started", address="", nodes=0, cpus=0.0),
        raising=False,
    )
    assert "not started yet" in str(page.cluster_panel(None))


def test_cluster_panel_with_the_engine_status_type(page: Any) -> None:
    status_type = getattr(engine, "ClusterStatus", None)
    if status_type is None:
        pytest.skip("engine.ClusterStatus is not exported yet")
    status = status_type(
        mode="external",
        address="head:6379",
        nodes=2,
        cpus=8.0,
        memory_bytes=8 * 2**30,
        object_store_used_bytes=2**29,
        object_store_total_bytes=2**30,
    )
    text = str(page.render_cluster(services.to_plain(status)))
    for fragment in ("Object store used", "0.5 GiB", "Object store size", "1.0 GiB", "8.0 GiB", "external"):
        assert fragment in text
    assert "head" not in text and "6379" not in text


def test_cluster_panel_with_the_serial_executor(tmp_path: Path) -> None:
    app = create_app({"CACHE_DIR": str(tmp_path / "serial"), "ENGINE_EXECUTOR": "serial"})
    from dashapp.pages import status

    with app.server.test_request_context("/status"):
        text = str(status.cluster_panel(None))
    assert "not used" in text and "ENGINE_EXECUTOR=serial" in text
