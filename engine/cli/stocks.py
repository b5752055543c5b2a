"""``python -m engine stocks``: per-symbol return, volatility, Sharpe, drawdown and correlations.

Prices come from ``--prices FILE``, from Yahoo Finance with ``--prices yahoo`` (no file
needed: ``stocks --symbols AAPL,MSFT,GOOGL --prices yahoo``), or from the demo data.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from typing import Any, TextIO

import pandas as pd

from engine.cli.common import (
    EXIT_OK,
    add_executor_option,
    add_reading_options,
    conventions,
    data_report_extra,
    date_arg,
    fmt,
    out_folder,
    prices_from_yahoo,
    prices_path,
    report_lines,
    write_notes,
    yahoo_provider,
)
from engine.data.prices import ALIVE_DAYS
from engine.data.providers import refused_spelling_hints, spelling_variants
from engine.data.symbols import with_spelling_hint
from engine.data.validation import refused_share_classes
from engine.errors import DataValidationError, ParameterError
from engine.strategy.params import StrategyParams

NAME = "stocks"


def register(sub: Any) -> None:
    """Add the ``stocks`` command to the CLI's subparsers."""
    p = sub.add_parser(
        NAME,
        help="metrics and correlations of individual stocks",
        description="Per-symbol return, volatility, Sharpe, drawdown and correlations.",
    )
    p.add_argument("--symbols", required=True, help="comma-separated tickers, e.g. AAPL,MSFT")
    p.add_argument(
        "--prices",
        metavar="FILE|yahoo",
        help="adjusted closes: a CSV or Parquet file, or 'yahoo' (default: demo data)",
    )
    add_reading_options(p)
    add_executor_option(p)
    p.add_argument("--start", help="first day (YYYY-MM-DD)")
    p.add_argument("--end", help="last day (YYYY-MM-DD)")
    p.add_argument("--risk-free", dest="risk_free", default="0", help="annual risk-free rate (default 0)")
    p.add_argument(
        "--out",
        type=out_folder,
        help="directory for stock_metrics.csv, correlation.csv, normalised_prices.csv",
    )
    p.set_defaults(handler=cmd_stocks)


def _quality_warnings(
    prices: pd.DataFrame, symbols: Sequence[str], start: dt.date | None, end: dt.date | None
) -> tuple[str, ...]:
    """The price-quality warnings (``engine.data.quality``) of the closes the analysis
    reads: the symbols asked for, from ``ALIVE_DAYS`` calendar days before ``start`` (the
    close it starts from) to ``end``."""
    from engine.analytics.stocks import STOCKS_GAP_EFFECT
    from engine.data.quality import price_quality_warnings

    frame = prices[[s for s in dict.fromkeys(symbols) if s in prices.columns]]
    if start is not None:
        frame = frame[frame.index >= pd.Timestamp(start - dt.timedelta(days=ALIVE_DAYS))]
    if end is not None:
        frame = frame[frame.index <= pd.Timestamp(end)]
    return price_quality_warnings(frame, gap_effect=STOCKS_GAP_EFFECT)


