"""What the pages call: validated inputs in, plain data (dict/list/str/float) out.

Pages never import the Dash app. Everything here reaches the app's state through the
Flask app (``flask.current_app``; in a background-callback process, which has no
request context, through ``dash.get_app().server``):

- ``server.extensions["spl_config"]``: the ``AppConfig``;
- ``server.extensions["spl_caches"]``: the ``results`` and ``uploads`` ``SafeCache``;
- ``server.extensions["spl_market_data"]``: a bounded per-process LRU of ``MarketData``;
- ``server.extensions["spl_views"]``: a bounded per-process LRU of rendered backtest views.
- ``server.extensions["spl_prepared"]``: a bounded per-process LRU of ``engine.PreparedData``
  by data fingerprint, so every backtest of a data set reuses its arrays.

Every function raises ``engine.EngineError`` (one sentence meant for the user) on bad input.

The session's data source is a small dict kept in the browser (``session-source`` Store):
``{"kind": "default"}`` (the app's configured provider, the demo data unless configured
otherwise) or ``{"kind": "upload", "id": <content hash>, "name": <file name>}``. The
uploaded bytes stay on the server, in the shared ``uploads`` cache.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import inspect
import json
import logging
import math
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

import flask
import numpy as np
import pandas as pd

import engine

from .cache import SafeCache
from .config import AppConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
VIEW_LRU_SIZE = 8  # rendered backtest views (~150 KB of JSON each) kept in this worker's memory
MARKET_DATA_LRU_SIZE = 4  # MarketData of the demo is ~40 MB; a few sources per worker is plenty
MAX_STOCK_SYMBOLS = 30
DEFAULT_SOURCE: dict[str, str] = {"kind": "default"}
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._\- ]+")
# Bump when a cached result's shape changes, so that old entries are not served.
CACHE_VERSION = "1"

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


# ----- the app's state -------------------------------------------------------------------


def _server() -> flask.Flask:
    if flask.has_app_context():
        return flask.current_app._get_current_object()  # type: ignore[attr-defined]
    import dash  # background callbacks run in a forked process without an app context

    return dash.get_app().server


def app_config() -> AppConfig:
    return _server().extensions["spl_config"]


def _caches() -> Mapping[str, SafeCache]:
    return _server().extensions["spl_caches"]


class BoundedLRU(Generic[T]):
    """Bounded, thread-safe, per-process LRU (loaded ``MarketData`` by source key, rendered views)."""

    def __init__(self, size: int = MARKET_DATA_LRU_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[str, T] = OrderedDict()
        self._loading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def get_or_load(self, key: str, load: Callable[[], T]) -> T:
        """The cached value, or ``load()`` run once even when several threads ask at once."""
        data = self.get(key)
        if data is not None:
            return data
        with self._lock:
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:  # a slow load (Yahoo) is not repeated by the worker's other threads
            data = self.get(key)
            if data is None:
                data = load()
                self.put(key, data)
        with self._lock:
            self._loading.pop(key, None)
        return data

    def put(self, key: str, data: T) -> None:
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


MarketDataLRU = BoundedLRU  # the per-worker LRU of loaded data sets (``BoundedLRU[engine.MarketData]``)


def _lru() -> BoundedLRU[engine.MarketData]:
    return _server().extensions["spl_market_data"]


def _prepared(data: engine.MarketData) -> engine.PreparedData:
    """``engine.prepare(data)`` once per data set and worker: the conversion of the sentiment
    rows to arrays costs more than a backtest of them (benchmarks/bench_backtest.py)."""
    lru: BoundedLRU[engine.PreparedData] = _server().extensions["spl_prepared"]
    return lru.get_or_load(data.fingerprint, lambda: engine.prepare(data))


def _views() -> BoundedLRU[Any]:
    return _server().extensions.setdefault("spl_views", BoundedLRU(VIEW_LRU_SIZE))


def executor(n_items: int | None = None) -> engine.Executor:
    """The executor for a job of ``n_items`` (``ENGINE_EXECUTOR``; ``auto`` keeps small jobs in-process).

    Created per job (cheap: nothing connects until it runs); the engine joins the Ray
    cluster once per process, so this also works in a forked background-callback process.
    """
    return engine.get_executor(
        app_config().ENGINE_EXECUTOR, **_accepted(engine.get_executor, n_items=n_items)
    )


# ----- data sources ----------------------------------------------------------------------


def resolve_source(store: Mapping[str, Any] | None) -> dict[str, str]:
    """Validate the session's Store value; None (a new session) means the default source."""
    if store is None or store == {}:
        return dict(DEFAULT_SOURCE)
    if not isinstance(store, Mapping):
        raise engine.DataValidationError(
            "the session's data source is malformed; switch back to the default source"
        )
    kind = store.get("kind")
    if kind == "default":
        return dict(DEFAULT_SOURCE)
    if kind == "upload":
        upload_id = store.get("id")
        if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
            raise engine.DataValidationError(
                "the session's uploaded data set id is malformed; upload the file again"
            )
        return {"kind": "upload", "id": upload_id, "name": safe_name(store.get("name"), "uploaded data")}
    raise engine.DataValidationError(f"unknown data source kind {kind!r}; switch back to the default source")


