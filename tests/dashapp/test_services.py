"""services: source validation, plain-data results, uploads, errors as EngineError."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import engine
from dashapp import create_app, services
from dashapp.lru import BoundedLRU
from dashapp.state import get_state
from tests.dashapp.test_page_data import GOOD_SENTIMENT, _prices_csv


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    app = create_app(
        {"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial", "MAX_UPLOAD_BYTES": 200_000}
    )
    with app.server.app_context():
        yield app


@pytest.fixture
def uploaded(app: Any) -> dict[str, Any]:
    return services.save_upload(
        GOOD_SENTIMENT.encode(),
        _prices_csv().encode(),
        {"sentiment": "C:\\Users\\me\\<script>s.csv", "prices": "p.csv"},
    )


# ----- sources ---------------------------------------------------------------------------


@pytest.mark.parametrize("store", [None, {}, {"kind": "default"}, {"kind": "default", "extra": 1}])
def test_default_source(app: Any, store: Any) -> None:
    assert services.resolve_source(store) == {"kind": "default"}


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ({"kind": "upload", "id": "../../etc/passwd"}, "malformed"),
        ({"kind": "upload", "id": "A" * 32}, "malformed"),
        ({"kind": "upload"}, "malformed"),
        ({"kind": "yahoo"}, "unknown data source kind"),
        ("default", "malformed"),
        (["default"], "malformed"),
    ],
)
def test_bad_session_source_is_an_engine_error(app: Any, store: Any, message: str) -> None:
    with pytest.raises(engine.EngineError, match=message):
        services.resolve_source(store)


def test_upload_source_name_is_sanitised(app: Any) -> None:
    source = services.resolve_source({"kind": "upload", "id": "a" * 32, "name": "../<img src=x>.csv"})
    assert source == {"kind": "upload", "id": "a" * 32, "name": "img src_x_.csv"}


def test_demo_source_info_is_labelled_synthetic(app: Any) -> None:
    info = services.source_info(None)
    assert info["synthetic"] is True and "SYNTHETIC" in info["label"]
    assert len(info["fingerprint"]) == 16
    assert info["report"]["rows_kept"] > 0 and info["report"]["symbols"]
    json.dumps(info)  # plain data


def test_market_data_is_loaded_once_per_process(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = engine.load_market_data
    monkeypatch.setattr(engine, "load_market_data", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = services.get_market_data(None)
    assert services.get_market_data({"kind": "default"}) is first
    assert len(calls) == 1


def test_market_data_lru_is_bounded() -> None:
    lru = BoundedLRU(size=2)
    for key in "abc":
        lru.put(key, key)  # type: ignore[arg-type]
    assert len(lru) == 2 and lru.get("a") is None and lru.get("c") == "c"


# ----- uploads ---------------------------------------------------------------------------


def test_save_upload_returns_a_small_store_value_and_a_report(uploaded: dict[str, Any]) -> None:
    source, info = uploaded["source"], uploaded["info"]
    assert set(source) == {"kind", "id", "name"} and source["name"] == "script_s.csv"
    assert info["synthetic"] is False
    assert info["report"]["first_date"] <= "2022-01-03" and uploaded["sentiment_report"]["rows_kept"] == 96
    assert len(json.dumps(source)) < 200  # the bytes stay on the server


def test_same_bytes_and_names_give_the_same_id(app: Any, uploaded: dict[str, Any]) -> None:
    names = {"sentiment": "C:\\Users\\me\\<script>s.csv", "prices": "p.csv"}
    again = services.save_upload(GOOD_SENTIMENT.encode(), _prices_csv().encode(), names)
    assert again["source"]["id"] == uploaded["source"]["id"]


def test_same_bytes_under_other_names_are_another_source(app: Any, uploaded: dict[str, Any]) -> None:
    """The same bytes uploaded as other.csv (another session) used to get the first
    upload's id, and then its stored names: the other session's pages and exports were
    labelled script_s.csv, and the first session's other.csv after a re-upload."""
    other = services.save_upload(GOOD_SENTIMENT.encode(), _prices_csv().encode(), {"sentiment": "other.csv"})
    assert other["source"]["id"] != uploaded["source"]["id"]
    assert services.backtest(other["source"], {"top_n": 2})["manifest"]["data_source"].startswith("other.csv")
    assert services.backtest(uploaded["source"], {"top_n": 2})["manifest"]["data_source"].startswith(
        "script_s.csv"
    )


