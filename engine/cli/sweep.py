"""``python -m engine sweep``: backtest every combination of a parameter grid.

``sweep --grid top_n=3,5,10 --grid min_likes=10,20,50 --out DIR`` writes ``DIR/sweep.csv``:
the swept parameters in columns named as in ``--grid``, then the metrics named as in a
backtest's metrics.json, then ``error``. A progress bar goes to stderr.
Errors exit with code 2 and one line on stderr (``engine.cli.main``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from engine.analytics.metrics import METRIC_NAMES
from engine.cli.common import (
    EXIT_OK,
    add_data_options,
    add_executor_option,
    add_strategy_options,
    load_market,
    params_from_args,
)
from engine.errors import ParameterError
from engine.research.sweep import DEFAULT_MAX_CONFIGS, grid_size, parse_grid, run_sweep

NAME = "sweep"
BAR_WIDTH = 30


def register(sub: Any) -> None:
    """Add the ``sweep`` command to the CLI's subparsers."""
    p = sub.add_parser(
        NAME, help="backtest every combination of a parameter grid",
        description="Parameter sweep. Each --grid adds one parameter: --grid top_n=3,5,10 --grid min_likes=10,20,50.",
    )  # fmt: skip
    add_data_options(p)
    p.add_argument(
        "--grid",
        action="append",
        required=True,
        metavar="NAME=V1,V2,...",
        help="a swept parameter and its values (repeat for more parameters)",
    )
    add_strategy_options(p, "fixed")
    add_executor_option(p)
    p.add_argument(
        "--max-configs",
        dest="max_configs",
        type=int,
        default=DEFAULT_MAX_CONFIGS,
        help=f"refuse grids larger than this (default {DEFAULT_MAX_CONFIGS})",
    )
    p.add_argument("--out", type=Path, help="directory for sweep.csv")
    p.set_defaults(handler=cmd_sweep)


def progress_bar(stream: TextIO, label: str) -> Callable[[int, int], None]:
    """``on_progress`` that redraws one line on ``stream`` (a newline when done)."""

    def draw(done: int, total: int) -> None:
        filled = BAR_WIDTH * done // max(total, 1)
        stream.write(f"\r{label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return draw


def _grid_names(specs: list[str]) -> list[str]:
    return [spec.partition("=")[0].strip() for spec in specs]


def cmd_sweep(args: argparse.Namespace, out: TextIO) -> int:
    from engine.execution import get_executor

    grid = parse_grid(args.grid)
    fixed = [name for name in _grid_names(args.grid) if getattr(args, name, None) is not None]
    if fixed:
        raise ParameterError(f"{', '.join(fixed)} is both swept (--grid) and fixed; give it once")
    if args.max_configs < 1:
        raise ParameterError("--max-configs must be at least 1")
    base = params_from_args(args)
    data = load_market(args, base.benchmark, out=out)
    executor = get_executor(args.executor, n_items=grid_size(grid))
    result = run_sweep(
        data, grid, base=base, executor=executor, on_progress=progress_bar(sys.stderr, "sweep"),
        max_configs=args.max_configs,
    )  # fmt: skip
    out.write(sweep_text(result, grid, data_label=data.source.label))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / "sweep.csv"
        result.table[[*grid, *METRIC_NAMES, "error"]].to_csv(path, index=False, date_format="%Y-%m-%d")
        out.write(f"wrote {path.name} to {args.out}\n")
    return EXIT_OK


def sweep_text(result: Any, grid: Any, *, data_label: str) -> str:
    """The sweep summary printed on the terminal: counts, the five best configurations by
    Sharpe, the deflated Sharpe ratio of the best, and the first failure messages."""
    lines = [
        f"{result.n_configs} configurations on {data_label} ({result.executor} executor, "
        f"{result.elapsed_s:.1f} s), {result.n_failed} failed"
    ]
    if result.best is not None:
        ranked = result.table[result.table["error"].isna()].sort_values("sharpe", ascending=False).head(5)
        shown = ranked[[*grid, "sharpe", "total_return", "max_drawdown"]]
        lines.append("best configurations by Sharpe:\n" + shown.to_string(index=False))
        dsr = result.deflated_sharpe
        if dsr is not None:
            lines.append(f"deflated Sharpe ratio of the best: {dsr:.3f}")
        lines.append(
            f"trials: {result.n_trials} configurations, {result.n_distinct_trials} distinct return series, "
            f"{result.n_effective_trials} effective independent trials (correlation clusters; the DSR uses these)"
        )
    lines.extend(f"failed: {message}" for message in result.table["error"].dropna().unique()[:5])
    return "\n".join(lines) + "\n"
