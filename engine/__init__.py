"""Sentiment Portfolio Lab engine: data, strategy, backtest, metrics, sweeps.

Pure compute and data access: this package never imports dash, plotly or flask.
The public API is what ``__all__`` lists; modules starting with ``_`` are private.
"""

from __future__ import annotations

from engine._version import __version__
from engine.analytics.metrics import METRIC_NAMES, compute_metrics, drawdown_info
from engine.analytics.statistics import deflated_sharpe_ratio, expected_max_sharpe, probabilistic_sharpe_ratio
from engine.analytics.stocks import StockAnalysis, analyze_stocks
from engine.backtest.core import (
    PreparedData,
    backtest_metrics,
    eligible_symbols_by_period,
    prepare,
    run_backtest,
    run_prepared,
    selection_returns,
)
from engine.backtest.result import BacktestResult, Manifest, result_from_plain, result_to_plain
from engine.data.demo import DemoProvider
from engine.data.files import FileProvider, load_prices_file, load_sentiment_csv
from engine.data.providers import DataProvider, load_market_data, provider_from_env
from engine.data.types import (
    COUNT_COLUMNS,
    SENTIMENT_COLUMNS,
    DroppedRows,
    MarketData,
    SourceInfo,
    ValidationReport,
    fingerprint_frames,
)
from engine.data.validation import PathOrBytes
from engine.data.yahoo import YahooProvider
from engine.errors import (
    Cancelled,
    ClusterUnavailableError,
    DataUnavailableError,
    DataValidationError,
    EngineError,
    ParameterError,
)
from engine.execution import (
    ClusterStatus,
    RayConfig,
    RayExecutor,
    cluster_status,
    get_executor,
    probe_cluster,
    shutdown_embedded_cluster,
)
from engine.jobs import Executor, SerialExecutor
from engine.research.robustness import ConfidenceInterval, RandomBaseline, RobustnessReport, robustness_report
from engine.research.sweep import SweepResult, parse_grid, run_sweep
from engine.strategy.params import (
    AGGREGATIONS,
    PARAM_NAMES,
    REBALANCES,
    SIGNAL_TRANSFORMS,
    SIGNALS,
    WEIGHTINGS,
    StrategyParams,
    is_ticker,
)
from engine.strategy.signals import signal_table
from engine.strategy.weights import compute_weights

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
    "RayConfig",
    "RayExecutor",
    "RobustnessReport",
    "SweepResult",
    "cluster_status",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "get_executor",
    "parse_grid",
    "probe_cluster",
    "probabilistic_sharpe_ratio",
    "robustness_report",
    "run_sweep",
    "shutdown_embedded_cluster",
]
