"""Calls into the engine (backtest, stocks, robustness, sweep), memoized on primitive keys.

Every result is plain data (``services.plain``) stored in the shared ``results`` cache
under ``v<CACHE_VERSION>:<kind>:<sha256(source key | data fingerprint | parameters)>``,
so every worker and host serves a repeat from the cache. Every function raises
``engine.EngineError`` (one sentence meant for the user) on bad input.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import engine

from ..security import redact_internals
from ..state import get_state
from .caching import cache_key, memoized
from .plain import to_plain
from .sources import get_market_data, resolve_source

# Bump when a cached result's shape or numbers change (a fix), so that old entries are not served.
CACHE_VERSION = "3"

# The progress and cancel callbacks the engine's long jobs take (engine.jobs' shapes).
ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


def cancellable() -> contextlib.AbstractContextManager[CancelFn]:
    """``with cancellable() as should_cancel:`` in a background-callback job: the job's Cancel
    then sets ``should_cancel()``, which the engine polls (``dashapp.jobs``)."""
    return get_state().background.cancellable()


log = logging.getLogger(__name__)


@contextlib.contextmanager
def cluster_errors_for_visitors() -> Iterator[None]:
    """Around an engine call that may use Ray: a ``ClusterUnavailableError`` is raised again
    with the cluster's address (and any URL or path) replaced by ``[hidden]``, since the
    pages show the sentence to any visitor (docs/security.md); the full sentence is logged."""
    try:
        yield
    except engine.ClusterUnavailableError as exc:
        log.warning("Ray cluster unavailable: %s", exc)
        raise engine.ClusterUnavailableError(redact_internals(str(exc))) from None


def executor(n_items: int | None = None) -> engine.Executor:
    """The executor for a job of ``n_items`` (``ENGINE_EXECUTOR``; ``auto`` keeps small jobs in-process).

    Created per job (cheap: nothing connects until it runs); the engine joins the Ray
    cluster once per process, so this also works in a forked background-callback process.
    """
    return engine.get_executor(n_items=n_items, config=get_state().ray)


def _cache_key(kind: str, source: Mapping[str, str], fingerprint: str, payload: Any) -> str:
    return cache_key(CACHE_VERSION, kind, source, fingerprint, payload)


def _memoized(
    kind: str, source: Mapping[str, str], fingerprint: str, payload: Any, compute: Callable[[], Any]
) -> Any:
    return memoized(_cache_key(kind, source, fingerprint, payload), compute)


def params_from(params: Mapping[str, Any] | None) -> engine.StrategyParams:
    """The one validation boundary for strategy parameters (``ParameterError`` on bad input)."""
    if params is not None and not isinstance(params, Mapping):
        raise engine.ParameterError("parameters must be a mapping of names to values")
    return engine.StrategyParams.from_mapping(params or {})


def prepared(data: engine.MarketData) -> engine.PreparedData:
    """``engine.prepare(data)`` once per data set and worker: the conversion of the sentiment
    rows to arrays costs more than a backtest of them (benchmarks/bench_backtest.py)."""
    return get_state().prepared.get_or_load(data.fingerprint, lambda: engine.prepare(data))


def backtest(source: Mapping[str, Any] | None, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``engine.result_to_plain`` of one backtest (see ``engine.BacktestResult``).

    Computed in this worker's compute pool (``AppState.compute``), so the serving thread
    only waits; a repeat is answered from the cache here."""
    source = resolve_source(source)
    strategy = params_from(params)
    data = get_market_data(source, benchmark=strategy.benchmark)
    return _memoized(
        "backtest",
        source,
        data.fingerprint,
        strategy.to_dict(),
        lambda: get_state().compute.run(_backtest_plain, dict(source), strategy.to_dict()),
    )


def _backtest_plain(source: dict[str, str], params: dict[str, Any]) -> dict[str, Any]:
    """One uncached backtest as plain data (runs in a pool child, or inline)."""
    strategy = params_from(params)
    data = get_market_data(source, benchmark=strategy.benchmark)
    return engine.result_to_plain(engine.run_prepared(prepared(data), strategy, source=data.source))


