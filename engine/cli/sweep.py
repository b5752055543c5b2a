"""``python -m engine sweep`` and ``python -m engine robustness`` (registered by ``engine.cli.main``).

``sweep --grid top_n=3,5,10 --grid min_likes=10,20,50 --out DIR`` writes ``DIR/sweep.csv``:
the swept parameters in columns named as in ``--grid``, then the metrics named as in a
backtest's metrics.json, then ``error``. A progress bar goes to stderr.
``robustness --out DIR`` prints the statistics and writes ``DIR/robustness.json``.
Errors exit with code 2 and one line on stderr (``engine.cli.main``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from engine.analytics.metrics import METRIC_NAMES
from engine.cli.main import EXIT_OK, STRATEGY_FLAGS, _add_data_options, _load_market, params_from_args
from engine.errors import ParameterError
from engine.execution import EXECUTOR_MODES, get_executor
from engine.research.sweep import DEFAULT_MAX_CONFIGS, grid_size, parse_grid, run_sweep
from engine.strategy.params import StrategyParams

BAR_WIDTH = 30


def register(subparsers: Any) -> None:
    """Add the ``sweep`` and ``robustness`` commands to the engine's CLI."""
    _add_sweep(subparsers)
    _add_robustness(subparsers)


def _add_strategy_options(parser: argparse.ArgumentParser, role: str) -> None:
    defaults = StrategyParams()
    for flag, field in STRATEGY_FLAGS.items():
        default = getattr(defaults, field)
        parser.add_argument(
            f"--{flag.replace('_', '-')}", dest=flag, metavar=field.upper(),
            help=f"{role} {field} (default {default if default is not None else 'all data'})",
        )  # fmt: skip


def _add_executor_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--executor", choices=EXECUTOR_MODES, default=None,
        help="where to run: auto (default, or $ENGINE_EXECUTOR), ray (RAY_ADDRESS or a local cluster), serial",
    )  # fmt: skip


def _add_sweep(sub: Any) -> None:
    p = sub.add_parser(
        "sweep", help="backtest every combination of a parameter grid",
        description="Parameter sweep. Each --grid adds one parameter: --grid top_n=3,5,10 --grid min_likes=10,20,50.",
    )  # fmt: skip
    _add_data_options(p)
    p.add_argument(
        "--grid",
        action="append",
        required=True,
        metavar="NAME=V1,V2,...",
        help="a swept parameter and its values (repeat for more parameters)",
    )
    _add_strategy_options(p, "fixed")
    _add_executor_option(p)
    p.add_argument(
        "--max-configs",
        dest="max_configs",
        type=int,
        default=DEFAULT_MAX_CONFIGS,
        help=f"refuse grids larger than this (default {DEFAULT_MAX_CONFIGS})",
    )
    p.add_argument("--out", type=Path, help="directory for sweep.csv")
    p.set_defaults(handler=cmd_sweep)


