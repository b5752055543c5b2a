"""``python -m engine signal``: does the signal predict the next holding period's return?

Prints the information-coefficient summary, its decay over horizons, the quantile
portfolios and the coverage of the signal chosen by the strategy flags (signal,
transform, thresholds, aggregation, rebalance, lag, dates), on the backtest's calendar
(``engine.research.signal_analysis``). ``--out DIR`` writes ``signal_ic.csv`` (one row per
holding period) and ``signal_quantile_returns.csv`` (one row per holding period, one
column per quantile), each starting with the standard ``# key: value`` lines of every export
(``engine.export.HEADER_KEYS``), then the settings and the quantiles, like the dashboard's
CSV downloads. Errors exit with
code 2 and one line on stderr (``engine.cli.main``).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any, TextIO

from engine.cli.common import (
    EXIT_OK,
    add_data_options,
    add_executor_option,
    add_strategy_options,
    data_report_extra,
    load_market,
    number,
    out_folder,
    params_from_args,
    warning_lines,
    whole_number_arg,
    write_notes,
)
from engine.data.types import ValidationReport
from engine.export import manifest_header, write_csv
from engine.research.signal_analysis import (
    SIGNAL_EXPORT_CONTENT,
    SignalAnalysis,
    SignalAnalysisSettings,
    analyze_signal,
)

# The strategy flags that decide the signal and its calendar (plus the benchmark, whose
# prices are loaded with the data). Top N, weighting and costs do not enter.
SIGNAL_FLAGS: tuple[str, ...] = (
    "signal",
    "signal_transform",
    "min_likes",
    "min_comments",
    "aggregation",
    "rebalance",
    "lag_days",
    "benchmark",
    "start",
    "end",
)
FILES = ("signal_ic.csv", "signal_quantile_returns.csv")


def register(subparsers: Any) -> None:
    """Add the ``signal`` command to the engine's CLI."""
    p = subparsers.add_parser(
        "signal",
        help="information coefficient and quantile portfolios of the signal",
        description=(
            "Signal analysis on the backtest's calendar: Spearman IC with the next holding period's "
            "returns, IC decay, quantile portfolios, coverage. Without --sentiment/--prices: demo data."
        ),
    )
    add_data_options(p)
    add_executor_option(p)  # where --prices yahoo downloads its batches
    add_strategy_options(p, "strategy", SIGNAL_FLAGS)
    analysis = SignalAnalysisSettings()
    p.add_argument(
        "--quantiles", type=whole_number_arg, default=analysis.quantiles, help="signal quantiles (default 5)"
    )
    p.add_argument(
        "--horizons",
        type=whole_number_arg,
        default=analysis.horizons,
        help="IC decay horizons, periods ahead (default 3)",
    )
    p.add_argument(
        "--rolling-window",
        dest="rolling_window",
        type=whole_number_arg,
        default=analysis.rolling_window,
        help="periods of the rolling mean IC (default 6)",
    )
    p.add_argument("--out", type=out_folder, help=f"directory for {' and '.join(FILES)}")
    p.set_defaults(handler=cmd_signal)


