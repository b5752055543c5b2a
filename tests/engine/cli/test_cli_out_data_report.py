"""What the input lost is recorded in every ``--out`` folder (breaker pass 11, F7).

Before, ``backtest --out DIR`` said on stderr "failed tickers (no prices): TAB" and
"dropped 1560 rows of sent.csv: symbol is not a ticker", but ``DIR/manifest.json`` and the
CSV headers carried only the run's own warnings: a file read later did not say that 15% of
the input was dropped or that TAB had no prices. Now manifest.json (and robustness.json)
hold ``data_report`` (``engine.ValidationReport.record``: the failed tickers, each dropped
group with its count and reason) with its notes leading ``warnings``, in the Backtest
page's wording, and every CSV a command writes has a ``data_report`` header line when the
input lost anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.engine.cli._cli import run_cli, write_market_files
from tests.support.exports import csv_header

FAILED = "No prices could be had for 1 ticker(s), which cannot be held: NOPX."
DROPPED = "Dropped 12 rows of the input: symbol is not a ticker."


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A clean market plus 12 rows of a formula symbol and 12 of a symbol without prices."""
    folder = tmp_path_factory.mktemp("lossy")
    sentiment, prices = write_market_files(folder, seed=3, n_symbols=6)
    lines = sentiment.read_text().splitlines()
    dates = sorted({row.split(",")[0] for row in lines[1:]})[:12]
    counts = lines[1].split(",")[2:]
    extra = [",".join([day, symbol, *counts]) for day in dates for symbol in ("=1+2", "NOPX")]
    sentiment.write_text("\n".join([*lines, *extra]) + "\n")
    return sentiment, prices


def _run(argv: list[str]) -> None:
    code, _, err = run_cli(argv)
    assert code == 0, err


def _record(header: dict[str, str]) -> dict[str, object]:
    assert "data_report" in header, header
    return json.loads(header["data_report"])


def _check(record: dict[str, object]) -> None:
    assert record["failed_tickers"] == ["NOPX"]
    dropped = record["dropped"]
    assert isinstance(dropped, list)
    expected = {"file": "sentiment.csv", "count": 12, "unit": "rows", "reason": "symbol is not a ticker"}
    assert expected.items() <= dropped[0].items()
    assert record["notes"] == [FAILED, DROPPED]


def test_backtest_manifest_records_the_lost_input(files: tuple[Path, Path], tmp_path: Path) -> None:
    data = ["--sentiment", str(files[0]), "--prices", str(files[1])]
    _run(["backtest", *data, "--top-n", "2", "--out", str(tmp_path)])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    _check(manifest["data_report"])
    assert manifest["warnings"][:2] == [FAILED, DROPPED]  # as the Backtest page's warnings
    for name in ("returns.csv", "holdings.csv", "periods.csv"):
        _check(_record(csv_header((tmp_path / name).read_text(encoding="utf-8"))))


def test_signal_sweep_and_robustness_files_record_it_too(files: tuple[Path, Path], tmp_path: Path) -> None:
    sentiment, prices = files
    data = ["--sentiment", str(sentiment), "--prices", str(prices)]
    _run(["signal", *data, "--out", str(tmp_path / "signal")])
    _run(["sweep", *data, "--grid", "top_n=2,3", "--executor", "serial", "--walk-forward", "--folds", "2",
          "--out", str(tmp_path / "sweep")])  # fmt: skip
    _run(["robustness", *data, "--n-boot", "20", "--n-random", "10", "--executor", "serial",
          "--out", str(tmp_path / "robustness")])  # fmt: skip
    csvs = sorted((tmp_path / "signal").glob("*.csv")) + sorted((tmp_path / "sweep").glob("*.csv"))
    assert len(csvs) == 5  # signal_ic, signal_quantile_returns, sweep, walk_forward, walk_forward_returns
    for path in csvs:
        _check(_record(csv_header(path.read_text(encoding="utf-8"))))
    _check(json.loads((tmp_path / "robustness" / "robustness.json").read_text())["data_report"])


def test_stocks_files_record_the_price_files_losses(files: tuple[Path, Path], tmp_path: Path) -> None:
    _, prices = files
    lines = prices.read_text().splitlines()
    cells = lines[5].split(",")
    cells[1] = "-5"  # a negative close: the loader drops that cell
    bad = tmp_path / "prices.csv"
    bad.write_text("\n".join([*lines[:5], ",".join(cells), *lines[6:]]) + "\n")
    symbol = lines[0].split(",")[2]
    _run(["stocks", "--symbols", symbol, "--prices", str(bad), "--out", str(tmp_path / "out")])
    for name in ("stock_metrics.csv", "correlation.csv", "normalised_prices.csv"):
        record = _record(csv_header((tmp_path / "out" / name).read_text(encoding="utf-8")))
        assert record["dropped"][0]["count"] == 1 and record["dropped"][0]["unit"] == "cells"  # type: ignore[index]
        assert record["notes"][0].startswith("Dropped 1 cell of the input: ")  # type: ignore[index]


def test_clean_data_adds_no_csv_line_and_an_empty_record(tmp_path: Path) -> None:
    _run(["backtest", "--out", str(tmp_path)])  # the demo data: nothing lost
    assert "data_report" not in csv_header((tmp_path / "returns.csv").read_text(encoding="utf-8"))
    record = json.loads((tmp_path / "manifest.json").read_text())["data_report"]
    assert record["failed_tickers"] == [] and record["dropped"] == [] and record["notes"] == []


def test_the_html_report_shows_the_notes_too(files: tuple[Path, Path], tmp_path: Path) -> None:
    # `backtest --report`: the Backtest page's report shows the data notes with its warnings;
    # the CLI's showed only the run's warnings.
    pytest.importorskip("plotly")
    data = ["--sentiment", str(files[0]), "--prices", str(files[1])]
    _run(["backtest", *data, "--top-n", "2", "--report", str(tmp_path / "r.html")])
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert FAILED in text and DROPPED in text
