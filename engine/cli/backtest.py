"""``python -m engine backtest``: one backtest; writes returns.csv, holdings.csv, periods.csv,
metrics.json and manifest.json to ``--out``, and with ``--report FILE.html`` one
self-contained HTML report (``dashapp.report``, imported lazily inside the command: the
only engine -> dashapp import, an explicit exception in the import-linter contract)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from engine.analytics.metrics import METRIC_NAMES, PERCENT_METRICS
from engine.backtest.result import BacktestResult, holdings_with_dates
from engine.cli.common import (
    EXIT_OK,
    add_data_options,
    add_executor_option,
    conventions,
    data_report_extra,
    fmt,
    load_market,
    out_file,
    out_folder,
    params_from_args,
    warning_lines,
    write_notes,
)
from engine.data.types import ValidationReport
from engine.errors import ParameterError
from engine.strategy.params import (
    AGGREGATIONS,
    REBALANCES,
    SIGNAL_TRANSFORMS,
    SIGNALS,
    WEIGHTINGS,
    StrategyParams,
)

NAME = "backtest"


def register(sub: Any) -> None:
    """Add the ``backtest`` command to the CLI's subparsers."""
    p = sub.add_parser(
        NAME,
        help="run one backtest and write its results",
        description="Backtest the sentiment strategy. Without --sentiment/--prices: demo data.",
    )
    add_data_options(p)
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
        "--out", type=out_folder, help="directory for returns.csv, holdings.csv, metrics.json, manifest.json"
    )
    p.add_argument(
        "--report",
        type=out_file,
        metavar="FILE.html",
        help="also write one self-contained HTML report (parameters, metrics, charts, periods, "
        "warnings; opens offline); needs the dashboard's packages (plotly)",
    )
    p.add_argument(
        "--report-robustness",
        dest="report_robustness",
        action="store_true",
        help="with --report: compute the robustness checks (bootstrap, random portfolios) into it",
    )
    add_executor_option(p)  # where --prices yahoo downloads its batches
    p.set_defaults(handler=cmd_backtest)


def cmd_backtest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The metrics table on ``out`` (stdout); the data's report, the run's warnings and the
    "wrote ..." lines on ``err`` (stderr)."""
    from engine.backtest.base import run_backtest

    params = params_from_args(args)
    data = load_market(args, params.benchmark, notes=err)
    result = run_backtest(data, params)
    out.write(summary_text(result, data_label=data.source.label) + "\n")
    out.flush()
    write_notes(err, warning_lines(result.warnings, rest=" (see manifest.json)"))
    if args.out is not None:
        paths = write_backtest(result, args.out, report=data.report)
        write_notes(err, [f"wrote {', '.join(p.name for p in paths)} to {args.out}"])
    if getattr(args, "report", None) is not None:
        robustness = None
        if getattr(args, "report_robustness", False):
            from engine.research.robustness import robustness_report

            robustness = robustness_report(data, params).to_dict()
        write_report(result, args.report, robustness=robustness, notes=data.report.notes())
        write_notes(err, [f"wrote the HTML report to {args.report}"])
    return EXIT_OK


def write_report(
    result: BacktestResult,
    path: Path,
    *,
    robustness: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
) -> Path:
    """One self-contained HTML report of ``result`` at ``path`` (``dashapp.report``);
    ``notes``: the data report's notes (``ValidationReport.notes``: failed tickers, dropped
    rows), shown with the warnings as the Backtest page's report shows them.

    Raises ``ParameterError`` (exit 2, one line) when the dashboard's packages (plotly,
    dash) are not installed or the file cannot be written.
    """
    from engine.backtest.result import result_to_plain

    try:
        # The one engine -> dashapp import (pyproject.toml: import-linter ignore_imports).
        from dashapp.report import backtest_report_html
    except ImportError as exc:
        raise ParameterError(
            f"--report needs the dashboard's packages (plotly, dash), which are not installed ({exc.name}); "
            "install the project with its dashboard dependencies or leave out --report"
        ) from None
    plain = _plain_json(result_to_plain(result))
    text = backtest_report_html(
        plain, _plain_json(robustness) if robustness is not None else None, notes=notes
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"cannot write the report to {path}: {exc.strerror or exc}") from None
    return path


def _plain_json(value: Any) -> Any:
    """Numbers as JSON would carry them (NaN -> None), as the dashboard's caches hold them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain_json(value.tolist())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def summary_text(result: BacktestResult, *, data_label: str = "") -> str:
    """A small plain-text table: strategy vs benchmark vs universe, the line of its
    conventions and the drawdown dates (the run's warnings are notes: ``warning_lines``)."""
    columns = {
        "Strategy": result.metrics,
        f"Benchmark ({result.manifest.params.get('benchmark', '')})": result.benchmark_metrics,
        "Universe": result.universe_metrics,
    }
    rows = [
        [name] + [fmt(m[name], percent=name in PERCENT_METRICS) for m in columns.values()]
        for name in METRIC_NAMES
    ]
    width = max(len(r[0]) for r in rows)
    col_w = [max(len(h), *(len(r[i + 1]) for r in rows)) for i, h in enumerate(columns)]
    lines = []
    if len(result.returns):
        first, last = result.returns.index[0].date(), result.returns.index[-1].date()
        lines.append(f"{data_label}: {first} to {last}, {_periods(len(result.periods))}")
    elif data_label:  # no return day (see the warnings): still say which data ran
        lines.append(f"{data_label}: no return day, {_periods(len(result.periods))}")
    header = " " * width + "  " + "  ".join(h.rjust(w) for h, w in zip(columns, col_w, strict=True))
    lines.append(header)
    for r in rows:
        lines.append(
            r[0].ljust(width) + "  " + "  ".join(v.rjust(w) for v, w in zip(r[1:], col_w, strict=True))
        )
    risk_free = float(result.manifest.params.get("risk_free") or 0.0)
    lines.append(
        conventions(risk_free, "avg_turnover: mean one-way turnover per rebalance", "n/a: undefined")
    )
    dd = result.drawdown
    if dd.get("trough"):
        lines.append(
            f"max drawdown: peak {dd['peak']}, trough {dd['trough']}, recovery {dd['recovery'] or 'not yet'}"
        )
    return "\n".join(lines)