def test_uploaded_source_is_served_from_the_shared_cache(app: Any, uploaded: dict[str, Any]) -> None:
    # Forget the results and this worker's loaded data (what clear_cache does, which is off
    # by default): the data must reload from the shared uploads cache.
    get_state().results.clear()
    get_state().market_data.clear()
    result = services.backtest(uploaded["source"], {"top_n": 2})
    assert result["manifest"]["data_source"].startswith("script_s.csv")
    assert result["manifest"]["synthetic"] is False


def test_expired_upload_is_a_clear_error(app: Any) -> None:
    with pytest.raises(engine.DataUnavailableError, match="upload it again"):
        services.get_market_data({"kind": "upload", "id": "b" * 32, "name": "gone.csv"})


@pytest.mark.parametrize(
    ("sentiment", "message"),
    [
        (b"", "empty"),
        (b"a,b\n1,2\n", "column"),
        (b"x" * 200_001, "larger than"),
    ],
)
def test_bad_uploads_are_refused(app: Any, sentiment: bytes, message: str) -> None:
    with pytest.raises(engine.EngineError, match=message):
        services.save_upload(sentiment, _prices_csv().encode())
    assert services.cache_stats()["uploads"]["keys"] == 0  # nothing stored


def test_upload_without_the_benchmark_prices_is_refused(app: Any) -> None:
    prices = pd.read_csv(__import__("io").StringIO(_prices_csv())).drop(columns="QQQ").to_csv(index=False)
    with pytest.raises(engine.DataValidationError, match="benchmark QQQ"):
        services.save_upload(GOOD_SENTIMENT.encode(), prices.encode())


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        (None, "no file"),
        # plain words for an analyst (it said "could not be read (empty or not base64)")
        ("data:text/csv;base64,", r"the uploaded file is empty \(0 bytes\)"),
        ("data:text/csv;base64,%%%", "arrived damaged"),
    ],
)
def test_decode_upload_errors(app: Any, contents: Any, message: str) -> None:
    with pytest.raises(engine.DataValidationError, match=message):
        services.decode_upload(contents)


def test_decode_upload_round_trip_and_limit(app: Any) -> None:
    assert services.decode_upload("data:text/csv;base64," + base64.b64encode(b"a,b\n").decode()) == b"a,b\n"
    too_big = "data:text/csv;base64," + base64.b64encode(b"x" * 300_000).decode()
    with pytest.raises(engine.DataValidationError, match="larger than"):
        services.decode_upload(too_big)


# ----- computations ----------------------------------------------------------------------


def test_backtest_returns_plain_data(app: Any) -> None:
    result = services.backtest(None, {"top_n": 3})
    assert set(engine.METRIC_NAMES) <= set(result["metrics"])
    assert result["manifest"]["params"]["top_n"] == 3 and result["manifest"]["synthetic"] is True
    json.dumps(result)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"top_n": 0}, "top_n"),
        ({"bogus": 1}, "unknown parameter"),
        ({"benchmark": "=1+1"}, "benchmark"),
        ("top_n=3", "mapping"),
    ],
)
def test_backtest_bad_parameters(app: Any, params: Any, message: str) -> None:
    with pytest.raises(engine.ParameterError, match=message):
        services.backtest(None, params)


@pytest.mark.parametrize(
    ("symbols", "expected"),
    [("aapl, msft,AAPL", ["AAPL", "MSFT"]), (["brk.b", "^gspc"], ["BRK.B", "^GSPC"])],
)
def test_clean_symbols(symbols: Any, expected: list[str]) -> None:
    assert services.clean_symbols(symbols) == expected


