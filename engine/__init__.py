"""Sentiment Portfolio Lab engine: data, strategy, backtest, metrics, sweeps.

Pure compute and data access: this package never imports dash, plotly or flask.
The public API is what ``__all__`` lists; modules starting with ``_`` are private.
"""

from __future__ import annotations

from engine._version import __version__
from engine.allocator import tune_allocator
from engine.analytics.metrics import (
    METRIC_NAMES,
    PERCENT_METRICS,
    compute_metrics,
    drawdown_info,
    drawdown_series,
)
from engine.analytics.pbo import (
    SELECTION_METRICS,
    PBOResult,
    PBOSettings,
    column_metric,
    probability_of_backtest_overfitting,
)
from engine.analytics.statistics import deflated_sharpe_ratio, expected_max_sharpe, probabilistic_sharpe_ratio
from engine.analytics.stocks import (
    MAX_STOCKS,
    STOCK_EXPORT_CONTENT,
    STOCK_METRIC_COLUMNS,
    StockAnalysis,
    analyze_stocks,
    parse_symbols,
)
from engine.backtest.base import (
    backtest_metrics,
    eligible_symbols_by_period,
    run_backtest,
    run_prepared,
    selection_returns,
    warm_up_kernels,
)
from engine.backtest.prepare import PreparedData, prepare
from engine.backtest.result import (
    BACKTEST_EXPORT_CONTENT,
    BacktestResult,
    Manifest,
    holdings_with_dates,
    result_from_plain,
    result_to_plain,
)
from engine.collector import freeze_startup_objects
from engine.data.demo import DemoProvider
from engine.data.files import FileProvider, load_prices_file, load_sentiment_csv
from engine.data.providers import DATA_SOURCES, DataProvider, load_market_data, provider_from_env
from engine.data.quality import price_quality_warnings
from engine.data.symbols import is_ticker, with_spelling_hint
from engine.data.tables import PathOrBytes
from engine.data.types import (
    COUNT_COLUMNS,
    SENTIMENT_COLUMNS,
    TRADING_DAYS,
    DroppedRows,
    MarketData,
    SourceInfo,
    ValidationReport,
    fingerprint_frames,
)
from engine.data.yahoo import YahooProvider
from engine.errors import (
    ECHO_SHOWN,
    Cancelled,
    ClusterUnavailableError,
    DataUnavailableError,
    DataValidationError,
    EngineError,
    ParameterError,
    short_repr,
    whole_number_text,
)
from engine.execution import (
    EXECUTOR_MODES,
    ClusterStatus,
    RayConfig,
    RayExecutor,
    cluster_status,
    get_executor,
    probe_cluster,
    shutdown_embedded_cluster,
)
from engine.export import (
    HEADER_KEYS,
    download_filename,
    export_header,
    frame_to_csv,
    header_lines,
    manifest_header,
    neutralise,
    records_to_csv,
    safe_comment_line,
)
from engine.jobs import Executor, SerialExecutor
from engine.research.robustness import ConfidenceInterval, RandomBaseline, RobustnessReport, robustness_report
from engine.research.signal_analysis import (
    SIGNAL_EXPORT_CONTENT,
    SignalAnalysis,
    SignalAnalysisSettings,
    analyze_signal,
)
from engine.research.sweep import DEFAULT_MAX_CONFIGS as MAX_SWEEP_CONFIGS
from engine.research.sweep import SweepResult, check_grid, grid_size, parse_grid, run_sweep
from engine.research.sweep_export import (
    SWEEP_EXPORT_CONTENT,
    SWEEP_EXPORT_FILES,
    SweepExport,
    export_params,
    sweep_export,
    walk_forward_exports,
)
from engine.research.walk_forward import (
    WALK_FORWARD_LABELS,
    SweepValidation,
    WalkForwardResult,
    WalkForwardSettings,
    check_walk_forward_fits,
    validate_sweep,
    walk_forward,
)
from engine.strategy.params import (
    AGGREGATIONS,
    PARAM_NAMES,
    REBALANCES,
    SIGNAL_TRANSFORMS,
    SIGNALS,
    WEIGHTINGS,
    StrategyParams,
)
from engine.strategy.signals import signal_table
from engine.strategy.weights import compute_weights
from engine.threads import single_blas_thread

