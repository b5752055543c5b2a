"""What the commands share: exit codes, the parser class, the data and strategy options,
and loading the data a command runs on (demo, files or Yahoo Finance prices).

Streams: every command writes its results (tables, summaries) on stdout and everything else
on stderr: how the files were read, dropped rows, failed tickers, warnings, notes, progress
bars, the "wrote ..." lines and errors (``write_notes``), so ``python -m engine ... > out.txt``
holds the results only. A handler is ``handler(args, out, err)``; progress bars are drawn on
the process's stderr (``sys.stderr``), so a failing command's ``err`` holds its notes and
its one-line error, no bar.

Every data option goes through the engine's one reading layer (``engine.data.reading``):
``--date-format``, ``--dayfirst``/``--monthfirst`` and ``--decimal`` settle what a file
cannot, and ``--prices yahoo`` downloads adjusted closes with the same batched, retried,
cached ``YahooProvider`` as the app, with a progress bar on stderr and the failed tickers
listed.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from engine.data.reading import ReadOptions
from engine.data.types import TRADING_DAYS, MarketData, ValidationReport
from engine.errors import ParameterError, number_text, whole_number_text
from engine.strategy.params import StrategyParams

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERNAL = 1
YAHOO = "yahoo"  # --prices yahoo

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


class UsageError(Exception):
    """Raised instead of argparse's print-usage-and-exit, so main() prints one line."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def whole_number_arg(text: str) -> int:
    """argparse ``type`` of a count flag (``--n-boot``, ``--folds``...): digits 0-9 only, as
    every number typed as text (``whole_number_text``); argparse's ``type=int`` took '1_0'
    as 10 and '٣' (Arabic-Indic 3) as 3."""
    try:
        return whole_number_text(text, "the value")
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def number_arg(text: str) -> float:
    """argparse ``type`` of a number flag (``--block-length``): ``number_text``'s rule."""
    try:
        return number_text(text, "the value")
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# ----- options ---------------------------------------------------------------------------


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    """--date-format, --dayfirst/--monthfirst, --decimal (see ``engine.data.reading``)."""
    parser.add_argument(
        "--date-format", dest="date_format", metavar="FORMAT",
        help="strftime format of the files' date column, e.g. %%d/%%m/%%Y (default: inferred from the whole column)",
    )  # fmt: skip
    order = parser.add_mutually_exclusive_group()
    order.add_argument(
        "--dayfirst", dest="dayfirst", action="store_const", const=True, default=None,
        help="dates such as 05/02/2022 are day first (5 February)",
    )  # fmt: skip
    order.add_argument(
        "--monthfirst", dest="dayfirst", action="store_const", const=False,
        help="dates such as 05/02/2022 are month first (May 2)",
    )  # fmt: skip
    parser.add_argument(
        "--decimal", choices=(".", ","), help="decimal mark of the files' numbers (default: inferred)"
    )


def add_data_options(parser: argparse.ArgumentParser) -> None:
    # Text, not a Path: a Path would turn "http://x" into "http:/x" before check_file sees it.
    parser.add_argument("--sentiment", help="sentiment CSV (default: the synthetic demo data)")
    parser.add_argument(
        "--prices", metavar="FILE|yahoo",
        help="adjusted closes: a CSV or Parquet file, or 'yahoo' to download them from Yahoo Finance "
        "(needed with --sentiment)",
    )  # fmt: skip
    add_reading_options(parser)


def add_strategy_options(
    parser: argparse.ArgumentParser, role: str, flags: Sequence[str] | None = None
) -> None:
    """One ``--flag`` per strategy parameter (``STRATEGY_FLAGS``, or only ``flags``), read
    back by ``params_from_args``; the help names the ``role`` and the default."""
    defaults = StrategyParams()
    for flag, field in STRATEGY_FLAGS.items():
        if flags is not None and flag not in flags:
            continue
        default = getattr(defaults, field)
        parser.add_argument(
            f"--{flag.replace('_', '-')}", dest=flag, metavar=field.upper(),
            help=f"{role} {field} (default {default if default is not None else 'all data'})",
        )  # fmt: skip


def add_executor_option(parser: argparse.ArgumentParser) -> None:
    from engine.execution import EXECUTOR_MODES

    parser.add_argument(
        "--executor", choices=EXECUTOR_MODES, default=None,
        help="where to run: auto (default, or $ENGINE_EXECUTOR), ray (RAY_ADDRESS or a local cluster), serial",
    )  # fmt: skip


def params_from_args(args: argparse.Namespace) -> StrategyParams:
    """The strategy flags given, over ``StrategyParams``' defaults. A flag given an empty
    value (``--benchmark ''``) is refused: ``from_mapping`` reads "" as "the default" (an
    empty form field), and a command line that names a flag means a value."""
    given = {flag: getattr(args, flag) for flag in STRATEGY_FLAGS if getattr(args, flag, None) is not None}
    for flag, raw in given.items():
        if isinstance(raw, str) and not raw.strip():
            raise ParameterError(
                f"--{flag.replace('_', '-')} needs a value; leave the flag out for the default"
            )
    return StrategyParams.from_mapping({STRATEGY_FLAGS[flag]: raw for flag, raw in given.items()})