def _render_backtest(
    source: dict[str, str], params: dict[str, Any], render: Callable[[dict[str, Any], dict[str, str]], Any]
) -> Any:
    """``render(backtest(source, params), source)`` (runs in a pool child, or inline)."""
    return render(backtest(source, params), source)


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
    ``render``'s output changes, so old views are not served. ``render`` must be a
    module-level function (it is sent to the compute pool by reference). The last few views are also
    kept in this worker's memory (no unpickling on a repeat); the returned value is
    shared, so callers must not mutate it.
    """
    source = resolve_source(source)
    strategy = params_from(params)
    data = get_market_data(source, benchmark=strategy.benchmark)
    kind = f"backtest-view-{version}"
    key = _cache_key(kind, source, data.fingerprint, strategy.to_dict())
    views = get_state().views
    view = views.get(key)
    if view is None:
        view = _memoized(
            kind,
            source,
            data.fingerprint,
            strategy.to_dict(),
            # The backtest and its figures in the compute pool: ~0.4 s of pure Python on the
            # demo data that would otherwise hold this worker's GIL (dashapp.pool).
            lambda: get_state().compute.run(_render_backtest, dict(source), strategy.to_dict(), render),
        )
        views.put(key, view)
    return view


def clean_symbols(symbols: Sequence[str] | str | None) -> list[str]:
    """``engine.parse_symbols`` of a comma list or a list of tickers (``ParameterError`` otherwise)."""
    if symbols is not None and not isinstance(symbols, (str, list, tuple)):
        raise engine.ParameterError(
            f"symbols must be a list of tickers; got {engine.short_repr(symbols, 22)}"
        )
    return engine.parse_symbols(symbols or [])


def stocks(
    source: Mapping[str, Any] | None, symbols: Sequence[str], start: Any = None, end: Any = None
) -> dict[str, Any]:
    """Per-stock analysis of ``symbols`` over [start, end] (``engine.analyze_stocks``), as plain data."""
    source = resolve_source(source)
    cleaned = clean_symbols(symbols)
    # The engine's date rule (ISO dates, start before end); empty means the whole history.
    window = engine.StrategyParams.from_mapping({"start": start or None, "end": end or None})
    start_date, end_date = window.start, window.end
    data = get_market_data(source)
    payload = {"symbols": cleaned, "start": str(start_date), "end": str(end_date)}
    return _memoized(
        "stocks",
        source,
        data.fingerprint,
        payload,
        lambda: to_plain(engine.analyze_stocks(data.prices, cleaned, start=start_date, end=end_date)),
    )


def robustness(source: Mapping[str, Any] | None, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``engine.robustness_report(...).to_dict()`` for the session's data and ``params``."""
    source = resolve_source(source)
    strategy = params_from(params)
    data = get_market_data(source, benchmark=strategy.benchmark)

    def compute() -> dict[str, Any]:
        with cluster_errors_for_visitors():
            report = engine.robustness_report(prepared(data), strategy, executor=executor())
        return to_plain(report.to_dict())

    return _memoized("robustness", source, data.fingerprint, strategy.to_dict(), compute)


# ----- cluster and cache -----------------------------------------------------------------


def cluster() -> dict[str, Any]:
    """``engine.cluster_status()`` as plain data (mode, nodes, CPUs, memory, object store)."""
    if get_state().config.ENGINE_EXECUTOR == "serial":
        # Not even a status query: it would join whatever cluster this host happens to run.
        return {
            "mode": "not used",
            "detail": "ENGINE_EXECUTOR=serial: sweeps and robustness runs use this process",
        }
    return to_plain(engine.cluster_status(config=get_state().ray))


def cache_stats() -> dict[str, Any]:
    """Statistics of this worker's caches: ``backend``, ``hits``, ``misses``, ``keys``, ..."""
    state = get_state()
    return {
        **state.results.stats(),
        "uploads": state.uploads.stats(),
        "market_data_entries": len(state.market_data),
        "market_data_capacity": state.market_data.size,
    }


CLEAR_REFUSED = (
    "Clearing the cache is turned off on this server: it holds every user's results "
    "(an operator can allow it with SPL_ALLOW_CACHE_CLEAR=1)."
)


class CacheClearRefused(PermissionError):
    """``clear_cache`` while the configuration does not allow it (``CLEAR_REFUSED``)."""


def cache_clear_allowed() -> bool:
    """Whether visitors may clear the shared results cache (``SPL_ALLOW_CACHE_CLEAR``, off by default)."""
    return get_state().config.SPL_ALLOW_CACHE_CLEAR


def clear_cache() -> None:
    """Forget computed results (all workers) and this worker's loaded data and views; keep uploads.

    Raises ``CacheClearRefused`` unless ``SPL_ALLOW_CACHE_CLEAR`` is on: the results cache is
    shared by every user, so one visitor must not be able to wipe it (checked here, on the
    server, whatever request reached the callback)."""
    if not cache_clear_allowed():
        raise CacheClearRefused(CLEAR_REFUSED)
    state = get_state()
    state.results.clear()
    state.market_data.clear()
    state.views.clear()
    state.prepared.clear()