@pytest.mark.parametrize(
    ("symbols", "message"),
    # The engine's rule (engine.parse_symbols): at most engine.MAX_STOCKS (50) symbols.
    [([], "at least one"), (["=cmd"], "not a ticker"), ([f"S{i}" for i in range(51)], "at most 50")],
)
def test_clean_symbols_errors(symbols: Any, message: str) -> None:
    with pytest.raises(engine.ParameterError, match=message):
        services.clean_symbols(symbols)


def test_stocks_returns_plain_data_for_demo_symbols(app: Any) -> None:
    symbols = [s for s in services.get_market_data(None).prices.columns if s != "QQQ"][:3]
    result = services.stocks(None, symbols, "2021-01-01", "2023-06-30")
    json.dumps(result)
    assert isinstance(result, dict) and result


def test_stocks_rejects_reversed_dates(app: Any) -> None:
    with pytest.raises(engine.ParameterError, match="before"):
        services.stocks(None, ["QQQ"], "2023-01-01", "2022-01-01")


def test_sweep_is_plain_and_memoized(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run_sweep(
        data: Any,
        grid: Any,
        *,
        base: Any,
        executor: Any,
        on_progress: Any,
        should_cancel: Any,
        keep_returns: bool = False,
    ) -> Any:
        calls.append(grid)
        on_progress(1, 1)
        table = pd.DataFrame({"top_n": [3, 5], "sharpe": [1.2, np.nan], "error": [None, "failed"]})
        return engine.SweepResult(
            table=table,
            grid=grid,
            base=base,
            executor=executor.name,
            n_configs=2,
            n_failed=1,
            elapsed_s=0.5,
            best=0,
            deflated_sharpe=0.9,
        )

    monkeypatch.setattr(engine, "run_sweep", fake_run_sweep)
    monkeypatch.setattr(engine, "get_executor", lambda mode=None, **_: engine.SerialExecutor())
    progress: list[tuple[int, int]] = []
    out = services.sweep(
        None, {"rebalance": "monthly"}, {"top_n": [3, 5]}, lambda d, t: progress.append((d, t))
    )
    again = services.sweep(None, {"rebalance": "monthly"}, {"top_n": [3, 5]})
    assert out == again and len(calls) == 1 and progress == [(1, 1)]
    assert out["columns"] == ["top_n", "sharpe", "error"]
    assert out["records"][1]["sharpe"] is None  # NaN -> null
    assert (out["n_runs"], out["n_failed"], out["executor"], out["deflated_sharpe"]) == (2, 1, "serial", 0.9)
    assert (
        out["grid"] == {"top_n": [3, 5]}
        and out["base"]["rebalance"] == "monthly"
        and out["base"]["top_n"] == 5
    )


def test_sweep_with_the_engine(app: Any) -> None:
    out = services.sweep(None, {"top_n": 3}, {"top_n": [2, 4], "rebalance": ["monthly"]})
    assert out["n_runs"] == 2 and out["n_failed"] == 0
    assert {"top_n", "rebalance", "sharpe"} <= set(out["columns"])
    assert sorted(r["top_n"] for r in out["records"]) == [2, 4]
    assert out["executor"] == "serial"
    json.dumps(out)


def test_robustness_with_the_engine(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real = engine.robustness_report
    monkeypatch.setattr(
        engine,
        "robustness_report",  # small draws: this checks the plumbing, not the statistics
        lambda data, params, **kw: real(data, params, n_boot=50, n_random=20, **kw),
    )
    out = services.robustness(None, {"top_n": 3})
    json.dumps(out)
    assert isinstance(out, dict) and out


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({}, "at least one"),
        ({"nope": [1]}, "unknown sweep parameter"),
        ({"top_n": "3,5"}, "non-empty list"),
        ({"top_n": []}, "non-empty"),
    ],
)
def test_sweep_grid_errors(app: Any, grid: Any, message: str) -> None:
    with pytest.raises(engine.ParameterError, match=message):
        services.sweep(None, {}, grid)


def test_cluster_is_not_queried_with_the_serial_executor(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "cluster_status", lambda: 1 / 0, raising=False)
    assert services.cluster()["mode"] == "not used"


