"""/health and /ready: bodies, no-store, and 503 naming what is down (failures injected)."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import dash
import pytest

import engine
from dashapp import create_app, routes
from dashapp.state import state_of


@dataclasses.dataclass(frozen=True)
class FakeCluster:
    mode: str = "embedded"
    nodes: int = 1
    cpus: float = 2.0


@pytest.fixture
def app(tmp_path: Path) -> dash.Dash:
    return create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "ray"})


class BrokenBackend:
    def __getattr__(self, name: str) -> Any:
        def fail(*_args: Any, **_kwargs: Any) -> Any:
            raise ConnectionError("cache host unreachable")

        return fail


def test_health_is_ok_and_not_cached(app: dash.Dash) -> None:
    response = app.server.test_client().get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_health_touches_neither_cache_nor_ray(app: dash.Dash, monkeypatch: pytest.MonkeyPatch) -> None:
    state_of(app.server).results._backend = BrokenBackend()
    monkeypatch.setattr(engine, "probe_cluster", lambda config: 1 / 0, raising=False)
    assert app.server.test_client().get("/health").status_code == 200


def test_ready_when_cache_and_ray_answer(app: dash.Dash, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "probe_cluster", lambda config: FakeCluster(), raising=False)
    response = app.server.test_client().get("/ready")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ok" and response.json["down"] == []
    assert response.json["checks"]["ray"]["detail"] == {"mode": "embedded"}
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_is_503_when_the_cache_is_down(app: dash.Dash, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "probe_cluster", lambda config: FakeCluster(), raising=False)
    state_of(app.server).results._backend = BrokenBackend()
    response = app.server.test_client().get("/ready")
    assert response.status_code == 503
    assert response.json["down"] == ["cache"]
    assert "unreachable" in response.json["checks"]["cache"]["detail"]
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_is_503_when_ray_is_down(app: dash.Dash, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(config: Any) -> Any:
        raise engine.ClusterUnavailableError("cannot reach the Ray head at ray://10.0.0.1:10001")

    monkeypatch.setattr(engine, "probe_cluster", unreachable, raising=False)
    response = app.server.test_client().get("/ready")
    assert response.status_code == 503
    assert response.json["down"] == ["ray"]
    assert "cannot reach the Ray head" in response.json["checks"]["ray"]["detail"]


def test_ready_is_503_when_a_check_hangs(app: dash.Dash, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    monkeypatch.setattr(routes, "READY_TIMEOUT_S", 0.2)
    monkeypatch.setattr(
        engine, "probe_cluster", lambda config: release.wait(30) and FakeCluster(), raising=False
    )
    try:
        response = app.server.test_client().get("/ready")
    finally:
        release.set()
    assert response.status_code == 503
    assert response.json["down"] == ["ray"]
    assert "no answer within" in response.json["checks"]["ray"]["detail"]


def test_ready_does_not_need_ray_with_the_serial_executor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app({"CACHE_DIR": str(tmp_path), "ENGINE_EXECUTOR": "serial"})
    monkeypatch.setattr(engine, "probe_cluster", lambda config: 1 / 0, raising=False)
    response = app.server.test_client().get("/ready")
    assert response.status_code == 200
    assert "not used" in response.json["checks"]["ray"]["detail"]


@dataclasses.dataclass(frozen=True)
class StatusWithError:
    mode: str = "external"
    address: str = "ray-head:6379"
    error: str | None = "the Ray cluster at ray-head:6379 (RAY_ADDRESS) is unreachable: connection refused"


def test_ready_is_503_when_the_cluster_reports_an_error(
    app: dash.Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "probe_cluster", lambda config: StatusWithError(), raising=False)
    response = app.server.test_client().get("/ready")
    assert response.status_code == 503 and response.json["down"] == ["ray"]
    assert "unreachable" in response.json["checks"]["ray"]["detail"]


def test_ready_with_an_embedded_cluster_not_started_yet(
    app: dash.Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        engine,
        "probe_cluster",
        lambda config: StatusWithError(mode="not started", address=None, error=None),
        raising=False,
    )
    response = app.server.test_client().get("/ready")
    assert response.status_code == 200
    assert "starts on first use" in response.json["checks"]["ray"]["detail"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/nonexistent", 404),
        ("/a/b", 404),
        ("/Backtest", 404),
        ("/", 200),
        ("/backtest", 200),
        ("/sweep/", 200),
        ("/data?x=1", 200),
    ],
)
def test_an_address_that_is_no_page_answers_404(app: dash.Dash, path: str, status: int) -> None:
    """Dash served every unknown path with a 200 and a '404 - Page not found' body."""
    response = app.server.test_client().get(path)
    assert response.status_code == status
    assert b"_dash-config" in response.data  # the shell either way: its page says what happened


# /ready is open to anonymous clients (docs/security.md): what it says about each check is
# the check's state and a sentence with the internals hidden, never an address, URL or path.


@dataclasses.dataclass(frozen=True)
class ExternalCluster:
    mode: str = "external"
    address: str = "ray-head.internal:6379"


def test_ready_does_not_show_the_ray_address(app: dash.Dash, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "probe_cluster", lambda config: ExternalCluster(), raising=False)
    response = app.server.test_client().get("/ready")
    assert response.status_code == 200
    assert response.json["checks"]["ray"]["detail"] == {"mode": "external"}
    assert "ray-head.internal" not in response.get_data(as_text=True)


def test_ready_hides_the_address_in_a_ray_error(app: dash.Dash, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "probe_cluster", lambda config: StatusWithError(), raising=False)
    response = app.server.test_client().get("/ready")
    assert response.status_code == 503 and response.json["down"] == ["ray"]
    assert response.json["checks"]["ray"]["detail"] == (
        "the Ray cluster at [hidden] (RAY_ADDRESS) is unreachable: connection refused"
    )


def test_ready_hides_the_redis_url_and_the_file_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    secret_url = "redis://:s3cret@cache.internal:6379/0"

    class LeakyBackend:
        def __getattr__(self, name: str) -> Any:
            def fail(*_args: Any, **_kwargs: Any) -> Any:
                raise ConnectionError(f"Error 111 connecting to {secret_url} from {tmp_path}/cache")

            return fail

    state_of(app.server).results._backend = LeakyBackend()
    response = app.server.test_client().get("/ready")
    body = response.get_data(as_text=True)
    assert response.status_code == 503 and response.json["down"] == ["cache"]
    assert "s3cret" not in body and "cache.internal" not in body and str(tmp_path) not in body
    assert response.json["checks"]["cache"]["detail"] == (
        "ConnectionError: Error 111 connecting to [hidden] from [hidden]"
    )


def test_ready_hides_the_path_of_a_missing_data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sentiment = tmp_path / "private" / "sentiment.csv"
    sentiment.parent.mkdir()
    sentiment.write_text(
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
    )
    prices = tmp_path / "private" / "prices.csv"
    prices.write_text("date,QQQ\n2022-01-03,1\n")
    app = create_app(
        {
            "CACHE_DIR": str(tmp_path / "cache"),
            "ENGINE_EXECUTOR": "serial",
            "DATA_SOURCE": "files",
            "SENTIMENT_PATH": str(sentiment),
            "PRICES_PATH": str(prices),
        }
    )
    sentiment.unlink()  # the file went away after start-up
    response = app.server.test_client().get("/ready")
    assert response.status_code == 503 and response.json["down"] == ["data"]
    assert str(tmp_path) not in response.get_data(as_text=True)
    assert "[hidden]" in response.json["checks"]["data"]["detail"]
