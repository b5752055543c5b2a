"""``python -m engine sweep``: backtest every combination of a parameter grid.

``sweep --grid top_n=3,5,10 --grid min_likes=10,20,50 --out DIR`` writes ``DIR/sweep.csv``:
the swept parameters in columns named as in ``--grid``, then the metrics named as in a
backtest's metrics.json, then ``error``. The summary goes to stdout; the progress bar, the
data's report, the failed configurations' messages, the walk-forward's warnings and the
"wrote ..." lines go to stderr.

``--walk-forward [--folds K --window anchored|rolling --in-sample-days N
--out-of-sample-days N --wf-metric sharpe --pbo-splits S]`` keeps every configuration's
daily returns (``run_sweep(keep_returns=True)``) and validates the sweep on them
(``engine.validate_sweep``: no backtest is rerun): it prints the folds table, how often the
in-sample winner changed, the stitched out-of-sample metrics against the full-history
winner and the benchmark, and the probability of backtest overfitting; with ``--out`` it
also writes ``walk_forward.csv`` (one row per fold, ``# key: value`` manifest lines first,
with the out-of-sample summary and the PBO) and ``walk_forward_returns.csv`` (the
out-of-sample daily returns); ``engine.research.sweep_export`` says what each file holds.
Errors exit with code 2 and one line on stderr (``engine.cli.main``).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from engine.analytics.metrics import PERCENT_METRICS
from engine.analytics.pbo import PBOSettings
from engine.backtest.prepare import PreparedData, prepare
from engine.backtest.result import Manifest
from engine.cli.common import (
    EXIT_OK,
    add_data_options,
    add_executor_option,
    add_strategy_options,
    conventions,
    data_report_extra,
    fmt,
    load_market,
    number,
    out_folder,
    params_from_args,
    whole_number_arg,
    write_notes,
)
from engine.data.types import MarketData, ValidationReport
from engine.dispersion import first_best
from engine.errors import ParameterError
from engine.export import manifest_header, write_csv
from engine.research.sweep import DEFAULT_MAX_CONFIGS, check_max_configs, grid_size, parse_grid, run_sweep
from engine.research.sweep_export import SWEEP_EXPORT_FILES, SweepExport, sweep_export, walk_forward_exports
from engine.research.walk_forward import (
    SCHEMES,
    SELECTION_METRICS,
    WalkForwardSettings,
    check_walk_forward_fits,
    validate_sweep,
)

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
        type=whole_number_arg,
        default=DEFAULT_MAX_CONFIGS,
        help=f"refuse grids larger than this: 1 to {DEFAULT_MAX_CONFIGS}, the limit per sweep (default {DEFAULT_MAX_CONFIGS})",
    )
    p.add_argument(
        "--out",
        type=out_folder,
        help="directory for sweep.csv (and walk_forward.csv, walk_forward_returns.csv)",
    )
    wf = p.add_argument_group("walk-forward validation (with --walk-forward)")
    wf.add_argument(
        "--walk-forward",
        dest="walk_forward",
        action="store_true",
        help="validate the sweep out of sample: walk-forward folds and the probability of backtest overfitting",
    )
    wf.add_argument("--folds", type=whole_number_arg, help="out-of-sample folds K (default 5)")
    wf.add_argument(
        "--window",
        choices=SCHEMES,
        help="in-sample window: anchored (growing, default) or rolling",
    )
    wf.add_argument(
        "--in-sample-days",
        dest="in_sample_days",
        type=whole_number_arg,
        help="rolling in-sample length, trading days (default: as many as precede the first out-of-sample fold)",
    )
    wf.add_argument(
        "--out-of-sample-days",
        dest="out_of_sample_days",
        type=whole_number_arg,
        help="out-of-sample length per fold, trading days (default T // (K + 1), T the sweep's days)",
    )
    wf.add_argument(
        "--wf-metric",
        dest="wf_metric",
        choices=SELECTION_METRICS,
        help="metric that picks the in-sample winner (default sharpe)",
    )
    wf.add_argument(
        "--pbo-splits", dest="pbo_splits", type=whole_number_arg, help="CSCV splits S (even, default 16)"
    )
    p.set_defaults(handler=cmd_sweep)


# The walk-forward group's flags (argparse dest -> flag): given without --walk-forward they
# would be ignored, so the command refuses them (their defaults are the settings' own).
WALK_FORWARD_FLAGS = {
    "folds": "--folds",
    "window": "--window",
    "in_sample_days": "--in-sample-days",
    "out_of_sample_days": "--out-of-sample-days",
    "wf_metric": "--wf-metric",
    "pbo_splits": "--pbo-splits",
}


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


def cmd_sweep(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The sweep's (and walk-forward's) summary on ``out`` (stdout); progress, the data's
    report, failures, warnings and the "wrote ..." lines on ``err`` (stderr)."""
    from engine.execution import get_executor

    grid = parse_grid(args.grid)
    fixed = [name for name in _grid_names(args.grid) if getattr(args, name, None) is not None]
    if fixed:
        raise ParameterError(f"{', '.join(fixed)} is both swept (--grid) and fixed; give it once")
    check_max_configs(args.max_configs, name="--max-configs")  # lowers the limit, never raises it
    base = params_from_args(args)
    given = [flag for dest, flag in WALK_FORWARD_FLAGS.items() if getattr(args, dest) is not None]
    if given and not args.walk_forward:
        one = len(given) == 1
        raise ParameterError(
            f"{', '.join(given)} {'applies' if one else 'apply'} only with --walk-forward; "
            f"add --walk-forward or drop {'it' if one else 'them'}"
        )
    settings = walk_forward_settings(args, risk_free=base.risk_free) if args.walk_forward else None
    pbo_settings = (
        PBOSettings(n_splits=_pbo_splits(args), metric=settings.metric, risk_free=base.risk_free)
        if settings
        else None
    )
    data = load_market(args, base.benchmark, notes=err)
    market: MarketData | PreparedData = data
    if settings is not None:  # refused now, not after the sweep, when it cannot fit the data
        market = prepare(data)  # prepared once, for the check and the sweep
        check_walk_forward_fits(market, grid, settings, base=base)
    executor = get_executor(args.executor, n_items=grid_size(grid))
    result = run_sweep(
        market, grid, base=base, executor=executor, on_progress=progress_bar(sys.stderr, "sweep"),
        max_configs=args.max_configs, keep_returns=settings is not None,
    )  # fmt: skip
    out.write(sweep_text(result, grid, data_label=data.source.label, risk_free=base.risk_free))
    out.flush()
    write_notes(err, sweep_notes(result))
    validation = None
    if settings is not None:
        validation = validate_sweep(result, settings, pbo_settings=pbo_settings)
        out.write(walk_forward_text(validation, grid))
        out.flush()
        write_notes(err, walk_forward_notes(validation))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        manifest = Manifest.of(base.to_dict(), data)
        now = dt.datetime.now(dt.UTC)  # one export time for the files of one run
        path = write_sweep(result, grid, manifest, args.out, now=now, report=data.report)
        write_notes(err, [f"wrote {path.name} to {args.out}"])
        if validation is not None:
            paths = write_walk_forward(validation, grid, manifest, args.out, now=now, report=data.report)
            write_notes(err, [f"wrote {p.name} to {args.out}" for p in paths])
    return EXIT_OK


