"""Status page callbacks called directly: app, cache statistics, clearing, cluster panel."""

from __future__ import annotations

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


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    app = create_app(
        {"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "ray"}
    )  # cluster_status is faked
    from dashapp.pages import status

    with app.server.test_request_context("/status"):
        yield status


def call(prop_id: str, fn: Any, *args: Any) -> Any:
    def run() -> Any:
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}]))
        return fn(*args)

    return contextvars.copy_context().run(run)


def test_status_shows_version_source_and_cache(page: Any) -> None:
    message, app_panel, cache_panel = call("session-source.data", page.refresh, None, None, None)
    assert message is None
    assert engine.__version__ in str(app_panel) and "SYNTHETIC" in str(app_panel)
    assert "FileSystemCache" in str(cache_panel)


def test_clear_button_empties_the_results_cache(page: Any) -> None:
    services.backtest(None, {"top_n": 2})
    assert services.cache_stats()["keys"] == 1
    message, _, cache_panel = call("status-clear.n_clicks", page.refresh, None, 1, None)
    assert "Cache cleared" in str(message)
    assert services.cache_stats()["keys"] == 0
    assert "Th(children='Cached results', scope='row'), Td('0')" in str(cache_panel)


def test_page_insertion_does_not_clear_the_cache(page: Any) -> None:
    services.backtest(None, {"top_n": 2})
    message, *_ = call("status-clear.n_clicks", page.refresh, None, None, None)
    assert message is None and services.cache_stats()["keys"] == 1


def test_clear_failure_is_a_message(page: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "clear_cache", lambda: 1 / 0)
    message, *_ = call("status-clear.n_clicks", page.refresh, None, 1, None)
    assert "could not be cleared" in str(message) and "ZeroDivision" not in str(message)


def test_cluster_panel_formats_the_cluster(page: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "cluster_status", lambda **_: FakeCluster(), raising=False)
    text = str(page.cluster_panel(None))
    for fragment in ("external", "ray://head:10001", "'3'", "'24'", "48.0 GiB", "12.0 GiB", "'yes'"):
        assert fragment in text


@pytest.mark.parametrize(
    ("error", "fragment"),
    [
        (engine.ClusterUnavailableError("cannot reach the Ray head"), "cannot reach the Ray head"),
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


def test_status_with_a_broken_session_source_still_renders(page: Any) -> None:
    _, app_panel, _ = call("session-source.data", page.refresh, None, None, {"kind": "upload", "id": "x"})
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
    for fragment in ("Object store used", "0.5 GiB", "Object store size", "1.0 GiB", "8.0 GiB", "head:6379"):
        assert fragment in text


def test_cluster_panel_with_the_serial_executor(tmp_path: Path) -> None:
    app = create_app({"CACHE_DIR": str(tmp_path / "serial"), "ENGINE_EXECUTOR": "serial"})
    from dashapp.pages import status

    with app.server.test_request_context("/status"):
        text = str(status.cluster_panel(None))
    assert "not used" in text and "ENGINE_EXECUTOR=serial" in text