def source_key(source: Mapping[str, Any]) -> str:
    """A short primitive key naming the source (part of every cache key)."""
    source = resolve_source(source)
    if source["kind"] == "upload":
        return f"upload:{source['id']}"
    config = app_config()
    if config.DATA_SOURCE == "demo":
        return f"default:demo:{config.DEMO_SEED}"
    return f"default:{config.DATA_SOURCE}:{config.SENTIMENT_PATH}:{config.PRICES_PATH or ''}"


def get_market_data(source: Mapping[str, Any] | None, *, benchmark: str = "QQQ") -> engine.MarketData:
    """The validated data of ``source`` (loaded once per process, then served from the LRU)."""
    source = resolve_source(source)
    benchmark = _benchmark(benchmark)
    key = f"{source_key(source)}|{benchmark}"
    return _lru().get_or_load(key, lambda: engine.load_market_data(_provider(source), benchmark=benchmark))


def _benchmark(raw: Any) -> str:
    return engine.StrategyParams.from_mapping({"benchmark": raw}).benchmark


def _provider(source: Mapping[str, str]) -> Any:
    if source["kind"] == "upload":
        payload = _caches()["uploads"].get(source["id"])
        if not isinstance(payload, Mapping):
            raise engine.DataUnavailableError(
                f"the uploaded data set {source['name']!r} is no longer on the server; "
                "upload it again on the Data page or switch back to the default source"
            )
        return _upload_provider(
            payload["sentiment"],
            payload.get("prices"),
            payload.get("sentiment_name", ""),
            payload.get("prices_name", ""),
        )
    config = app_config()
    env = {
        "DATA_SOURCE": config.DATA_SOURCE,
        "SENTIMENT_PATH": config.SENTIMENT_PATH or "",
        "PRICES_PATH": config.PRICES_PATH or "",
        "DEMO_SEED": str(config.DEMO_SEED),
        "YAHOO_CACHE_DIR": str(yahoo_cache_dir()),
    }
    return engine.provider_from_env(env)


def _upload_provider(sentiment: bytes, prices: bytes | None, sentiment_name: str, prices_name: str) -> Any:
    if prices is None and hasattr(engine, "YahooProvider"):
        # No price file: prices come from Yahoo Finance (cached on disk by the engine).
        # Few, short retries: the user is waiting for the validation report.
        return engine.YahooProvider(
            **_accepted(
                engine.YahooProvider,
                sentiment=sentiment,
                sentiment_name=sentiment_name,
                cache_dir=yahoo_cache_dir(),
                max_retries=2,
                base_delay=0.5,
            )
        )
    return engine.FileProvider(
        sentiment=sentiment, prices=prices, sentiment_name=sentiment_name, prices_name=prices_name
    )


def yahoo_cache_dir() -> Path:
    """Where downloaded Yahoo prices are kept: ``YAHOO_CACHE_DIR``, else beside the app's cache."""
    configured = os.environ.get("YAHOO_CACHE_DIR", "").strip()
    return Path(configured) if configured else Path(app_config().CACHE_DIR) / "yahoo"