def walk_forward_settings(args: argparse.Namespace, *, risk_free: float = 0.0) -> WalkForwardSettings:
    """``WalkForwardSettings`` of the ``--folds``/``--window``/... flags and the strategy's
    risk-free rate (``ParameterError`` when invalid); a flag not given takes
    ``WalkForwardSettings``' default."""
    splits = _pbo_splits(args)
    if splits < 2 or splits % 2:
        raise ParameterError(f"--pbo-splits must be an even number of at least 2; got {splits}")
    given = {
        field: getattr(args, dest)
        for dest, field in (("folds", "n_folds"), ("window", "scheme"), ("wf_metric", "metric"))
        if getattr(args, dest) is not None
    }
    return WalkForwardSettings(
        **given,
        in_sample_days=args.in_sample_days,
        out_of_sample_days=args.out_of_sample_days,
        risk_free=risk_free,
    )


def _pbo_splits(args: argparse.Namespace) -> int:
    """``--pbo-splits``, or ``PBOSettings``' default when not given."""
    return int(args.pbo_splits) if args.pbo_splits is not None else PBOSettings().n_splits


def _fold_table(folds: Any, grid: Any) -> Any:
    columns = ["fold", "is_start", "is_end", "oos_start", "oos_end", *[g for g in grid if g in folds]]
    columns += ["is_metric", "oos_metric", "winner_changed"]
    table = folds[[c for c in columns if c in folds.columns]].copy()
    if "winner" in folds.columns:  # a fold without a winner is cash: no parameters to show
        none = folds["winner"].isna().to_numpy()
        for name in [g for g in grid if g in table.columns]:
            table[name] = table[name].astype(object).where(~none, "none (cash)")
    for column in table.columns:  # dates as YYYY-MM-DD on the terminal
        if pd.api.types.is_datetime64_any_dtype(table[column]):
            table[column] = table[column].dt.strftime("%Y-%m-%d")
    return table