def read_options(args: argparse.Namespace) -> ReadOptions:
    return ReadOptions(
        date_format=getattr(args, "date_format", None),
        dayfirst=getattr(args, "dayfirst", None),
        decimal=getattr(args, "decimal", None),
    )


def check_file(raw: str | Path, flag: str) -> Path:
    """The local file ``raw`` names, as a ``Path``; ``ParameterError`` naming ``flag`` and
    echoing ``raw`` as typed (a ``Path`` would write ``http://x`` as ``http:/x``). A URL is
    refused as one and never fetched: the CLI reads local files only."""
    text = str(raw)
    path = Path(text)
    if path.is_dir():
        raise ParameterError(f"{flag}: {text} is a directory, not a file")
    if not path.is_file():
        if "://" in text:
            raise ParameterError(
                f"{flag}: {text} is a URL, not a file; the CLI reads local files only, so download it first"
            )
        raise ParameterError(f"{flag}: no such file: {text}")
    return path


def prices_from_yahoo(args: argparse.Namespace) -> bool:
    raw = getattr(args, "prices", None)
    return isinstance(raw, str) and raw.strip().lower() == YAHOO


def prices_path(args: argparse.Namespace) -> Path | None:
    raw = getattr(args, "prices", None)
    if raw is None or prices_from_yahoo(args):
        return None
    return check_file(raw, "--prices")


# ----- Yahoo Finance -----------------------------------------------------------------------

# Tests replace this with a fake downloader (yfinance-shaped frames, no network).
YAHOO_DOWNLOADER: Callable[..., Any] | None = None
YAHOO_SLEEP: Callable[[float], None] | None = None
YAHOO_BATCH_SIZE = 25  # tickers per yfinance request (the app's default)


def yahoo_provider(args: argparse.Namespace, sentiment: Path | None, *, stream: TextIO | None = None) -> Any:
    """The app's ``YahooProvider`` (batched, retried, cached in ``args.yahoo_cache_dir``:
    ``YAHOO_CACHE_DIR``, read once by ``engine.cli.main.main``), on the executor
    ``--executor`` chooses, with a tqdm bar on ``stream`` (stderr)."""
    import time

    from engine.data.yahoo import YahooProvider

    executor = None
    if getattr(args, "executor", None) is not None:
        from engine.execution import get_executor

        executor = get_executor(args.executor, n_items=1)
    return YahooProvider(
        sentiment=sentiment,
        cache_dir=args.yahoo_cache_dir,
        batch_size=YAHOO_BATCH_SIZE,
        downloader=YAHOO_DOWNLOADER,
        sleep=YAHOO_SLEEP or time.sleep,
        executor=executor,
        options=read_options(args),
        on_progress=download_bar(stream or sys.stderr),
    )


def download_bar(stream: TextIO) -> Callable[[int, int], None]:
    """``on_progress`` that draws a tqdm bar of tickers downloaded (closed when done)."""
    from tqdm import tqdm

    bar: list[Any] = []

    def draw(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc="Yahoo Finance", unit="ticker", file=stream, leave=True))
        bar[0].update(done - bar[0].n)
        if done >= total:
            bar[0].close()

    return draw


def report_lines(report: ValidationReport) -> list[str]:
    """How the files were read, which tickers failed, the rows dropped and the data's
    warnings, a failed ticker named with its spelling hint ("BRK.B (did you mean BRK-B?)",
    ``ValidationReport.spelling_hints``), printed before the results."""
    lines = [f"read {reading.describe()}" for reading in report.reading]
    if report.failed_tickers:
        failed = report.failed_named()
        shown = ", ".join(failed[:30]) + (f" and {len(failed) - 30} more" if len(failed) > 30 else "")
        lines.append(f"failed tickers (no prices): {shown}")
    for dropped in report.dropped:
        examples = f" (e.g. {', '.join(dropped.examples)})" if dropped.examples else ""
        where = f" of {dropped.file}" if dropped.file else ""
        lines.append(f"dropped {dropped.count} {dropped.unit}{where}: {dropped.reason}{examples}")
    lines.extend(f"warning: {warning}" for warning in report.warnings)
    return lines


# ----- data ------------------------------------------------------------------------------