def source_info(source: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the badge and the Data page show: label, SYNTHETIC flag, fingerprint, report."""
    source = resolve_source(source)
    data = get_market_data(source)
    info = data.source
    return {
        "kind": source["kind"],
        "source_kind": info.kind,
        "label": info.label,
        "synthetic": bool(info.synthetic),
        "detail": info.detail,
        "fingerprint": data.fingerprint,
        "report": report_to_plain(data.report),
        "source": source,
    }


def report_to_plain(report: engine.ValidationReport) -> dict[str, Any]:
    """JSON-able form of a ``ValidationReport`` (tuples become lists)."""
    return {
        "rows_read": int(report.rows_read),
        "rows_kept": int(report.rows_kept),
        "dropped": [
            {"reason": d.reason, "count": int(d.count), "examples": list(d.examples)} for d in report.dropped
        ],
        "warnings": list(report.warnings),
        "symbols": list(report.symbols),
        "failed_tickers": list(report.failed_tickers),
        "first_date": report.first_date,
        "last_date": report.last_date,
        "reading": [r.describe() for r in getattr(report, "reading", ())],  # how each file was read
    }


def decode_upload(contents: str | None, *, what: str = "file") -> bytes:
    """Bytes of a ``dcc.Upload`` ``contents`` value (``data:<mime>;base64,<data>``)."""
    if not contents or not isinstance(contents, str):
        raise engine.DataValidationError(f"no {what} was uploaded")
    _, _, encoded = contents.partition(",")
    if not encoded:
        raise engine.DataValidationError(f"the uploaded {what} could not be read (empty or not base64)")
    limit = app_config().MAX_UPLOAD_BYTES
    if len(encoded) * 3 // 4 > limit + 3:
        raise engine.DataValidationError(
            f"the uploaded {what} is larger than the {limit / 2**20:g} MiB limit"
        )
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise engine.DataValidationError(f"the uploaded {what} could not be read (not base64)") from None


def save_upload(
    sentiment_bytes: bytes, prices_bytes: bytes | None = None, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Validate an upload with the engine loaders, store it server-side, return the new source.

    Returns ``{"source": <Store value>, "info": source_info(...), "sentiment_report": ...}``;
    ``info["report"]`` is the validation report of both files merged (row counts added up),
    ``sentiment_report`` the sentiment file's alone. Raises ``EngineError`` when the
    files cannot be used; nothing is stored then.
    """
    names = names or {}
    limit = app_config().MAX_UPLOAD_BYTES
    sentiment_name = safe_name(names.get("sentiment"), "sentiment.csv")
    prices_name = safe_name(names.get("prices"), "prices.csv") if prices_bytes is not None else ""
    for label, blob in (("sentiment file", sentiment_bytes), ("price file", prices_bytes)):
        if blob is not None and not isinstance(blob, (bytes, bytearray)):
            raise engine.DataValidationError(f"the {label} must be bytes")
        if blob is not None and len(blob) > limit:
            raise engine.DataValidationError(f"the {label} is larger than the {limit / 2**20:g} MiB limit")
    if not sentiment_bytes:
        raise engine.DataValidationError("the sentiment file is empty")
    sentiment_bytes = bytes(sentiment_bytes)
    prices_bytes = bytes(prices_bytes) if prices_bytes else None
    # Validate first (raises a one-sentence DataValidationError), store only usable data.
    provider = _upload_provider(sentiment_bytes, prices_bytes, sentiment_name, prices_name)
    data = engine.load_market_data(provider)
    digest = hashlib.sha256(sentiment_bytes + b"\0" + (prices_bytes or b"")).hexdigest()[:32]
    source = {"kind": "upload", "id": digest, "name": sentiment_name}
    payload = {
        "sentiment": sentiment_bytes,
        "prices": prices_bytes,
        "sentiment_name": sentiment_name,
        "prices_name": prices_name,
    }
    if not _caches()["uploads"].set(digest, payload):
        log.warning("upload %s kept in this worker only: the shared cache did not store it", digest)
    _lru().put(f"upload:{digest}|QQQ", data)
    _, sentiment_report = provider.sentiment()  # read once already: the provider keeps it
    return {
        "source": source,
        "info": source_info(source),
        "sentiment_report": report_to_plain(sentiment_report),
    }


def safe_name(raw: Any, fallback: str) -> str:
    """A file name fit for display: no path, no odd characters, at most 80 characters."""
    if not isinstance(raw, str):
        return fallback
    base = raw.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip(" ._")[:80]
    return cleaned or fallback


# ----- computations (memoized on primitive keys) ------------------------------------------


def _cache_key(kind: str, source: Mapping[str, str], fingerprint: str, payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{source_key(source)}|{fingerprint}|{canonical}".encode()).hexdigest()
    return f"v{CACHE_VERSION}:{kind}:{digest}"


def _memoized(
    kind: str,
    source: Mapping[str, str],
    fingerprint: str,
    payload: Any,
    compute: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    cache = _caches()["results"]
    key = _cache_key(kind, source, fingerprint, payload)
    cached = cache.get(key)
    if cached is not None:
        return cached
    result = compute()
    cache.set(key, result)
    return result


def params_from(params: Mapping[str, Any] | None) -> engine.StrategyParams:
    """The one validation boundary for strategy parameters (``ParameterError`` on bad input)."""
    if params is not None and not isinstance(params, Mapping):
        raise engine.ParameterError("parameters must be a mapping of names to values")
    return engine.StrategyParams.from_mapping(params or {})


def backtest(source: Mapping[str, Any] | None, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``engine.result_to_plain`` of one backtest (see ``engine.BacktestResult``)."""
    source = resolve_source(source)
    strategy = params_from(params)
    data = get_market_data(source, benchmark=strategy.benchmark)
    return _memoized(
        "backtest",
        source,
        data.fingerprint,
        strategy.to_dict(),
        lambda: engine.result_to_plain(engine.run_prepared(_prepared(data), strategy, source=data.source)),
    )


def backtest_view(
    source: Mapping[str, Any] | None,
    params: Mapping[str, Any] | None,
    render: Callable[[dict[str, Any], dict[str, str]], Any],
    *,
    version: str,
) -> Any:
    """``render(backtest(source, params), source)``, memoized on the backtest's own key.

    For pages: ``render`` turns a plain result into what the page shows, and must return
    plain JSON-able data (e.g. figures as ``to_plotly_json`` dicts, never ``go.Figure``).
    A repeated run then skips both the backtest and the rendering. Bump ``version`` when
    ``render``'s output changes, so old views are not served. The last ``VIEW_LRU_SIZE``
    views are also kept in this worker's memory (no unpickling on a repeat); the returned
    value is shared, so callers must not mutate it.
    """
    source = resolve_source(source)
    strategy = params_from(params)
    data = get_market_data(source, benchmark=strategy.benchmark)
    kind = f"backtest-view-{version}"
    key = _cache_key(kind, source, data.fingerprint, strategy.to_dict())
    view = _views().get(key)
    if view is None:
        view = _memoized(
            kind,
            source,
            data.fingerprint,
            strategy.to_dict(),
            lambda: render(backtest(source, strategy.to_dict()), source),
        )
        _views().put(key, view)
    return view


def stocks(
    source: Mapping[str, Any] | None, symbols: Sequence[str], start: Any = None, end: Any = None
) -> dict[str, Any]:
    """Per-stock analysis of ``symbols`` over [start, end] (``engine.analyze_stocks``), as plain data."""
    source = resolve_source(source)
    cleaned = clean_symbols(symbols)
    start_date, end_date = _date_or_none("start", start), _date_or_none("end", end)
    if start_date and end_date and start_date >= end_date:
        raise engine.ParameterError(f"start ({start_date}) must be before end ({end_date})")
    data = get_market_data(source)
    payload = {"symbols": cleaned, "start": str(start_date), "end": str(end_date)}
    return _memoized(
        "stocks",
        source,
        data.fingerprint,
        payload,
        lambda: to_plain(engine.analyze_stocks(data.prices, cleaned, start=start_date, end=end_date)),
    )


def clean_symbols(symbols: Sequence[str] | str | None) -> list[str]:
    """Upper-case, de-duplicated tickers; ``ParameterError`` naming the first bad one."""
    if isinstance(symbols, str):
        symbols = [s for s in re.split(r"[,\s]+", symbols) if s]
    elif symbols is not None and not isinstance(symbols, (list, tuple)):
        raise engine.ParameterError(f"symbols must be a list of tickers; got {str(symbols)[:20]!r}")
    if not symbols:
        raise engine.ParameterError("choose at least one symbol")
    out: list[str] = []
    for raw in symbols:
        symbol = str(raw).strip().upper()
        if not engine.is_ticker(symbol):
            raise engine.ParameterError(f"{str(raw)[:20]!r} is not a ticker symbol")
        if symbol not in out:
            out.append(symbol)
    if len(out) > MAX_STOCK_SYMBOLS:
        raise engine.ParameterError(f"choose at most {MAX_STOCK_SYMBOLS} symbols; got {len(out)}")
    return out


def _date_or_none(name: str, raw: Any) -> dt.date | None:
    if raw is None or raw == "":
        return None
    return getattr(engine.StrategyParams.from_mapping({name: raw}), name)


def robustness(source: Mapping[str, Any] | None, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``engine.robustness_report(...).to_dict()`` for the session's data and ``params``."""
    source = resolve_source(source)
    strategy = params_from(params)
    data = get_market_data(source, benchmark=strategy.benchmark)

    def compute() -> dict[str, Any]:
        kwargs = _accepted(engine.robustness_report, executor=executor())
        return to_plain(engine.robustness_report(data, strategy, **kwargs).to_dict())

    return _memoized("robustness", source, data.fingerprint, strategy.to_dict(), compute)


def sweep(
    source: Mapping[str, Any] | None,
    base_params: Mapping[str, Any] | None,
    grid: Mapping[str, Sequence[Any]],
    on_progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> dict[str, Any]:
    """Run a parameter sweep; returns ``columns``, ``records`` (one per configuration),
    ``deflated_sharpe``, ``executor``, ``n_runs``, ``n_failed``, ``best`` (row of the best
    Sharpe), ``elapsed_s``, ``base`` (validated base parameters) and ``grid`` (plain data)."""
    source = resolve_source(source)
    base = params_from(base_params)
    checked_grid = _check_grid(grid)
    data = get_market_data(source, benchmark=base.benchmark)

    def compute() -> dict[str, Any]:
        result = engine.run_sweep(
            data,
            checked_grid,
            base=base,
            executor=executor(_grid_size(checked_grid)),
            on_progress=on_progress,
            should_cancel=should_cancel,
        )
        return {
            **sweep_to_plain(result),
            "base": base.to_dict(),
            "grid": to_plain(getattr(result, "grid", None) or checked_grid),
        }

    return _memoized(
        "sweep", source, data.fingerprint, {"base": base.to_dict(), "grid": checked_grid}, compute
    )


def _check_grid(grid: Any) -> dict[str, list[Any]]:
    if not isinstance(grid, Mapping) or not grid:
        raise engine.ParameterError("the sweep grid must name at least one parameter and its values")
    out: dict[str, list[Any]] = {}
    for name, values in grid.items():
        if name not in engine.PARAM_NAMES:
            raise engine.ParameterError(f"unknown sweep parameter {str(name)[:40]!r}")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise engine.ParameterError(f"the sweep values of {name} must be a non-empty list")
        out[str(name)] = list(values)
    return out


def _grid_size(grid: Mapping[str, Sequence[Any]]) -> int:
    return math.prod(len(values) for values in grid.values())


def sweep_to_plain(result: Any) -> dict[str, Any]:
    table = result.table
    n_failed = getattr(result, "n_failed", None)
    if n_failed is None:
        n_failed = int(table["error"].notna().sum()) if "error" in table.columns else 0
    return {
        "columns": [str(c) for c in table.columns],
        "records": to_plain(table.to_dict("records")),
        "deflated_sharpe": to_plain(getattr(result, "deflated_sharpe", None)),
        "executor": str(getattr(result, "executor", "")),
        "n_runs": len(table),
        "n_failed": int(n_failed),
        "best": to_plain(getattr(result, "best", None)),
        "elapsed_s": to_plain(getattr(result, "elapsed_s", None)),
    }


# ----- cluster and cache -----------------------------------------------------------------


def cluster() -> dict[str, Any]:
    """``engine.cluster_status()`` as plain data (mode, nodes, CPUs, memory, object store)."""
    if app_config().ENGINE_EXECUTOR == "serial":
        # Not even a status query: it would join whatever cluster this host happens to run.
        return {
            "mode": "not used",
            "detail": "ENGINE_EXECUTOR=serial: sweeps and robustness runs use this process",
        }
    return to_plain(engine.cluster_status())


def cache_stats() -> dict[str, Any]:
    """Statistics of this worker's caches: ``backend``, ``hits``, ``misses``, ``keys``, ..."""
    caches = _caches()
    results = caches["results"].stats()
    return {
        **results,
        "uploads": caches["uploads"].stats(),
        "market_data_entries": len(_lru()),
        "market_data_capacity": _lru().size,
    }


def clear_cache() -> None:
    """Forget computed results (all workers) and this worker's loaded data and views; keep uploads."""
    _caches()["results"].clear()
    _lru().clear()
    _views().clear()
    _server().extensions["spl_prepared"].clear()


# ----- plain data ------------------------------------------------------------------------


def to_plain(value: Any) -> Any:
    """JSON-able copy: dataclasses and mappings -> dict, frames -> column dicts, NaN -> None."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return to_plain(value.item())
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, pd.DataFrame):
        frame = value if isinstance(value.index, pd.RangeIndex) else value.reset_index()
        return {str(c): [to_plain(v) for v in frame[c].tolist()] for c in frame.columns}
    if isinstance(value, pd.Series):
        return {str(k): to_plain(v) for k, v in value.items()}
    if hasattr(value, "to_dict") and callable(value.to_dict) and not isinstance(value, Mapping):
        return to_plain(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return [to_plain(v) for v in value]
    return str(value)


def _accepted(fn: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """The keyword arguments ``fn`` declares (optional engine features degrade gracefully)."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return kwargs
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in parameters}
