"""``python -m engine robustness``: bootstrap intervals, random-portfolio baseline and PSR of
one configuration; prints the statistics and writes ``DIR/robustness.json`` with ``--out``."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any, TextIO

from engine.cli.common import (
    EXIT_OK,
    add_data_options,
    add_executor_option,
    add_strategy_options,
    conventions,
    load_market,
    number,
    number_arg,
    out_folder,
    params_from_args,
    whole_number_arg,
    write_notes,
)
from engine.export import export_header

NAME = "robustness"


def register(sub: Any) -> None:
    """Add the ``robustness`` command to the CLI's subparsers."""
    p = sub.add_parser(
        NAME, help="bootstrap intervals, random-portfolio baseline and PSR of one configuration",
        description="Robustness statistics of one strategy configuration (see docs: Robustness statistics).",
    )  # fmt: skip
    add_data_options(p)
    add_strategy_options(p, "strategy")
    add_executor_option(p)
    p.add_argument(
        "--n-boot",
        dest="n_boot",
        type=whole_number_arg,
        default=1000,
        help="bootstrap resamples (default 1000)",
    )
    p.add_argument(
        "--n-random",
        dest="n_random",
        type=whole_number_arg,
        default=500,
        help="random portfolios (default 500)",
    )
    p.add_argument(
        "--block-length",
        dest="block_length",
        type=number_arg,
        default=10.0,
        help="mean block length of the stationary bootstrap, trading days (default 10)",
    )
    p.add_argument("--seed", type=whole_number_arg, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=out_folder, help="directory for robustness.json")
    p.set_defaults(handler=cmd_robustness)


def _json_ready(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def cmd_robustness(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The statistics on ``out`` (stdout); the data's report, the report's notes and the
    "wrote ..." line on ``err`` (stderr)."""
    from engine.execution import get_executor
    from engine.research.robustness import check_robustness_settings, robustness_report

    check_robustness_settings(
        n_boot=args.n_boot,
        n_random=args.n_random,
        seed=args.seed,
        block_length=args.block_length,
        names={
            name: "--" + name.replace("_", "-") for name in ("n_boot", "n_random", "seed", "block_length")
        },
    )
    params = params_from_args(args)
    data = load_market(args, params.benchmark, notes=err)
    executor = get_executor(args.executor, n_items=args.n_random)
    report = robustness_report(
        data, params, n_boot=args.n_boot, n_random=args.n_random, seed=args.seed, executor=executor,
        block_length=args.block_length,
    )  # fmt: skip
    out.write(robustness_text(report, data_label=data.source.label, risk_free=params.risk_free) + "\n")
    out.flush()
    write_notes(err, [f"note: {note}" for note in report.notes])
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / "robustness.json"
        # How it was made, under the keys of every export's header (engine.export.HEADER_KEYS:
        # content, params, data source with its SYNTHETIC label, fingerprint, engine version,
        # export time); the report's own params are the same StrategyParams.to_dict().
        made = export_header(
            "robustness statistics of one configuration",
            params=report.params,
            data_source=data.source.label,
            synthetic=data.source.synthetic,
            fingerprint=data.fingerprint,
        )
        # What the input lost (failed tickers, dropped rows with count and reason), as in
        # the backtest's manifest.json.
        made["data_report"] = data.report.record()
        path.write_text(json.dumps(_json_ready({**report.to_dict(), **made}), indent=2) + "\n")
        write_notes(err, [f"wrote {path.name} to {args.out}"])
    return EXIT_OK


def _random_line(random: Any) -> str:
    """The random-portfolio rank; n/a with the reason when every period has one possible
    selection (the report's note, on stderr, says it in full)."""
    if random.n_periods and random.n_fixed_periods == random.n_periods:
        return (
            "random portfolios: percentile n/a, p-value n/a (every period has at most top_n eligible "
            "symbols: every draw would be the strategy; see the note)"
        )
    line = (
        f"random portfolios ({random.n}): strategy Sharpe at percentile {number(random.percentile, '{:.1f}')}, "
        f"p-value {number(random.p_value)}; total return at percentile "
        f"{number(random.total_return_percentile, '{:.1f}')}"
    )
    if random.n_fixed_periods:
        line += f" ({random.n_fixed_periods} of {random.n_periods} periods not random: see the note)"
    return line


def robustness_text(report: Any, *, data_label: str = "", risk_free: float = 0.0) -> str:
    """The report on the terminal: the data, the bootstrap intervals (Sharpe annualised over
    252 trading days at ``risk_free``), the random-portfolio ranks and the PSR (its
    ``notes`` are written on stderr by the command, as ``note: ...`` lines)."""

    def ci(block: Any, percent: bool) -> str:
        def fmt(v: float) -> str:  # n/a: no value (the notes say why)
            return "n/a" if not math.isfinite(v) else f"{v:.2%}" if percent else f"{v:.2f}"

        if not math.isfinite(block.estimate):
            return "n/a"
        return f"{fmt(block.estimate)} [{fmt(block.low)}, {fmt(block.high)}] ({block.level:.0%} interval)"

    random = report.random_portfolios
    lines = [
        (
            (f"{data_label}: " if data_label else "")
            + f"{report.n_obs} daily returns, stationary bootstrap: {report.n_boot} resamples, "
            f"mean block {report.block_length:g} days, seed {report.seed}"
        ),
        f"Sharpe ratio:                   {ci(report.sharpe_ci, False)}",
        f"annual excess return vs bench.: {ci(report.excess_return_ci, True)}",
        "("
        + conventions(risk_free, "excess return: CAGR minus the benchmark's CAGR over the same days")
        + ")",
        _random_line(random),
        f"probabilistic Sharpe ratio (P[true Sharpe > 0]): {number(report.probabilistic_sharpe)}",
        f"executor: {report.executor}, {report.elapsed_s:.1f} s",
    ]
    return "\n".join(lines)
