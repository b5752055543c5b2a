"""What the Backtest page shows of one ``services.backtest`` result and its robustness report."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import pandas as pd

import engine
from dashapp.ui import components, url_state

# The metrics on the cards, in order; titles and formats follow the metric (ui.components).
HEADLINE_METRICS: tuple[str, ...] = (
    "total_return",
    "cagr",
    "sharpe",
    "sortino",
    "max_drawdown",
    "annual_volatility",
    "information_ratio",
)
DOWNLOADS = ("returns", "holdings", "periods", "metrics")


def params_of(result: Mapping[str, Any]) -> dict[str, Any]:
    return dict((result.get("manifest") or {}).get("params") or {})


def benchmark_name(result: Mapping[str, Any]) -> str:
    return str(params_of(result).get("benchmark", "Benchmark"))


def headline_cards(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``{title, value, benchmark_value, fmt}`` of each headline metric (strategy vs benchmark)."""
    metrics = result.get("metrics") or {}
    bench = result.get("benchmark_metrics") or {}
    return [
        {
            "title": components.METRIC_TITLES[key],
            "value": metrics.get(key),
            "benchmark_value": bench.get(key),
            "fmt": components.metric_format(key),
        }
        for key in HEADLINE_METRICS
    ]


def beta_alpha_text(result: Mapping[str, Any]) -> str:
    metrics = result.get("metrics") or {}
    beta = components.format_value(metrics.get("beta"), "ratio")
    alpha = components.format_value(metrics.get("alpha"), "pct")
    return f"{beta} / {alpha}"


def run_summary_text(result: Mapping[str, Any]) -> str:
    """One line: the strategy, the date span, the metrics' conventions, the data source and
    its fingerprint."""
    manifest = result.get("manifest") or {}
    params = params_of(result)
    dates = (result.get("returns") or {}).get("date") or []
    span = f"{dates[0]} to {dates[-1]} ({len(dates)} trading days)" if dates else "no return day yet"
    synthetic = manifest.get("synthetic") and "SYNTHETIC" not in str(manifest.get("data_source"))
    pieces = [
        (
            f"{params.get('signal', '')} ({params.get('signal_transform', '')}), top {params.get('top_n', '')}, "
            f"{params.get('rebalance', '')}, {str(params.get('weighting', '')).replace('_', ' ')} weights, "
            f"{params.get('cost_bps', 0):g} bps costs, lag {params.get('lag_days', 0)} d"
        ),
        span,
        # the conventions of every number below (README "Metrics")
        (
            f"simple daily returns, {engine.TRADING_DAYS}-day annualisation, "
            f"risk-free {float(params.get('risk_free') or 0.0):.2%} a year"
        ),
        f"data: {manifest.get('data_source', '')}" + (" (SYNTHETIC)" if synthetic else ""),
        f"fingerprint {manifest.get('fingerprint', '')}",
    ]
    return " · ".join(pieces)


def universe_text(result: Mapping[str, Any]) -> str:
    universe = result.get("universe_metrics") or {}
    return (
        "Eligible-universe benchmark: total return "
        f"{components.format_value(universe.get('total_return'), 'pct')}, "
        f"Sharpe {components.format_value(universe.get('sharpe'), 'ratio')}."
    )


def entry_start(result: Mapping[str, Any]) -> str | None:
    """The first entry close of the run (the engine's ``periods.entry_date``), or None."""
    entries = [d for d in (result.get("periods") or {}).get("entry_date") or [] if d]
    return str(min(entries)) if entries else None


# Columns of the periods table as the engine gives them (``BacktestResult.periods``).
PERIOD_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("formation_end", "Signal formed to", "date"),
    ("entry_date", "Bought at the close of", "date"),
    ("period_start", "First day held", "date"),
    ("period_end", "Last day held", "date"),
    ("n_eligible", "Eligible", "int"),
    ("n_selected", "Held", "int"),
    ("turnover", "Turnover", "pct"),
    ("cost", "Cost", "{:.3%}"),
)