def cmd_stocks(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The metrics and correlation tables on ``out`` (stdout); the price file's report
    (failed tickers, dropped rows) and the "wrote ..." line on ``err`` (stderr)."""
    from engine.analytics.stocks import analyze_stocks, parse_symbols

    symbols = parse_symbols(args.symbols)
    start = date_arg(args.start, "--start")
    end = date_arg(args.end, "--end")
    StrategyParams.from_mapping({"start": start, "end": end})  # the engine's order rule: start before end
    risk_free = StrategyParams.from_mapping({"risk_free": args.risk_free}).risk_free
    if prices_from_yahoo(args):
        provider = yahoo_provider(args, None)
        # From the close before start as well: the start day's own return counts (base_day).
        since = None if start is None else start - dt.timedelta(days=ALIVE_DAYS)
        prices, report = provider.prices(symbols, since, end)
        source = "Yahoo Finance"
        synthetic = False
        write_notes(err, report_lines(report))
        symbols = [s for s in symbols if s in prices.columns]  # the failed ones are listed above
    elif (path := prices_path(args)) is not None:
        from engine.cli.common import read_options
        from engine.data.files import load_prices_file
        from engine.data.validation import priced_days, refuse_sparse_bars

        prices, report = load_prices_file(path, options=read_options(args))
        # Weekly or monthly bars: the backtest's rule (load_market_data), the same sentence.
        refuse_sparse_bars(priced_days(prices), path.name)
        source = f"prices file {path.name}"
        synthetic = False
        write_notes(err, report_lines(report))
    else:
        from engine.data.demo import DemoProvider

        demo = DemoProvider()
        sentiment, _ = demo.sentiment()
        known = sorted(set(sentiment["symbol"]))
        missing = [s for s in symbols if s not in known and s != "QQQ"]
        if missing:
            raise ParameterError(
                f"the demo data has no {', '.join(missing)}; its symbols are {', '.join(known[:8])}, ... "
                "(pass --prices yahoo for real prices, or --prices FILE)"
            )
        prices, report = demo.prices(symbols, None, None)
        source = demo.info.label
        synthetic = bool(demo.info.synthetic)
    write_notes(err, [f"warning: {text}" for text in _quality_warnings(prices, symbols, start, end)])
    _check_spelling(symbols, [str(c) for c in prices.columns], refused_share_classes(report.dropped))
    analysis = analyze_stocks(prices, symbols, start=start, end=end, risk_free=risk_free)
    out.write(f"{source}: {conventions(risk_free, 'n/a: undefined')}\n")
    table = analysis.metrics.set_index("symbol")
    shown = table.copy()
    for column in ("total_return", "annual_volatility", "max_drawdown"):
        shown[column] = shown[column].map(lambda v: fmt(v, percent=True))
    shown["sharpe"] = shown["sharpe"].map(lambda v: fmt(v, percent=False))
    out.write(shown.to_string() + "\n\nCorrelation of daily returns\n")
    out.write(analysis.correlation.round(3).to_string(na_rep="n/a") + "\n")
    write_notes(err, [f"warning: {text}" for text in analysis.warnings])
    if args.out is not None:
        from engine.analytics.stocks import STOCK_EXPORT_CONTENT
        from engine.data.types import fingerprint_frames
        from engine.export import export_header, write_csv

        args.out.mkdir(parents=True, exist_ok=True)
        params = {"symbols": list(symbols), "start": start, "end": end, "risk_free": risk_free}
        fingerprint = fingerprint_frames(prices[list(symbols)])
        frames = {
            "stock_metrics": (analysis.metrics, None),
            "correlation": (analysis.correlation, "symbol"),
            "normalised_prices": (analysis.prices, "date"),
        }
        now = dt.datetime.now(dt.UTC)  # one export time for the files of one run
        for kind, (frame, index_label) in frames.items():
            header = export_header(
                STOCK_EXPORT_CONTENT[kind],
                params=params,
                data_source=source,
                synthetic=synthetic,
                fingerprint=fingerprint,
                extras=data_report_extra(report, cannot="be analysed"),
                now=now,
            )
            write_csv(args.out / f"{kind}.csv", frame, header=header, index_label=index_label)
        write_notes(err, [f"wrote stock_metrics.csv, correlation.csv, normalised_prices.csv to {args.out}"])
    return EXIT_OK


def _check_spelling(symbols: list[str], columns: list[str], refused: Sequence[str] = ()) -> None:
    """Refuse (one sentence) symbols the prices lack, naming the share-class spelling the
    prices use when there is one (BRK.B asked, BRK-B in the file: ``did you mean BRK-B?``),
    or the one the file wrote with a refused mark (``refused``: BRK/B, its column dropped)."""
    missing = [s for s in symbols if s not in columns]
    if not missing:
        return
    known = set(columns)
    refused_hints = refused_spelling_hints(missing, refused)
    named = []
    for symbol in missing:
        # The loader's share-class and Reuters spellings (one owner), then the upper case.
        variants = [v for v in (*spelling_variants(symbol), symbol.upper()) if v in known]
        named.append(with_spelling_hint(symbol, variants[0] if variants else refused_hints.get(symbol)))
    raise DataValidationError(f"no prices for {', '.join(named)} in the price data")
