"""``python -m engine``: a thin command line over the public API.

One module per command, each with ``register(subparsers)`` that adds its parser and
handler: ``backtest``, ``stocks``, ``sweep``, ``robustness``, ``signal`` (``COMMANDS``). They are
imported explicitly, so a broken command module fails loudly instead of vanishing.

Exit codes: 0 success, 2 invalid arguments or data, 1 an internal error; errors are
always one line on stderr, never a traceback.

Streams: results (tables, summaries) on stdout; notes (how the files were read, dropped
rows, failed tickers), warnings, "wrote ..." lines and errors on stderr (``main``'s
``stderr``), progress bars on the process's stderr, so stdout redirected to a file holds
the results only. Each handler is ``handler(args, out, err)``.

Settings the commands take from the environment (``YAHOO_CACHE_DIR``) are read once, by
``main`` from its ``env`` mapping (``os.environ`` by default), and handed to the commands on
``args``; Ray's settings are the engine's ``RayConfig.from_env``.

A run that started the host's embedded Ray head (``--executor ray``/``auto`` without
``RAY_ADDRESS`` and no live head recorded before the run) stops it when it ends, whatever
the outcome; a run that joined an existing head (``RAY_ADDRESS``, or a head another process
started, e.g. the dashboard's) leaves it running.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from engine._version import __version__
from engine.allocator import tune_allocator
from engine.analytics.metrics import PERCENT_METRICS
from engine.cli import backtest, robustness, signal, stocks, sweep
from engine.cli.backtest import summary_text, write_backtest
from engine.cli.common import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    STRATEGY_FLAGS,
    Parser,
    UsageError,
    params_from_args,
)
from engine.collector import freeze_startup_objects
from engine.data.providers import yahoo_cache_dir
from engine.errors import EngineError
from engine.threads import single_blas_thread

COMMANDS = (backtest, stocks, sweep, robustness, signal)

__all__ = [
    "COMMANDS",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_USAGE",
    "PERCENT_METRICS",
    "STRATEGY_FLAGS",
    "UsageError",
    "build_parser",
    "main",
    "params_from_args",
    "summary_text",
    "write_backtest",
]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m engine", description="Sentiment Portfolio Lab engine.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run one command; ``env``: the environment's settings (``os.environ`` by default)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    env = os.environ if env is None else env
    tune_allocator()
    single_blas_thread()
    freeze_startup_objects()  # after the imports: full collections skip them
    head_before = _embedded_head()
    try:
        return _run(argv, out, err, env)
    finally:
        _stop_head_we_started(head_before)


def _embedded_head() -> tuple[Any, int | None]:
    """(config, pid of the live embedded head recorded now, or None); (None, None) with
    ``RAY_ADDRESS`` set (an external cluster is never ours to stop)."""
    from engine.execution.cluster import head_alive, read_head
    from engine.execution.config import RayConfig

    try:
        config = RayConfig.from_env()
    except Exception:  # a malformed Ray setting: the command reports it if it uses Ray
        return None, None
    if config.address is not None:
        return None, None
    info = read_head(config)
    return config, (info.pid if info is not None and head_alive(info) else None)


def _stop_head_we_started(before: tuple[Any, int | None]) -> None:
    """Stop the embedded head if this run started it (a head recorded now that was not before)."""
    config, pid_before = before
    if config is None:
        return
    from engine.execution.cluster import read_head, shutdown_embedded_cluster

    info = read_head(config)
    if info is not None and info.pid != pid_before:
        with contextlib.suppress(Exception):  # the run's result stands; a stuck head is not an error
            shutdown_embedded_cluster(config)


def _run(argv: Sequence[str] | None, out: TextIO, err: TextIO, env: Mapping[str, str]) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(list(argv) if argv is not None else None)
        args.yahoo_cache_dir = yahoo_cache_dir(env)  # the engine's reader of the name and its default
        handler: Callable[[argparse.Namespace, TextIO, TextIO], int] = args.handler
        return handler(args, out, err)
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
