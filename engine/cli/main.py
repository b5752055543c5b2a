"""``python -m engine``: a thin command line over the public API.

Commands: ``backtest`` (writes returns.csv, holdings.csv, periods.csv, metrics.json,
manifest.json to ``--out``), ``stocks`` (per-symbol metrics and correlations), plus the
sweep commands registered by ``engine.cli.sweep`` when it is present.

Exit codes: 0 success, 2 invalid arguments or data, 1 an internal error; errors are
always one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from engine.analytics.metrics import METRIC_NAMES
from engine.backtest.result import BacktestResult
from engine.data.types import MarketData
from engine.errors import EngineError, ParameterError
from engine.strategy.params import (
    AGGREGATIONS,
    REBALANCES,
    SIGNAL_TRANSFORMS,
    SIGNALS,
    WEIGHTINGS,
    StrategyParams,
)

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERNAL = 1

# CLI flag -> StrategyParams field (values go through StrategyParams.from_mapping, so the
# CLI, the dashboard and the sweeps share one validation and one set of messages).
STRATEGY_FLAGS: dict[str, str] = {
    "signal": "signal",
    "signal_transform": "signal_transform",
    "min_likes": "min_likes",
    "min_comments": "min_comments",
    "aggregation": "aggregation",
    "top_n": "top_n",
    "rebalance": "rebalance",
    "lag_days": "lag_days",
    "weighting": "weighting",
    "lookback_days": "lookback_days",
    "cost_bps": "cost_bps",
    "benchmark": "benchmark",
    "start": "start",
    "end": "end",
    "risk_free": "risk_free",
}

PERCENT_METRICS = {
    "total_return",
    "cagr",
    "annual_volatility",
    "max_drawdown",
    "alpha",
    "tracking_error",
    "hit_rate",
    "avg_turnover",
}


class UsageError(Exception):
    """Raised instead of argparse's print-usage-and-exit, so main() prints one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m engine", description="Sentiment Portfolio Lab engine.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    _add_backtest(sub)
    _add_stocks(sub)
    try:
        from engine.cli.sweep import register  # the Ray engineer's commands (sweep, robustness
    except ImportError:
        register = None
    if register is not None:
        register(sub)
    from engine.cli.signal import register as register_signal  # python -m engine signal

    register_signal(sub)
    return parser


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sentiment", type=Path, help="sentiment CSV (default: the synthetic demo data)")
    parser.add_argument(
        "--prices", type=Path, help="adjusted closes (CSV or Parquet; needed with --sentiment)"
    )


def _add_backtest(sub: Any) -> None:
    p = sub.add_parser(
        "backtest",
        help="run one backtest and write its results",
        description="Backtest the sentiment strategy. Without --sentiment/--prices: demo data.",
    )
    _add_data_options(p)
    defaults = StrategyParams()
    p.add_argument("--benchmark", help=f"benchmark ticker (default {defaults.benchmark})")
    p.add_argument("--top-n", dest="top_n", help=f"symbols held per period (default {defaults.top_n})")
    p.add_argument(
        "--min-likes", dest="min_likes", help=f"keep rows with likes > this (default {defaults.min_likes:g})"
    )
    p.add_argument(
        "--min-comments",
        dest="min_comments",
        help=f"keep rows with comments > this (default {defaults.min_comments:g})",
    )
    p.add_argument("--start", help="first day of the backtest (YYYY-MM-DD)")
    p.add_argument("--end", help="last day of the backtest (YYYY-MM-DD)")
    p.add_argument("--weighting", choices=WEIGHTINGS, help="default equal")
    p.add_argument("--signal", choices=SIGNALS, help="default engagement_ratio")
    p.add_argument(
        "--signal-transform", dest="signal_transform", choices=SIGNAL_TRANSFORMS, help="default level"
    )
    p.add_argument("--aggregation", choices=AGGREGATIONS, help="default mean")
    p.add_argument("--rebalance", choices=REBALANCES, help="default monthly")
    p.add_argument("--lag-days", dest="lag_days", help="trading days between signal and entry (default 0)")
    p.add_argument(
        "--lookback-days", dest="lookback_days", help="trading days for risk weightings (default 63)"
    )
    p.add_argument("--cost-bps", dest="cost_bps", help="cost per unit of one-way turnover, bps (default 0)")
    p.add_argument("--risk-free", dest="risk_free", help="annual risk-free rate, e.g. 0.02 (default 0)")
    p.add_argument(
        "--out", type=Path, help="directory for returns.csv, holdings.csv, metrics.json, manifest.json"
    )
    p.set_defaults(handler=cmd_backtest)