def walk_forward_text(validation: Any, grid: Any) -> str:
    """The walk-forward summary printed after the sweep's: folds, winner changes, the stitched
    out-of-sample metrics against the full-history winner and the benchmark, and the PBO
    (its warnings and the note when no PBO was computed: ``walk_forward_notes``)."""
    wf = validation.walk_forward
    metric = wf.settings.metric
    n_folds = len(wf.folds)
    lines = [
        f"walk-forward: {n_folds} folds, {wf.settings.scheme} in-sample windows, selection by {metric}",
        _fold_table(wf.folds, grid).to_string(index=False, float_format=number, na_rep="n/a"),
        f"the in-sample winner changed {wf.n_winner_changes} time{'s' if wf.n_winner_changes != 1 else ''} "
        f"over {n_folds} fold{'s' if n_folds != 1 else ''}",
        "out of sample (the folds' days): stitched walk-forward vs the full-history winner "
        + (
            f"(configuration {wf.full_history_winner})"
            if wf.full_history_winner is not None
            else "(none: no configuration has a defined metric over all days; cash)"
        )
        + " vs the benchmark",
        _percent_rows(
            wf.summary.loc[
                [m for m in ("total_return", "cagr", "sharpe", "max_drawdown") if m in wf.summary.index]
            ]
        ).to_string(),
    ]
    if validation.pbo is not None:
        pbo = validation.pbo
        lines.append(
            f"probability of backtest overfitting: {number(pbo.pbo)} ({pbo.n_combinations} CSCV combinations of "
            f"{pbo.n_splits} splits over {pbo.n_configs} distinct configurations"
            + (f", {pbo.n_identical} with identical returns counted once" if pbo.n_identical else "")
            + f"; probability of loss {number(pbo.probability_of_loss)}, "
            f"degradation slope {number(pbo.degradation_slope)})"
        )
    return "\n".join(lines) + "\n"


def walk_forward_notes(validation: Any) -> list[str]:
    """The walk-forward's warnings (``warning: ...``) and the note saying why no PBO was
    computed, for stderr."""
    lines = [f"warning: {w}" for w in validation.walk_forward.warnings]
    if validation.pbo is None and validation.pbo_note:
        lines.append(validation.pbo_note)
    return lines


def _write(
    export: SweepExport,
    kind: str,
    manifest: Manifest,
    directory: Path,
    now: dt.datetime | None,
    report: ValidationReport | None,
) -> Path:
    """One of a sweep's files (``engine.research.sweep_export``: the Sweep page's downloads
    hold the same) after the standard ``# key: value`` lines (``manifest_header``), the
    swept parameters marked in ``params``, and, when the input lost anything, the data
    ``report``'s ``data_report`` line."""
    extras = {**export.extras, **data_report_extra(report)}
    header = manifest_header(
        export.content, {**manifest.to_dict(), "params": export.params}, extras=extras, now=now
    )
    return write_csv(directory / SWEEP_EXPORT_FILES[kind], export.frame, header=header)


def write_sweep(
    result: Any,
    grid: Any,
    manifest: Manifest,
    directory: Path,
    *,
    now: dt.datetime | None = None,
    report: ValidationReport | None = None,
) -> Path:
    """``sweep.csv``: one row per configuration (the swept parameters, the metrics, the
    error, the DSR's trial labels ``return_series`` and ``trial_cluster``), after the
    standard header lines, the grid, the deflated Sharpe ratio of the best with its trial
    counts and the executor (``engine.research.sweep_export.sweep_export``)."""
    export = sweep_export(
        result.table, grid, params=manifest.params, trials=result.trials,
        deflated_sharpe=result.deflated_sharpe, n_trials=result.n_trials,
        n_distinct_trials=result.n_distinct_trials, n_effective_trials=result.n_effective_trials,
        executor=result.executor,
    )  # fmt: skip
    return _write(export, "sweep", manifest, directory, now, report)


