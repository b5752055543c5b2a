"""Sentiment Portfolio Lab engine: data, strategy, backtest, metrics, sweeps.

Pure compute and data access: this package never imports dash, plotly or flask.
The public API is what ``__all__`` lists; modules starting with ``_`` are private.
"""

from __future__ import annotations

from ._errors import (
    Cancelled,
    ClusterUnavailableError,
    DataUnavailableError,
    DataValidationError,
    EngineError,
    ParameterError,
)
from ._params import (
    AGGREGATIONS,
    PARAM_NAMES,
    REBALANCES,
    SIGNAL_TRANSFORMS,
    SIGNALS,
    WEIGHTINGS,
    StrategyParams,
    is_ticker,
)
from ._types import (
    COUNT_COLUMNS,
    METRIC_NAMES,
    SENTIMENT_COLUMNS,
    BacktestResult,
    DroppedRows,
    Manifest,
    MarketData,
    SourceInfo,
    ValidationReport,
    fingerprint_frames,
    result_from_plain,
    result_to_plain,
)
from ._executor import Executor, SerialExecutor
from ._validation import PathOrBytes
from ._demo import DemoProvider
from ._files import FileProvider, load_prices_file, load_sentiment_csv
from ._providers import DataProvider, load_market_data, provider_from_env
from ._yahoo import YahooProvider
from ._metrics import compute_metrics, drawdown_info
from ._signals import signal_table
from ._weights import compute_weights
from ._backtest import (
    PreparedData,
    backtest_metrics,
    eligible_symbols_by_period,
    prepare,
    run_backtest,
    run_prepared,
    selection_returns,
)
from ._stocks import StockAnalysis, analyze_stocks
from ._ray import ClusterStatus, RayExecutor, cluster_status, get_executor, shutdown_embedded_cluster
from ._sweep import SweepResult, parse_grid, run_sweep
from ._robustness import (
    ConfidenceInterval,
    RandomBaseline,
    RobustnessReport,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    robustness_report,
)
from ._version import __version__

__all__ = [
    "AGGREGATIONS",
    "COUNT_COLUMNS",
    "METRIC_NAMES",
    "PARAM_NAMES",
    "REBALANCES",
    "SENTIMENT_COLUMNS",
    "SIGNALS",
    "SIGNAL_TRANSFORMS",
    "WEIGHTINGS",
    "BacktestResult",
    "Cancelled",
    "ClusterUnavailableError",
    "DataUnavailableError",
    "DataValidationError",
    "DroppedRows",
    "EngineError",
    "Manifest",
    "MarketData",
    "ParameterError",
    "SourceInfo",
    "StrategyParams",
    "ValidationReport",
    "__version__",
    "fingerprint_frames",
    "is_ticker",
    "result_from_plain",
    "result_to_plain",
    # Executors
    "Executor",
    "SerialExecutor",
    # Data layer
    "DataProvider",
    "DemoProvider",
    "FileProvider",
    "YahooProvider",
    "PathOrBytes",
    "load_market_data",
    "load_prices_file",
    "load_sentiment_csv",
    "provider_from_env",
    # Strategy, backtest, metrics, stocks
    "PreparedData",
    "StockAnalysis",
    "analyze_stocks",
    "backtest_metrics",
    "compute_metrics",
    "compute_weights",
    "drawdown_info",
    "eligible_symbols_by_period",
    "prepare",
    "run_backtest",
    "run_prepared",
    "selection_returns",
    "signal_table",
    # Ray, sweeps, robustness
    "ClusterStatus",
    "ConfidenceInterval",
    "RandomBaseline",
    "RayExecutor",
    "RobustnessReport",
    "SweepResult",
    "cluster_status",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "get_executor",
    "parse_grid",
    "probabilistic_sharpe_ratio",
    "robustness_report",
    "run_sweep",
    "shutdown_embedded_cluster",
]