def _add_stocks(sub: Any) -> None:
    p = sub.add_parser(
        "stocks",
        help="metrics and correlations of individual stocks",
        description="Per-symbol return, volatility, Sharpe, drawdown and correlations.",
    )
    p.add_argument("--symbols", required=True, help="comma-separated tickers, e.g. AAPL,MSFT")
    p.add_argument("--prices", type=Path, help="adjusted closes (CSV or Parquet; default: demo data)")
    p.add_argument("--start", help="first day (YYYY-MM-DD)")
    p.add_argument("--end", help="last day (YYYY-MM-DD)")
    p.add_argument("--risk-free", dest="risk_free", default="0", help="annual risk-free rate (default 0)")
    p.add_argument(
        "--out", type=Path, help="directory for stock_metrics.csv, correlation.csv, normalised_prices.csv"
    )
    p.set_defaults(handler=cmd_stocks)


# ----- commands -----


def params_from_args(args: argparse.Namespace) -> StrategyParams:
    values = {
        field: getattr(args, flag)
        for flag, field in STRATEGY_FLAGS.items()
        if getattr(args, flag, None) is not None
    }
    return StrategyParams.from_mapping(values)


def _load_market(args: argparse.Namespace, benchmark: str) -> MarketData:
    """Demo data, or the --sentiment/--prices files (the data layer validates them)."""
    from engine.data.demo import DemoProvider
    from engine.data.files import FileProvider
    from engine.data.providers import load_market_data

    if args.prices is not None and args.sentiment is None:
        raise ParameterError("--prices needs --sentiment (or give neither to use the demo data)")
    if args.sentiment is not None:
        _check_file(args.sentiment, "--sentiment")
        if args.prices is not None:
            _check_file(args.prices, "--prices")
        provider = FileProvider(sentiment=args.sentiment, prices=args.prices)
    else:
        provider = DemoProvider()
    return load_market_data(provider, benchmark=benchmark)


def _check_file(path: Path, flag: str) -> None:
    if not path.is_file():
        raise ParameterError(f"{flag}: no such file: {path}")


def cmd_backtest(args: argparse.Namespace, out: TextIO) -> int:
    from engine.backtest.core import run_backtest

    params = params_from_args(args)
    data = _load_market(args, params.benchmark)
    result = run_backtest(data, params)
    out.write(summary_text(result, data_label=data.source.label) + "\n")
    if args.out is not None:
        paths = write_backtest(result, args.out)
        out.write(f"wrote {', '.join(p.name for p in paths)} to {args.out}\n")
    return EXIT_OK


def cmd_stocks(args: argparse.Namespace, out: TextIO) -> int:
    from engine.analytics.stocks import analyze_stocks, parse_symbols

    symbols = parse_symbols(args.symbols)
    start = _date_arg(args.start, "--start")
    end = _date_arg(args.end, "--end")
    risk_free = StrategyParams.from_mapping({"risk_free": args.risk_free}).risk_free
    if args.prices is not None:
        from engine.data.files import load_prices_file

        _check_file(args.prices, "--prices")
        prices, _ = load_prices_file(args.prices)
    else:
        from engine.data.demo import DemoProvider

        demo = DemoProvider()
        sentiment, _ = demo.sentiment()
        known = sorted(set(sentiment["symbol"]))
        missing = [s for s in symbols if s not in known and s != "QQQ"]
        if missing:
            raise ParameterError(
                f"the demo data has no {', '.join(missing)}; its symbols are {', '.join(known[:8])}, ... "
                "(or pass --prices FILE)"
            )
        prices, _ = demo.prices(symbols, None, None)
    analysis = analyze_stocks(prices, symbols, start=start, end=end, risk_free=risk_free)
    table = analysis.metrics.set_index("symbol")
    shown = table.copy()
    for column in ("total_return", "annual_volatility", "max_drawdown"):
        shown[column] = shown[column].map(lambda v: _fmt(v, percent=True))
    shown["sharpe"] = shown["sharpe"].map(lambda v: _fmt(v, percent=False))
    out.write(shown.to_string() + "\n\nCorrelation of daily returns\n")
    out.write(analysis.correlation.round(3).to_string() + "\n")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        analysis.metrics.to_csv(args.out / "stock_metrics.csv", index=False)
        analysis.correlation.to_csv(args.out / "correlation.csv", index_label="symbol")
        analysis.prices.to_csv(args.out / "normalised_prices.csv", index_label="date", date_format="%Y-%m-%d")
        out.write(f"wrote stock_metrics.csv, correlation.csv, normalised_prices.csv to {args.out}\n")
    return EXIT_OK