def cmd_signal(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The analysis on ``out`` (stdout); the data's report, the analysis' warnings and the
    "wrote ..." line on ``err`` (stderr)."""
    params = params_from_args(args)
    settings = SignalAnalysisSettings(
        quantiles=args.quantiles, horizons=args.horizons, rolling_window=args.rolling_window
    )
    data = load_market(args, params.benchmark, notes=err)
    analysis = analyze_signal(data, params, settings=settings)
    out.write(signal_text(analysis, data_label=data.source.label) + "\n")
    out.flush()
    write_notes(err, warning_lines(analysis.warnings))
    if args.out is not None:
        paths = write_signal(analysis, args.out, report=data.report)
        write_notes(err, [f"wrote {', '.join(p.name for p in paths)} to {args.out}"])
    return EXIT_OK


# ----- text ------------------------------------------------------------------------------


def signal_text(analysis: SignalAnalysis, *, data_label: str = "") -> str:
    """IC summary, decay, quantile table, spread, coverage and signal distribution (the
    analysis' warnings are notes: ``engine.cli.common.warning_lines``)."""
    p = analysis.params
    periods = analysis.periods
    lines = [
        f"{data_label}: signal {p.signal} ({p.signal_transform}, {p.aggregation}), {p.rebalance}, "
        f"lag {p.lag_days} day(s), {len(periods)} holding periods"
    ]
    s = analysis.ic_summary
    lines.append(
        f"information coefficient (Spearman, next period): mean {number(s['mean_ic'])}, std {number(s['ic_std'])}, "
        f"IR {number(s['ic_ir'])}, t {number(s['t_stat'], '{:.2f}')}, positive {number(s['share_positive'], '{:.0%}')} "
        f"of {int(s['n_periods'])} periods"
    )
    decay = analysis.ic_decay
    lines.append(
        "IC decay: "
        + ", ".join(
            f"h{int(h)} {number(ic)} (t {number(t, '{:.2f}')})"
            for h, ic, t in zip(decay["horizon"], decay["mean_ic"], decay["t_stat"], strict=True)
        )
    )
    if analysis.quantiles >= 2:
        table = analysis.quantile_summary.copy()
        table["mean_return"] = table["mean_return"].map(lambda v: number(v, "{:.2%}"))
        table["cumulative_return"] = table["cumulative_return"].map(lambda v: number(v, "{:.2%}"))
        table["mean_count"] = table["mean_count"].map(lambda v: number(v, "{:.1f}"))
        lines.append(f"quantile portfolios (equal weight, {analysis.quantiles} = highest signal):")
        lines.append(table.to_string(index=False))
        sp = analysis.spread_summary
        lines.append(
            f"top minus bottom: mean {number(sp['mean'], '{:.2%}')} a period, t {number(sp['t_stat'], '{:.2f}')}; "
            f"top-quantile turnover {number(analysis.top_turnover, '{:.0%}')}"
        )
    else:  # the quantile note (a warning) says why
        lines.append(
            f"quantile portfolios: n/a ({analysis.quantiles_requested} quantiles requested, none formed; "
            "see the warning); top minus bottom: n/a"
        )
    if len(periods):
        lines.append(
            f"coverage: {periods['n_observations'].min()} to {periods['n_observations'].max()} eligible, "
            f"holdable symbols a period (mean {periods['n_observations'].mean():.1f})"
        )
    d = analysis.signal_summary
    lines.append(
        f"signal distribution ({int(d['count'])} values): min {number(d['min'], '{:.4g}')}, "
        f"median {number(d['median'], '{:.4g}')}, mean {number(d['mean'], '{:.4g}')}, max {number(d['max'], '{:.4g}')}"
    )
    return "\n".join(lines)


# ----- CSV with a manifest header (engine.export) -------------------------------------------


def write_signal(
    analysis: SignalAnalysis, directory: Path, *, report: ValidationReport | None = None
) -> list[Path]:
    """``signal_ic.csv`` and ``signal_quantile_returns.csv`` in ``directory``, each after
    the standard header (``engine.export.manifest_header``), the analysis's lines and, when
    the input lost anything, the data ``report``'s ``data_report`` line."""
    directory.mkdir(parents=True, exist_ok=True)
    quantiles = analysis.quantile_returns.copy()
    quantiles.columns = [f"q{c}" for c in quantiles.columns]
    quantiles = quantiles.reset_index()
    paths = [directory / name for name in FILES]
    manifest = analysis.manifest.to_dict()
    now = dt.datetime.now(dt.UTC)  # one export time for the files of one run
    for path, frame in zip(paths, (analysis.periods, quantiles), strict=True):
        extras = {**analysis.export_extras(), **data_report_extra(report)}
        header = manifest_header(SIGNAL_EXPORT_CONTENT[path.stem], manifest, extras=extras, now=now)
        write_csv(path, frame, header=header)
    return paths


__all__ = ["cmd_signal", "register", "signal_text", "write_signal"]