def periods_rows(result: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and text rows of the holding periods, dates as the engine decided them."""
    periods = result.get("periods") or {}
    n = len(periods.get("period_start") or [])
    header = [title for _, title, _ in PERIOD_COLUMNS]
    rows = []
    for i in range(n):
        row = []
        for key, _, fmt in PERIOD_COLUMNS:
            values = periods.get(key) or [None] * n
            value = values[i] if i < len(values) else None
            row.append(str(value or "") if fmt == "date" else components.format_value(value, fmt))
        rows.append(row)
    return header, rows


def drawdown_text(result: Mapping[str, Any]) -> str:
    """The strategy's maximum drawdown dates as the engine dated them."""
    dd = result.get("drawdown") or {}
    if not dd.get("trough"):
        if not _has_return_day(result):
            return "No drawdown: the run has no return day yet (see the warnings)."
        return "The strategy never fell below its starting value."
    recovery = dd.get("recovery") or "not recovered by the end"
    return f"Maximum drawdown: peak {dd.get('peak')}, trough {dd.get('trough')}, recovery {recovery}."


def _has_return_day(result: Mapping[str, Any]) -> bool:
    """Whether the strategy has at least one finite daily return (plain data: None is NaN)."""
    values = (result.get("returns") or {}).get("portfolio") or []
    return any(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def risk_free(result: Mapping[str, Any]) -> float:
    return float(params_of(result).get("risk_free") or 0.0)


def warnings(result: Mapping[str, Any], notes: Sequence[str] = ()) -> list[str]:
    return [*(result.get("warnings") or []), *notes]


# ----- downloads -------------------------------------------------------------------------


def csv_header(result: Mapping[str, Any], content: str) -> dict[str, Any]:
    """The standard header of every export (``engine.manifest_header`` of the run's
    manifest), then the page's link."""
    return engine.manifest_header(
        content,
        result.get("manifest") or {},
        extras={"link": "/?" + url_state.params_to_query(params_of(result))},
    )


def returns_csv(result: Mapping[str, Any]) -> str:
    frame = pd.DataFrame(result.get("returns") or {})
    return engine.frame_to_csv(frame, header=csv_header(result, engine.BACKTEST_EXPORT_CONTENT["returns"]))


def holdings_csv(result: Mapping[str, Any]) -> str:
    """Holdings with their period's ``formation_end`` and ``entry_date`` (from the engine)."""
    frame = engine.holdings_with_dates(
        pd.DataFrame(result.get("holdings") or {}), pd.DataFrame(result.get("periods") or {})
    )
    return engine.frame_to_csv(frame, header=csv_header(result, engine.BACKTEST_EXPORT_CONTENT["holdings"]))


def periods_csv(result: Mapping[str, Any]) -> str:
    """One row per holding period as the engine gives it (formation_end, entry_date, ...)."""
    frame = pd.DataFrame(result.get("periods") or {})
    return engine.frame_to_csv(frame, header=csv_header(result, engine.BACKTEST_EXPORT_CONTENT["periods"]))


def metrics_csv(result: Mapping[str, Any]) -> str:
    names = list(engine.METRIC_NAMES)
    frame = pd.DataFrame(
        {
            "metric": names,
            "strategy": [(result.get("metrics") or {}).get(n) for n in names],
            "benchmark": [(result.get("benchmark_metrics") or {}).get(n) for n in names],
            "universe": [(result.get("universe_metrics") or {}).get(n) for n in names],
        }
    )
    dd = result.get("drawdown") or {}
    dates = pd.DataFrame(
        {
            "metric": [f"max_drawdown_{key}" for key in ("peak", "trough", "recovery")],
            "strategy": [dd.get(key) or "" for key in ("peak", "trough", "recovery")],
            "benchmark": [""] * 3,
            "universe": [""] * 3,
        }
    )
    frame = pd.concat([frame.astype(object), dates], ignore_index=True)
    return engine.frame_to_csv(
        frame, header=csv_header(result, f"performance metrics ({engine.TRADING_DAYS}-day annualisation)")
    )


CSV_BUILDERS: Mapping[str, Any] = MappingProxyType(
    {"returns": returns_csv, "holdings": holdings_csv, "periods": periods_csv, "metrics": metrics_csv}
)


def download_data(kind: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """``dcc.Download`` data of one CSV (``DOWNLOADS``) of ``result``, named by
    ``engine.download_filename`` (``backtest_<kind>_<fingerprint>.csv``)."""
    fingerprint = (result.get("manifest") or {}).get("fingerprint")
    return {
        "content": CSV_BUILDERS[kind](result),
        "filename": engine.download_filename(f"backtest_{kind}", fingerprint),
        "type": "text/csv",
    }


# ----- robustness ------------------------------------------------------------------------


def interval_text(block: Mapping[str, Any] | None, fmt: str) -> str:
    """``estimate [low, high] (95% CI)`` of an ``engine`` ConfidenceInterval in plain form."""
    if not isinstance(block, Mapping):
        return components.MISSING
    estimate, low, high = (
        components.format_value(block.get(key), fmt) for key in ("estimate", "low", "high")
    )
    text = f"{estimate} [{low}, {high}]"
    level = block.get("level")
    if isinstance(level, (int, float)):
        text += f" ({level:.0%} CI)"
    return text


def robustness_rows(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Bootstrap intervals and the random-portfolio rank (``engine.RobustnessReport``).
    When every holding period has one possible selection (at most top_n eligible symbols)
    the rank is void: its rows say n/a and why (the report's note says it in full)."""
    random_block = report.get("random_portfolios") or {}
    n_periods = random_block.get("n_periods") or 0
    n_fixed = random_block.get("n_fixed_periods") or 0
    void = bool(n_periods) and n_fixed == n_periods
    why = "n/a: every draw would be the strategy (one possible selection per period)"
    rank_rows = [
        (
            "Sharpe percentile among random portfolios (a draw equal up to rounding counts half)",
            why if void else components.format_value(random_block.get("percentile"), "{:.1f} / 100"),
        ),
        (
            "p-value ((1 + draws with a Sharpe at least as high, ties included) / (1 + draws))",
            why if void else components.format_value(random_block.get("p_value"), "{:.3f}"),
        ),
        ("Random portfolios drawn", components.format_value(random_block.get("n"), "int")),
    ]
    if n_fixed:
        rank_rows.append(
            (
                "Holding periods with one possible selection (at most top_n eligible symbols)",
                f"{n_fixed} of {n_periods}",
            )
        )
    return [
        ("Sharpe ratio (stationary bootstrap)", interval_text(report.get("sharpe_ci"), "ratio")),
        (
            "Annual excess return over the benchmark (bootstrap)",
            interval_text(report.get("excess_return_ci"), "pct"),
        ),
        (
            "Probabilistic Sharpe ratio (P[true Sharpe > 0])",
            components.format_value(report.get("probabilistic_sharpe"), "{:.3f}"),
        ),
        *rank_rows,
    ]


def robustness_footer(report: Mapping[str, Any]) -> str:
    return (
        f"{components.format_value(report.get('n_boot'), 'int')} bootstrap resamples, mean block "
        f"{components.format_value(report.get('block_length'), '{:g}')} days, "
        f"seed {report.get('seed', '')}, "
        f"executor {report.get('executor', '')}."
    )
