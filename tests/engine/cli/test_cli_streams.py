"""Every command writes its results on stdout and its notes on stderr.

Found by a tester: ``python -m engine backtest --sentiment s.csv --prices p.csv > table.txt``
put "read s.csv: ...", "dropped 2 rows of s.csv: ...", the run's warnings and "wrote ... to
DIR" inside ``table.txt``, before and after the table. Right: stdout holds the results
only (tables, summaries); how the files were read, dropped rows, failed tickers, warnings,
notes, progress and the "wrote ..." lines go to stderr, where the user still sees them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.cli._cli import run_cli, write_market_files

# How every note line starts (engine.cli.common.report_lines, warning_lines, write_notes...).
NOTE_PREFIXES = ("read ", "dropped ", "failed tickers", "warning: ", "note: ", "failed: ", "wrote ")
BAD_SENTIMENT_ROWS = (
    "2020-03-02,S001,5,-3,40,1000,\n"  # negative comments: dropped
    "someday,S002,5,30,40,1000,\n"  # not a date: dropped
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small market whose sentiment file has two bad rows (two "dropped" notes) and whose
    price file has a row with a bad date (a "dropped" note of the price file)."""
    sentiment, prices = write_market_files(tmp_path_factory.mktemp("streams"), seed=5, n_symbols=8)
    with sentiment.open("a") as handle:
        handle.write(BAD_SENTIMENT_ROWS)
    columns = prices.read_text().splitlines()[0].count(",")
    with prices.open("a") as handle:
        handle.write("2021-13-45" + ",1" * columns + "\n")
    return sentiment, prices


def _note_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith(NOTE_PREFIXES)]


COMMANDS = {
    "backtest": ["backtest", "--top-n", "3"],
    "sweep": ["sweep", "--grid", "top_n=2,3", "--grid", "benchmark=QQQ,ZZZZ", "--executor", "serial"],
    "sweep-walk-forward": [
        "sweep", "--grid", "top_n=2,3", "--executor", "serial", "--walk-forward", "--folds", "2",
        "--pbo-splits", "2",
    ],
    "signal": ["signal", "--quantiles", "3"],
    "robustness": ["robustness", "--n-boot", "20", "--n-random", "10", "--executor", "serial"],
}  # fmt: skip
HEADINGS = {
    "backtest": "Strategy",
    "sweep": "best configurations by Sharpe",
    "sweep-walk-forward": "walk-forward:",
    "signal": "information coefficient",
    "robustness": "Sharpe ratio:",
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_results_on_stdout_notes_on_stderr(name: str, files: tuple[Path, Path], tmp_path: Path) -> None:
    sentiment, prices = files
    argv = [*COMMANDS[name], "--sentiment", str(sentiment), "--prices", str(prices), "--out", str(tmp_path)]
    code, out, err = run_cli(argv)
    assert code == 0, err
    assert HEADINGS[name] in out  # the results are on stdout
    assert _note_lines(out) == [], out  # and nothing else
    # The notes are still shown, on stderr: how the files were read, the dropped rows, the files written.
    assert f"read {sentiment.name}:" in err and f"read {prices.name}:" in err
    assert f"dropped 1 rows of {sentiment.name}: twitterComments is negative" in err
    assert f"dropped 1 rows of {sentiment.name}: date is not a valid date" in err
    assert "wrote " in err and str(tmp_path) in err
    if name == "sweep":
        assert "failed: benchmark ZZZZ has no prices" in err and "2 failed" in out


def test_stocks_results_on_stdout_notes_on_stderr(files: tuple[Path, Path], tmp_path: Path) -> None:
    _, prices = files
    code, out, err = run_cli(
        ["stocks", "--symbols", "S000,S001", "--prices", str(prices), "--out", str(tmp_path)]
    )
    assert code == 0, err
    assert out.startswith(f"prices file {prices.name}: daily simple returns")
    assert "Correlation of daily returns" in out and _note_lines(out) == [], out
    assert f"read {prices.name}:" in err and "dropped 1 rows" in err
    assert f"wrote stock_metrics.csv, correlation.csv, normalised_prices.csv to {tmp_path}" in err


def test_a_redirected_stdout_holds_only_the_table(files: tuple[Path, Path], tmp_path: Path) -> None:
    """The shell case the tester hit: ``python -m engine stocks ... > table.txt``."""
    _, prices = files
    table = tmp_path / "table.txt"
    with table.open("w") as handle:
        done = subprocess.run(
            [sys.executable, "-m", "engine", "stocks", "--symbols", "S000,S001", "--prices", str(prices)],
            stdout=handle,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, "ENGINE_EXECUTOR": "serial"},
            cwd=Path(__file__).resolve().parents[3],
            check=False,
        )
    assert done.returncode == 0, done.stderr
    text = table.read_text()
    assert text.startswith(f"prices file {prices.name}:") and _note_lines(text) == [], text
    assert "dropped " in done.stderr