def test_cluster_is_plain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    @dataclasses.dataclass(frozen=True)
    class Status:
        mode: str = "embedded"
        cpus: float = 2.0
        memory_bytes: int = 2**30
        nodes: tuple[str, ...] = ("n1",)

    seen: list[engine.RayConfig] = []
    monkeypatch.setattr(
        engine, "cluster_status", lambda *, config: seen.append(config) or Status(), raising=False
    )
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    app = create_app({"CACHE_DIR": str(tmp_path), "ENGINE_EXECUTOR": "ray"})
    monkeypatch.setenv("RAY_ADDRESS", "10.9.9.9:6379")  # read once, by create_app: a later change is not seen
    with app.server.app_context():
        assert services.cluster() == {"mode": "embedded", "cpus": 2.0, "memory_bytes": 2**30, "nodes": ["n1"]}
    assert [(c.address, c.executor) for c in seen] == [("10.0.0.5:6379", "ray")]


def test_executor_gets_the_apps_ray_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPL_RUNTIME_DIR", str(tmp_path / "run"))
    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    monkeypatch.setenv("SPL_RUNTIME_DIR", "/elsewhere")
    with app.server.app_context():
        state = get_state()
        assert state.ray.executor == "serial" and state.ray.runtime_dir == tmp_path / "run"
        assert isinstance(services.executor(1000), engine.SerialExecutor)


def test_to_plain_handles_numpy_dates_nan_and_frames() -> None:
    frame = pd.DataFrame(
        {"x": [1.0, np.nan]}, index=pd.DatetimeIndex(["2023-01-02", "2023-01-03"], name="date")
    )
    plain = services.to_plain(
        {"a": np.float64(1.5), "b": math.inf, "c": dt.date(2023, 1, 2), "f": frame, "t": (np.int64(3),)}
    )
    assert plain == {
        "a": 1.5,
        "b": None,
        "c": "2023-01-02",
        "t": [3],
        "f": {"date": ["2023-01-02T00:00:00", "2023-01-03T00:00:00"], "x": [1.0, None]},
    }


def test_concurrent_requests_load_the_data_once() -> None:
    import threading

    lru = BoundedLRU(size=2)
    calls: list[int] = []
    gate = threading.Event()

    def slow_load() -> Any:
        calls.append(1)
        gate.wait(5)
        return "data"

    threads = [threading.Thread(target=lambda: lru.get_or_load("k", slow_load)) for _ in range(4)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert calls == [1] and lru.get("k") == "data"


def test_services_work_without_a_flask_context_as_in_background_callbacks(tmp_path: Path) -> None:
    import flask

    app = create_app({"CACHE_DIR": str(tmp_path / "bg"), "DEMO_SEED": 9})
    app.server.test_client().get("/health")  # a request, as before any background job
    assert not flask.has_app_context()
    # A fresh thread starts with an empty context, as a background job does (an earlier
    # test's request may have left another app current in this thread's context).
    seen: list[Any] = []
    worker = threading.Thread(
        target=lambda: seen.extend([services.app_config().DEMO_SEED, services.source_info(None)["label"]])
    )
    worker.start()
    worker.join(60)
    assert seen[0] == 9 and "seed 9" in seen[1]


@pytest.mark.parametrize("call", ["sweep", "robustness"])
def test_an_unreachable_cluster_is_reported_without_its_address(
    app: Any, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    """The pages show the engine's sentence to any visitor: the cluster's address is hidden."""

    def unreachable(*_: Any, **__: Any) -> Any:
        raise engine.ClusterUnavailableError(
            "the Ray cluster at ray://10.0.0.1:10001 (RAY_ADDRESS) is unreachable"
        )

    monkeypatch.setattr(engine, "run_sweep", unreachable)
    monkeypatch.setattr(engine, "robustness_report", unreachable)
    with pytest.raises(engine.ClusterUnavailableError) as caught:
        if call == "sweep":
            services.sweep(None, {"top_n": 2}, {"top_n": [2, 3]})
        else:
            services.robustness(None, {"top_n": 2})
    assert str(caught.value) == "the Ray cluster at [hidden] (RAY_ADDRESS) is unreachable"