def write_walk_forward(
    validation: Any,
    grid: Any,
    manifest: Manifest,
    directory: Path,
    *,
    now: dt.datetime | None = None,
    report: ValidationReport | None = None,
) -> list[Path]:
    """``walk_forward.csv`` (one row per fold, after the standard header lines, the grid,
    the walk-forward settings, the winner changes, the out-of-sample summary and the PBO)
    and ``walk_forward_returns.csv`` (the out-of-sample days' daily returns of the
    stitched walk-forward, the full-history winner and the benchmark)
    (``engine.research.sweep_export.walk_forward_exports``)."""
    wf = validation.walk_forward
    exports = walk_forward_exports(
        grid, params=manifest.params, settings=dataclasses.asdict(wf.settings), folds=wf.folds,
        n_winner_changes=wf.n_winner_changes, full_history_winner=wf.full_history_winner,
        summary=wf.summary, returns=wf.oos_returns_frame(),
        pbo=None if validation.pbo is None else validation.pbo.to_dict(), pbo_note=validation.pbo_note,
    )  # fmt: skip
    return [_write(export, kind, manifest, directory, now, report) for kind, export in exports.items()]


def _percent_columns(table: pd.DataFrame, keep: list[str]) -> pd.DataFrame:
    """The metric columns of ``table`` as text: percentages for the percent metrics (as the
    backtest's table shows them), 3 decimals for the ratios; ``keep`` (parameters) as they are."""
    shown = table.copy()
    for column in shown.columns:
        if column in keep:
            continue
        if column in PERCENT_METRICS:
            shown[column] = shown[column].map(lambda v: fmt(v, percent=True))
        else:
            shown[column] = shown[column].map(number)
    return shown


def _percent_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """A metrics x series summary as text, each row formatted as its metric is."""
    return pd.DataFrame(
        [
            [fmt(v, percent=True) if name in PERCENT_METRICS else number(v) for v in row]
            for name, row in summary.iterrows()
        ],
        index=summary.index,
        columns=summary.columns,
    )


def _conventions(grid: Any, risk_free: float) -> str:
    """How the sweep's numbers are defined, once under its table."""
    rate = None if "risk_free" in grid else risk_free
    return conventions(rate, "total_return and max_drawdown over the whole run")


def best_rows(table: pd.DataFrame, count: int) -> pd.DataFrame:
    """The ``count`` best rows without error by Sharpe ratio, by the rule that picks the
    sweep's best (``engine.dispersion.first_best``): Sharpe ratios equal up to rounding
    are one value and the first row of a tie comes first, so the first row shown is the
    sweep's best. (A plain sort put tied rows in any order: ``lookback_days`` 63 before 21
    under equal weights, and a row a few ulps above the best before it.)"""
    ok = table[table["error"].isna()]
    values = ok["sharpe"].to_numpy(dtype=np.float64, copy=True)
    picked: list[int] = []
    while len(picked) < min(count, len(values)):
        j = first_best(values)
        if j < 0:  # the rows without a Sharpe ratio last, in their order (as a sort puts NaN)
            picked.extend(i for i in range(len(values)) if i not in picked)
            break
        picked.append(j)
        values[j] = np.nan
    return ok.iloc[picked[:count]]


def sweep_text(result: Any, grid: Any, *, data_label: str, risk_free: float = 0.0) -> str:
    """The sweep summary printed on the terminal: counts, the five best configurations by
    Sharpe and the deflated Sharpe ratio of the best (the failure messages: ``sweep_notes``)."""
    lines = [
        f"{result.n_configs} configurations on {data_label} ({result.executor} executor, "
        f"{result.elapsed_s:.1f} s), {result.n_failed} failed"
    ]
    if result.best is not None:
        ranked = best_rows(result.table, 5)
        shown = _percent_columns(ranked[[*grid, "sharpe", "total_return", "max_drawdown"]], list(grid))
        lines.append("best configurations by Sharpe:\n" + shown.to_string(index=False))
        lines.append(_conventions(grid, risk_free))
        dsr = result.deflated_sharpe
        if dsr is not None:
            lines.append(f"deflated Sharpe ratio of the best: {dsr:.3f}")
        lines.append(
            f"trials: {result.n_trials} configurations, {result.n_distinct_trials} distinct return series, "
            f"{result.n_effective_trials} effective independent trials (correlation clusters; the DSR uses these)"
        )
    else:
        ran = int(result.table["error"].isna().sum())
        if ran:
            lines.append(
                f"no best configuration and no deflated Sharpe ratio: none of the {ran} configuration(s) "
                "that ran has a Sharpe ratio (zero volatility, or fewer than 2 return days)"
            )
    return "\n".join(lines) + "\n"


def sweep_notes(result: Any) -> list[str]:
    """The sweep's warnings (``warning: ...``) and its first five distinct failure messages
    (``failed: ...``), for stderr."""
    return [f"warning: {text}" for text in result.warnings] + [
        f"failed: {message}" for message in result.table["error"].dropna().unique()[:5]
    ]