def _periods(n: int) -> str:
    return f"{n} period" if n == 1 else f"{n} periods"


def _json_safe(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()}


def write_backtest(
    result: BacktestResult, directory: Path, *, report: ValidationReport | None = None
) -> list[Path]:
    """returns.csv, holdings.csv, periods.csv (each after the standard ``# key: value``
    lines of ``engine.export.manifest_header``: content, parameters, data source, synthetic
    flag, fingerprint, engine version, export time, then ``data_report`` when the input lost
    anything), metrics.json, manifest.json in ``directory``. ``report``: the data's
    validation report; manifest.json records it (``data_report``: failed tickers, dropped
    groups with count and reason) and its notes lead ``warnings``, as on the Backtest page."""
    from engine.backtest.result import BACKTEST_EXPORT_CONTENT
    from engine.export import manifest_header, write_csv

    directory.mkdir(parents=True, exist_ok=True)
    paths = [
        directory / n for n in ("returns.csv", "holdings.csv", "periods.csv", "metrics.json", "manifest.json")
    ]
    manifest = result.manifest.to_dict()
    frames = {
        "returns": result.returns[["portfolio", "benchmark", "universe"]],
        "holdings": holdings_with_dates(result.holdings, result.periods),
        "periods": result.periods,
    }
    now = dt.datetime.now(dt.UTC)  # one export time for the files of one run
    for path, (kind, frame) in zip(paths, frames.items(), strict=False):
        header = manifest_header(
            BACKTEST_EXPORT_CONTENT[kind], manifest, extras=data_report_extra(report), now=now
        )
        write_csv(path, frame, header=header, index_label="date" if kind == "returns" else None)
    metrics = {
        **_json_safe(result.metrics),
        "drawdown": dict(result.drawdown),
        "benchmark_metrics": _json_safe(result.benchmark_metrics),
        "universe_metrics": _json_safe(result.universe_metrics),
    }
    paths[3].write_text(json.dumps(metrics, indent=2) + "\n")
    record = (report or ValidationReport()).record()
    manifest = {
        **result.manifest.to_dict(),
        "warnings": [*record["notes"], *result.warnings],
        "data_report": record,
    }
    paths[4].write_text(json.dumps(manifest, indent=2) + "\n")
    return paths