__all__ = [
    "AGGREGATIONS",
    "BACKTEST_EXPORT_CONTENT",
    "COUNT_COLUMNS",
    "DATA_SOURCES",
    "ECHO_SHOWN",
    "EXECUTOR_MODES",
    "HEADER_KEYS",
    "MAX_STOCKS",
    "MAX_SWEEP_CONFIGS",
    "METRIC_NAMES",
    "PARAM_NAMES",
    "PERCENT_METRICS",
    "REBALANCES",
    # Signal analysis, walk-forward validation, probability of backtest overfitting
    "SELECTION_METRICS",
    "SENTIMENT_COLUMNS",
    "SIGNALS",
    "SIGNAL_EXPORT_CONTENT",
    "SIGNAL_TRANSFORMS",
    "STOCK_EXPORT_CONTENT",
    "STOCK_METRIC_COLUMNS",
    "SWEEP_EXPORT_CONTENT",
    "SWEEP_EXPORT_FILES",
    "TRADING_DAYS",
    "WALK_FORWARD_LABELS",
    "WEIGHTINGS",
    "BacktestResult",
    "Cancelled",
    # Ray, sweeps, robustness
    "ClusterStatus",
    "ClusterUnavailableError",
    "ConfidenceInterval",
    # Data layer
    "DataProvider",
    "DataUnavailableError",
    "DataValidationError",
    "DemoProvider",
    "DroppedRows",
    "EngineError",
    # Executors
    "Executor",
    "FileProvider",
    "Manifest",
    "MarketData",
    "PBOResult",
    "PBOSettings",
    "ParameterError",
    "PathOrBytes",
    # Strategy, backtest, metrics, stocks
    "PreparedData",
    "RandomBaseline",
    "RayConfig",
    "RayExecutor",
    "RobustnessReport",
    "SerialExecutor",
    "SignalAnalysis",
    "SignalAnalysisSettings",
    "SourceInfo",
    "StockAnalysis",
    "StrategyParams",
    "SweepExport",
    "SweepResult",
    "SweepValidation",
    "ValidationReport",
    "WalkForwardResult",
    "WalkForwardSettings",
    "YahooProvider",
    "__version__",
    "analyze_signal",
    "analyze_stocks",
    "backtest_metrics",
    "check_grid",
    "check_walk_forward_fits",
    "cluster_status",
    "column_metric",
    "compute_metrics",
    "compute_weights",
    "deflated_sharpe_ratio",
    "download_filename",
    "drawdown_info",
    "drawdown_series",
    "eligible_symbols_by_period",
    "expected_max_sharpe",
    "export_header",
    "export_params",
    "fingerprint_frames",
    "frame_to_csv",
    "freeze_startup_objects",
    "get_executor",
    "grid_size",
    "header_lines",
    "holdings_with_dates",
    "is_ticker",
    "load_market_data",
    "load_prices_file",
    "load_sentiment_csv",
    "manifest_header",
    "neutralise",
    "parse_grid",
    "parse_symbols",
    "prepare",
    "price_quality_warnings",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "probe_cluster",
    "provider_from_env",
    "records_to_csv",
    "result_from_plain",
    "result_to_plain",
    "robustness_report",
    "run_backtest",
    "run_prepared",
    "run_sweep",
    "safe_comment_line",
    "selection_returns",
    "short_repr",
    "shutdown_embedded_cluster",
    "signal_table",
    "single_blas_thread",
    "sweep_export",
    "tune_allocator",
    "validate_sweep",
    "walk_forward",
    "walk_forward_exports",
    "warm_up_kernels",
    "whole_number_text",
    "with_spelling_hint",
]
