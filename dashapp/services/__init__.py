"""What the pages call: validated inputs in, plain data (dict/list/str/float) out.

Split by job:

- ``sources``: which data set a session uses (the ``session-source`` Store), uploads, and
  loading ``engine.MarketData`` (once per worker, in ``AppState.market_data``);
- ``computations``: backtest, stocks and robustness calls into the engine,
  memoized in the shared ``results`` cache; cluster status and cache statistics;
- ``research``: the sweep (with every configuration's kept returns), walk-forward
  validation, PBO and signal analysis;
- ``plain``: engine results as JSON-able data for Stores, caches and figures.

Everything reaches the app's state through ``dashapp.state.get_state()``; pages never
import the app. Every function raises ``engine.EngineError`` (one sentence meant for
the user) on bad input.
"""

from __future__ import annotations

from .computations import (
    CACHE_VERSION,
    CLEAR_REFUSED,
    CacheClearRefused,
    backtest,
    backtest_view,
    cache_clear_allowed,
    cache_stats,
    cancellable,
    clean_symbols,
    clear_cache,
    cluster,
    executor,
    params_from,
    robustness,
    stocks,
)
from .plain import report_to_plain, sweep_to_plain, to_plain
from .research import sweep
from .sources import (
    DEFAULT_SOURCE,
    app_config,
    decode_upload,
    get_market_data,
    resolve_source,
    safe_name,
    save_upload,
    source_info,
    source_key,
    stored_upload,
)

__all__ = [
    "CACHE_VERSION",
    "CLEAR_REFUSED",
    "DEFAULT_SOURCE",
    "CacheClearRefused",
    "app_config",
    "backtest",
    "backtest_view",
    "cache_clear_allowed",
    "cache_stats",
    "cancellable",
    "clean_symbols",
    "clear_cache",
    "cluster",
    "decode_upload",
    "executor",
    "get_market_data",
    "params_from",
    "report_to_plain",
    "resolve_source",
    "robustness",
    "safe_name",
    "save_upload",
    "source_info",
    "source_key",
    "stocks",
    "stored_upload",
    "sweep",
    "sweep_to_plain",
    "to_plain",
]