def _date_arg(raw: str | None, flag: str) -> Any:
    if raw is None:
        return None
    try:
        return StrategyParams.from_mapping({"start": raw}).start
    except ParameterError:
        raise ParameterError(f"{flag} must be a date in YYYY-MM-DD form, got {raw!r}") from None


# ----- output -----


def _fmt(value: float, *, percent: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.2%}" if percent else f"{value:.2f}"


def summary_text(result: BacktestResult, *, data_label: str = "") -> str:
    """A small plain-text table: strategy vs benchmark vs universe."""
    columns = {
        "Strategy": result.metrics,
        f"Benchmark ({result.manifest.params.get('benchmark', '')})": result.benchmark_metrics,
        "Universe": result.universe_metrics,
    }
    rows = [
        [name] + [_fmt(m[name], percent=name in PERCENT_METRICS) for m in columns.values()]
        for name in METRIC_NAMES
    ]
    width = max(len(r[0]) for r in rows)
    col_w = [max(len(h), *(len(r[i + 1]) for r in rows)) for i, h in enumerate(columns)]
    lines = []
    if len(result.returns):
        first, last = result.returns.index[0].date(), result.returns.index[-1].date()
        lines.append(f"{data_label}: {first} to {last}, {len(result.periods)} periods")
    header = " " * width + "  " + "  ".join(h.rjust(w) for h, w in zip(columns, col_w))
    lines.append(header)
    for r in rows:
        lines.append(r[0].ljust(width) + "  " + "  ".join(v.rjust(w) for v, w in zip(r[1:], col_w)))
    dd = result.drawdown
    if dd.get("trough"):
        lines.append(
            f"max drawdown: peak {dd['peak']}, trough {dd['trough']}, recovery {dd['recovery'] or 'not yet'}"
        )
    if result.warnings:
        lines.append(f"{len(result.warnings)} warning(s):")
        lines.extend(f"  - {w}" for w in result.warnings[:10])
        if len(result.warnings) > 10:
            lines.append(f"  ... and {len(result.warnings) - 10} more (see manifest.json)")
    return "\n".join(lines)


def _json_safe(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()}


def write_backtest(result: BacktestResult, directory: Path) -> list[Path]:
    """returns.csv, holdings.csv, periods.csv, metrics.json, manifest.json in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [
        directory / n for n in ("returns.csv", "holdings.csv", "periods.csv", "metrics.json", "manifest.json")
    ]
    returns = result.returns[["portfolio", "benchmark", "universe"]]
    returns.to_csv(paths[0], index_label="date", date_format="%Y-%m-%d")
    result.holdings.to_csv(paths[1], index=False, date_format="%Y-%m-%d")
    result.periods.to_csv(paths[2], index=False, date_format="%Y-%m-%d")
    metrics = {
        **_json_safe(result.metrics),
        "drawdown": dict(result.drawdown),
        "benchmark_metrics": _json_safe(result.benchmark_metrics),
        "universe_metrics": _json_safe(result.universe_metrics),
    }
    paths[3].write_text(json.dumps(metrics, indent=2) + "\n")
    manifest = {**result.manifest.to_dict(), "warnings": list(result.warnings)}
    paths[4].write_text(json.dumps(manifest, indent=2) + "\n")
    return paths


# ----- entry point -----


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        parser = build_parser()
        args = parser.parse_args(list(argv) if argv is not None else None)
        handler: Callable[[argparse.Namespace, TextIO], int] = args.handler
        return handler(args, out)
    except UsageError as exc:
        return _fail(err, str(exc), EXIT_USAGE)
    except EngineError as exc:
        return _fail(err, f"error: {exc}", EXIT_USAGE)
    except OSError as exc:
        return _fail(err, f"error: {exc.strerror or exc} ({getattr(exc, 'filename', '') or ''})", EXIT_USAGE)
    except ValueError as exc:  # undecodable or malformed input that a reader did not classify
        return _fail(err, f"error: the input could not be used ({exc})", EXIT_USAGE)
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    except Exception as exc:
        return _fail(err, f"internal error ({type(exc).__name__}): {exc}; please report it", EXIT_INTERNAL)


def _fail(err: TextIO, message: str, code: int) -> int:
    """Write ``message`` as exactly one line: arguments are echoed in messages, and a
    newline or other control character inside one must not start a second line."""
    printable = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)
    err.write(printable.replace("Error:", "Error -") + "\n")
    return code