def _add_robustness(sub: Any) -> None:
    p = sub.add_parser(
        "robustness", help="bootstrap intervals, random-portfolio baseline and PSR of one configuration",
        description="Robustness statistics of one strategy configuration (see docs: Robustness statistics).",
    )  # fmt: skip
    _add_data_options(p)
    _add_strategy_options(p, "strategy")
    _add_executor_option(p)
    p.add_argument(
        "--n-boot", dest="n_boot", type=int, default=1000, help="bootstrap resamples (default 1000)"
    )
    p.add_argument(
        "--n-random", dest="n_random", type=int, default=500, help="random portfolios (default 500)"
    )
    p.add_argument(
        "--block-length",
        dest="block_length",
        type=float,
        default=10.0,
        help="mean block length of the stationary bootstrap, trading days (default 10)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, help="directory for robustness.json")
    p.set_defaults(handler=cmd_robustness)


# ----- progress bar ----------------------------------------------------------------------


def progress_bar(stream: TextIO, label: str) -> Callable[[int, int], None]:
    """``on_progress`` that redraws one line on ``stream`` (a newline when done)."""

    def draw(done: int, total: int) -> None:
        filled = BAR_WIDTH * done // max(total, 1)
        stream.write(f"\r{label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return draw


# ----- commands --------------------------------------------------------------------------


def _json_ready(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def _grid_names(specs: list[str]) -> list[str]:
    return [spec.partition("=")[0].strip() for spec in specs]


def cmd_sweep(args: argparse.Namespace, out: TextIO) -> int:
    grid = parse_grid(args.grid)
    fixed = [name for name in _grid_names(args.grid) if getattr(args, name, None) is not None]
    if fixed:
        raise ParameterError(f"{', '.join(fixed)} is both swept (--grid) and fixed; give it once")
    if args.max_configs < 1:
        raise ParameterError("--max-configs must be at least 1")
    base = params_from_args(args)
    data = _load_market(args, base.benchmark)
    executor = get_executor(args.executor, n_items=grid_size(grid))
    result = run_sweep(
        data, grid, base=base, executor=executor, on_progress=progress_bar(sys.stderr, "sweep"),
        max_configs=args.max_configs,
    )  # fmt: skip
    out.write(
        f"{result.n_configs} configurations on {data.source.label} ({result.executor} executor, "
        f"{result.elapsed_s:.1f} s), {result.n_failed} failed\n"
    )
    if result.best is not None:
        ranked = result.table[result.table["error"].isna()].sort_values("sharpe", ascending=False).head(5)
        shown = ranked[[*grid, "sharpe", "total_return", "max_drawdown"]]
        out.write("best configurations by Sharpe:\n" + shown.to_string(index=False) + "\n")
        dsr = result.deflated_sharpe
        out.write(f"deflated Sharpe ratio of the best: {dsr:.3f}\n" if dsr is not None else "")
    out.writelines(f"failed: {message}\n" for message in result.table["error"].dropna().unique()[:5])
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / "sweep.csv"
        result.table[[*grid, *METRIC_NAMES, "error"]].to_csv(path, index=False, date_format="%Y-%m-%d")
        out.write(f"wrote {path.name} to {args.out}\n")
    return EXIT_OK


def cmd_robustness(args: argparse.Namespace, out: TextIO) -> int:
    from engine.research.robustness import robustness_report

    for name in ("n_boot", "n_random"):
        if not 1 <= getattr(args, name) <= 100_000:
            raise ParameterError(f"--{name.replace('_', '-')} must be from 1 to 100000")
    if not (math.isfinite(args.block_length) and args.block_length >= 1):
        raise ParameterError("--block-length must be at least 1 trading day")
    params = params_from_args(args)
    data = _load_market(args, params.benchmark)
    executor = get_executor(args.executor, n_items=args.n_random)
    report = robustness_report(
        data, params, n_boot=args.n_boot, n_random=args.n_random, seed=args.seed, executor=executor,
        block_length=args.block_length,
    )  # fmt: skip
    out.write(robustness_text(report) + "\n")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / "robustness.json"
        path.write_text(json.dumps(_json_ready(report.to_dict()), indent=2) + "\n")
        out.write(f"wrote {path.name} to {args.out}\n")
    return EXIT_OK


def robustness_text(report: Any) -> str:
    def ci(block: Any, percent: bool) -> str:
        fmt = (lambda v: f"{v:.2%}") if percent else (lambda v: f"{v:.2f}")
        if not math.isfinite(block.estimate):
            return "n/a"
        return f"{fmt(block.estimate)} [{fmt(block.low)}, {fmt(block.high)}] ({block.level:.0%} interval)"

    random = report.random_portfolios
    lines = [
        (
            f"{report.n_obs} daily returns, stationary bootstrap: {report.n_boot} resamples, "
            f"mean block {report.block_length:g} days, seed {report.seed}"
        ),
        f"Sharpe ratio:                   {ci(report.sharpe_ci, False)}",
        f"annual excess return vs bench.: {ci(report.excess_return_ci, True)}",
        (
            f"random portfolios ({random.n}): strategy Sharpe at percentile {random.percentile:.1f}, "
            f"p-value {random.p_value:.3f}; total return at percentile {random.total_return_percentile:.1f}"
        ),
        f"probabilistic Sharpe ratio (P[true Sharpe > 0]): {report.probabilistic_sharpe:.3f}",
        f"executor: {report.executor}, {report.elapsed_s:.1f} s",
    ]
    lines.extend(f"note: {note}" for note in report.notes)
    return "\n".join(lines)