def load_market(args: argparse.Namespace, benchmark: str, *, notes: TextIO | None = None) -> MarketData:
    """Demo data, the --sentiment file with --prices FILE or Yahoo Finance prices; the data's
    report (``report_lines``: how the files were read, failed tickers, dropped rows, warnings)
    goes to ``notes`` (the command's stderr), never into its results."""
    from engine.data.demo import DemoProvider
    from engine.data.files import FileProvider
    from engine.data.providers import load_market_data

    yahoo = prices_from_yahoo(args)
    if args.prices is not None and args.sentiment is None:
        raise ParameterError("--prices needs --sentiment (or give neither to use the demo data)")
    if args.sentiment is not None:
        sentiment = check_file(args.sentiment, "--sentiment")
        if args.prices is None:
            raise ParameterError(
                "--sentiment needs prices: --prices FILE (CSV or Parquet) or --prices yahoo (Yahoo Finance)"
            )
        if yahoo:
            provider = yahoo_provider(args, sentiment)
        else:
            provider = FileProvider(sentiment=sentiment, prices=prices_path(args), options=read_options(args))
    else:
        provider = DemoProvider()
    data = load_market_data(provider, benchmark=benchmark)
    if notes is not None:
        write_notes(notes, report_lines(data.report))
    return data


# ----- output ----------------------------------------------------------------------------


def data_report_extra(report: ValidationReport | None, *, cannot: str = "be held") -> dict[str, Any]:
    """The ``data_report`` line of an ``--out`` CSV's header (``ValidationReport.record``:
    failed tickers, dropped groups with count and reason, the notes) when the input lost
    anything, so a file read later says so; empty when nothing was lost (the demo data)."""
    if report is None or not (report.failed_tickers or report.dropped):
        return {}
    return {"data_report": report.record(cannot=cannot)}


def write_notes(err: TextIO, lines: Iterable[str]) -> None:
    """Write ``lines`` (notes, warnings, "wrote ..." lines) on ``err``, the command's stderr,
    one per line: stdout carries only the command's results."""
    err.writelines(line + "\n" for line in lines)
    err.flush()


def warning_lines(warnings: Sequence[str], *, limit: int = 10, rest: str = "") -> list[str]:
    """``"N warning(s):"`` then ``"  - <warning>"`` for the first ``limit``, then
    ``"  ... and M more<rest>"``; empty when there is no warning."""
    if not warnings:
        return []
    lines = [f"{len(warnings)} warning(s):", *(f"  - {w}" for w in warnings[:limit])]
    if len(warnings) > limit:
        lines.append(f"  ... and {len(warnings) - limit} more{rest}")
    return lines


def conventions(risk_free: float | None, *extras: str) -> str:
    """The one sentence under every command's numbers saying how they are defined:
    daily simple returns, annualised over ``TRADING_DAYS``, the risk-free rate (``None``:
    each configuration's own, when a sweep varies it), then the command's ``extras``."""
    rate = "the configuration's" if risk_free is None else f"{risk_free:.2%} a year"
    return "; ".join(
        ("daily simple returns", f"annualised over {TRADING_DAYS} trading days", f"risk-free {rate}", *extras)
    )


def fmt(value: float | None, *, percent: bool) -> str:
    """``value`` as a percentage or a ratio; "n/a" when it is missing or not finite (NaN,
    +-inf: JSON's null, the dashboard's "n/a")."""
    return number(value, "{:.2%}" if percent else "{:.2f}")


def number(value: float | None, spec: str = "{:.3f}") -> str:
    """``value`` formatted with ``spec``; "n/a" when it is missing or not finite (as ``fmt``)."""
    return "n/a" if value is None or not math.isfinite(float(value)) else spec.format(value)


def out_folder(raw: str) -> Path:
    """The ``--out`` folder, checked when the options are read (before any data is loaded or
    computed): an existing path must be a folder, and the nearest existing parent of a new
    one must be a folder too; a new folder is then made at once, so that a folder the system
    refuses (no permission, a read-only or virtual file system) stops the command here, not
    after the whole run. Raises ``argparse.ArgumentTypeError``: one line,
    ``argument --out: ...``, exit 2."""
    path = Path(raw)
    if path.exists():
        if not path.is_dir():
            raise argparse.ArgumentTypeError(f"{path} is a file, not a folder")
        return path
    _check_parents(path, f"cannot make the folder {path}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot make the folder {path}: {exc.strerror or exc}") from None
    return path


def out_file(raw: str) -> Path:
    """An output file option (``--report``), checked like ``out_folder``: an existing path
    must not be a folder, and the nearest existing parent must be a folder."""
    path = Path(raw)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder, not a file")
    _check_parents(path, f"cannot make the folder of {path}")
    return path


def _check_parents(path: Path, what: str) -> None:
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise argparse.ArgumentTypeError(f"{what}: {parent} is a file")
            return


def date_arg(raw: str | None, flag: str) -> Any:
    if raw is None:
        return None
    from engine.strategy.params import parse_date

    return parse_date(flag, raw)


def split_symbols(raw: str) -> Sequence[str]:
    return [s.strip().upper() for s in raw.split(",") if s.strip()]
