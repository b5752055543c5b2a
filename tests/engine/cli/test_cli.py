"""The command line, in-process: outputs, files, and one-line errors with exit code 2."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from engine import METRIC_NAMES, StrategyParams, run_backtest
from engine.cli.main import build_parser, main
from tests.engine.cli._cli import run_cli, write_market_files

_run = run_cli


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_market_files(tmp_path_factory.mktemp("cli-data"), seed=8, n_symbols=10)


def test_backtest_on_files_writes_the_documented_outputs(files: tuple[Path, Path], tmp_path: Path) -> None:
    sentiment, prices = files
    code, out, err = _run(
        [
            "backtest",
            "--sentiment",
            str(sentiment),
            "--prices",
            str(prices),
            "--top-n",
            "3",
            "--cost-bps",
            "10",
            "--rebalance",
            "weekly",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0, err
    assert "Strategy" in out and "Benchmark (QQQ)" in out and "sharpe" in out
    returns = pd.read_csv(tmp_path / "returns.csv", comment="#")
    assert list(returns.columns[:3]) == ["date", "portfolio", "benchmark"]
    holdings = pd.read_csv(tmp_path / "holdings.csv", comment="#")
    # The Backtest page's download has the same columns: each holding's formation_end and
    # entry_date from its period (engine.holdings_with_dates, one owner).
    assert list(holdings.columns[:6]) == [
        "period_start",
        "period_end",
        "formation_end",
        "entry_date",
        "symbol",
        "weight",
    ]
    assert holdings.groupby("period_start")["weight"].sum().round(12).eq(1.0).all()
    periods = pd.read_csv(tmp_path / "periods.csv", comment="#")
    expected = periods.set_index("period_start")["entry_date"]
    assert holdings["entry_date"].tolist() == expected.loc[holdings["period_start"]].tolist()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(METRIC_NAMES) <= set(metrics)
    assert set(metrics["drawdown"]) == {"peak", "trough", "recovery"}
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["params"]["top_n"] == 3 and manifest["params"]["rebalance"] == "weekly"
    assert manifest["version"]
    # The files hold the same numbers as the Python API on the same data.
    from engine import FileProvider, load_market_data

    data = load_market_data(FileProvider(sentiment=sentiment, prices=prices))
    expected = run_backtest(data, StrategyParams(top_n=3, cost_bps=10, rebalance="weekly"))
    np.testing.assert_allclose(returns["portfolio"], expected.returns["portfolio"], rtol=1e-10)
    assert metrics["sharpe"] == pytest.approx(expected.metrics["sharpe"], rel=1e-12)
    assert manifest["fingerprint"] == data.fingerprint


def test_backtest_on_demo_data(tmp_path: Path) -> None:
    code, out, _ = _run(["backtest", "--out", str(tmp_path / "demo")])
    assert code == 0
    assert "SYNTHETIC" in out
    assert "annualised over 252 trading days; risk-free 0.00% a year" in out
    assert json.loads((tmp_path / "demo" / "manifest.json").read_text())["synthetic"] is True
    # Each CSV says what it holds and its data, as the dashboard's and the other commands' do.
    for name in ("returns.csv", "holdings.csv", "periods.csv"):
        lines = (tmp_path / "demo" / name).read_text().splitlines()
        header = [line for line in lines if line.startswith("# ")]
        assert lines[0].startswith("# content: ") and lines[: len(header)] == header, name
        assert "# data_source: Demo data (SYNTHETIC, seed 7)" in header and "# synthetic: true" in header
        assert any(line.startswith("# fingerprint: ") for line in header) and "# params: {" in lines[1]


def test_backtest_without_a_return_day_still_names_its_data(tmp_path: Path) -> None:
    """The only entry at the last price day: no return day, but the data line (and its
    SYNTHETIC label) is printed, with the 'No return day' warning (weekend-period-end rows)."""
    days = pd.bdate_range("2022-03-01", "2022-05-02")
    prices = tmp_path / "prices.csv"
    prices.write_text(
        "date,AAA,BBB,QQQ\n"
        + "".join(f"{d.date()},{100 + i},{50 + i},{300 + i}\n" for i, d in enumerate(days))
    )
    sentiment = tmp_path / "sentiment.csv"
    sentiment.write_text(
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        "2022-04-29,AAA,10,60,200,1000,\n2022-04-29,BBB,10,30,200,1000,\n"
    )
    code, out, err = _run(["backtest", "--sentiment", str(sentiment), "--prices", str(prices)])
    assert code == 0, err
    assert "sentiment.csv + prices.csv: no return day, 1 period" in out
    assert "No return day: the only entry is at the close of 2022-05-02" in err  # a warning: stderr


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["backtest", "--top-n", "0"], "top_n must be a whole number"),
        (["backtest", "--top-n", "five"], "top_n must be a whole number"),
        (["backtest", "--weighting", "magic"], "invalid choice: 'magic'"),
        (
            ["backtest", "--start", "2023-02-30"],
            "start '2023-02-30' is not a calendar date: February 2023 has 28 days",
        ),
        (["backtest", "--start", "2023-05-01", "--end", "2023-01-01"], "must be before end"),
        (["backtest", "--benchmark", "not a ticker"], "benchmark must be a ticker"),
        (["backtest", "--benchmark", ""], "--benchmark needs a value"),  # ran with QQQ, silently
        (["sweep", "--grid", "top_n=3,5", "--lag-days", " "], "--lag-days needs a value"),
        (["backtest", "--sentiment", "/no/such/file.csv", "--prices", "/no/such/p.csv"], "no such file"),
        (["backtest", "--prices", "/tmp/x.csv"], "--prices needs --sentiment"),
        (["backtest", "--unknown-flag"], "unrecognized arguments"),
        ([], "required: COMMAND"),
        (["frobnicate"], "invalid choice"),
        (["stocks"], "--symbols"),
        (["stocks", "--symbols", "AA;PL"], "not a ticker symbol"),
        (["stocks", "--symbols", "AAPL"], "demo data has no AAPL"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv: list[str], fragment: str) -> None:
    code, out, err = _run(argv)
    assert code == 2
    assert fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


def test_bad_data_file_is_one_line(tmp_path: Path, files: tuple[Path, Path]) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("date,symbol\n2021-01-01,AAA\n")
    code, _, err = _run(["backtest", "--sentiment", str(broken), "--prices", str(files[1])])
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ")


def test_missing_benchmark_in_price_file(files: tuple[Path, Path]) -> None:
    code, _, err = _run(
        ["backtest", "--sentiment", str(files[0]), "--prices", str(files[1]), "--benchmark", "SPY"]
    )
    assert code == 2 and "SPY" in err


def test_stocks_from_a_price_file(files: tuple[Path, Path], tmp_path: Path) -> None:
    code, out, err = _run(
        [
            "stocks",
            "--symbols",
            "S001,s002,QQQ",
            "--prices",
            str(files[1]),
            "--start",
            "2020-03-01",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0, err
    assert "S002" in out and "Correlation" in out
    metrics = pd.read_csv(tmp_path / "stock_metrics.csv", comment="#")
    assert metrics["symbol"].tolist() == ["S001", "S002", "QQQ"]
    correlation = pd.read_csv(tmp_path / "correlation.csv", index_col=0, comment="#")
    np.testing.assert_allclose(np.diag(correlation.to_numpy()), 1.0)
    for name in ("stock_metrics.csv", "correlation.csv", "normalised_prices.csv"):
        lines = (tmp_path / name).read_text().splitlines()
        # README: every CSV export starts with the run's parameters and data fingerprint
        assert lines[0].startswith("# content: ")
        assert lines[1].startswith("# params: ") and '"start": "2020-03-01"' in lines[1]
        assert lines[2] == f"# data_source: prices file {files[1].name}"
        assert lines[3] == "# synthetic: false"
        assert lines[4].startswith("# fingerprint: ") and len(lines[4].split(": ")[1]) == 16
    assert f"prices file {files[1].name}: daily simple returns; annualised over 252 trading days" in out


def test_stocks_on_demo_data_says_synthetic(tmp_path: Path) -> None:
    code, out, err = _run(["stocks", "--symbols", "JONX,JORK", "--out", str(tmp_path)])
    assert code == 0, err
    assert out.startswith("Demo data (SYNTHETIC, seed 7): daily simple returns")
    header = (tmp_path / "stock_metrics.csv").read_text().splitlines()[:5]
    assert "# data_source: Demo data (SYNTHETIC, seed 7)" in header and "# synthetic: true" in header


def test_stocks_names_the_share_class_spelling_of_the_prices(tmp_path: Path) -> None:
    """share-class-dot-dash: BRK.B asked, BRK-B in the price file."""
    prices = tmp_path / "prices.csv"
    days = pd.bdate_range("2022-01-03", "2022-02-28")
    prices.write_text(
        "date,AAA,BRK-B\n" + "".join(f"{d.date()},{100 + i},{300 - i}\n" for i, d in enumerate(days))
    )
    code, _, err = _run(["stocks", "--symbols", "AAA,BRK.B", "--prices", str(prices)])
    assert code == 2
    assert (
        err.strip().splitlines()[-1] == "error: no prices for BRK.B (did you mean BRK-B?) in the price data"
    )


def test_a_directory_given_as_a_file_is_named_as_such(files: tuple[Path, Path], tmp_path: Path) -> None:
    code, _, err = _run(["stocks", "--symbols", "S001", "--prices", str(tmp_path)])
    assert code == 2 and f"--prices: {tmp_path} is a directory, not a file" in err
    code, _, err = _run(["backtest", "--sentiment", str(tmp_path), "--prices", str(files[1])])
    assert code == 2 and "is a directory, not a file" in err


def test_the_loader_names_a_directory_too(tmp_path: Path) -> None:
    with pytest.raises(engine.DataUnavailableError, match="is a directory, not a file"):
        engine.load_prices_file(tmp_path)


def test_help_exits_zero() -> None:
    out = io.StringIO()
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["backtest", "--help"])
    assert info.value.code == 0
    assert main(["--help"], stdout=out, stderr=io.StringIO()) == 0


def test_sweep_commands_register_when_present() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"backtest", "stocks"} <= set(commands)
    try:
        import engine.cli.sweep  # noqa: F401
    except ImportError:
        assert set(commands) == {"backtest", "stocks"}
    else:
        assert len(commands) > 2


@pytest.mark.parametrize(
    "argv",
    [["backtest", "stray\nInjected line"], ["backtest", "--sentiment", "no\nsuch\rfile", "--prices", "x"]],
)
def test_control_characters_in_arguments_stay_on_one_line(argv: list[str]) -> None:
    code, _, err = _run(argv)
    assert code == 2
    assert err.count("\n") == 1 and "\r" not in err
    assert "\\n" in err


def test_unclassified_bad_input_and_bugs_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.cli.main as cli

    def bad_value(args, out, err):
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    def bug(args, out, err):
        raise KeyError("oops")

    parser = cli.build_parser()
    for handler, expected in ((bad_value, 2), (bug, 1)):
        monkeypatch.setattr(cli, "build_parser", lambda h=handler: _with_handler(parser, h))
        code, _, err = _run(["stocks", "--symbols", "AAA"])
        assert code == expected
        assert err.count("\n") == 1 and "Traceback" not in err and "Error:" not in err


def _with_handler(parser, handler):
    parser.set_defaults(handler=handler)
    for action in parser._subparsers._group_actions[0].choices.values():
        action.set_defaults(handler=handler)
    return parser


def test_the_cli_formats_as_percent_the_engines_percent_metrics() -> None:
    import engine
    from engine.cli.main import PERCENT_METRICS

    assert engine.PERCENT_METRICS == PERCENT_METRICS


@pytest.mark.parametrize("spelling", ["BRK.B", "BRK/B", "BRK B", "brk.b"])
def test_share_class_spellings_are_never_silent_on_the_cli(spelling: str, tmp_path: Path) -> None:
    """share-class-dot-dash kind, variants BRK/B, 'BRK B', brk.b in the sentiment file and
    BRK-B in the prices. Right value: the CLI says what happened to BRK's rows before the
    results (BRK.B / brk.b: failed with the hint 'did you mean BRK-B?'; BRK/B, 'BRK B':
    rows dropped with how to write the share class). It printed nothing of either; with
    BRK/B it silently held AAA instead."""
    days = pd.bdate_range("2022-01-03", "2022-03-31")
    t = np.arange(len(days))
    prices = pd.DataFrame(
        {"AAA": 100 * 1.001**t, "BRK-B": 300 * 1.0005**t, "QQQ": 300 * 1.0002**t},
        index=pd.DatetimeIndex(days, name="date"),
    )
    prices.to_csv(tmp_path / "prices.csv", date_format="%Y-%m-%d")
    header = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
    rows = "".join(
        f"{d:%Y-%m-%d},{s},100,{c},200,10000,\n"
        for d in pd.date_range("2022-01-01", "2022-01-31")
        for s, c in ((spelling, 60), ("AAA", 30))
    )
    (tmp_path / "sentiment.csv").write_text(header + rows)
    code, out, err = run_cli(
        ["backtest", "--sentiment", str(tmp_path / "sentiment.csv"), "--prices", str(tmp_path / "prices.csv"),
         "--top-n", "1", "--out", str(tmp_path / "out")]
    )  # fmt: skip
    assert code == 0, err
    head = err  # the data's report and the run's warnings are notes: stderr
    assert "warning:" not in out and "dropped " not in out
    if spelling.upper() == "BRK.B":
        assert (
            "warning: no usable prices for 1 symbol(s), which cannot be held: BRK.B (did you mean BRK-B?)"
            in head
        )
    else:
        assert (
            "dropped 31 rows of sentiment.csv: symbol is a share class written with '/', '_' or a space"
            in head
        )
        assert repr(spelling) in head


def test_a_refused_share_class_benchmark_is_echoed_as_typed() -> None:
    """Breaker pass 13, F5: --benchmark "brk/b" was refused as "benchmark 'BRK/B' ..."."""
    code, out, err = run_cli(["backtest", "--benchmark", "brk/b"])
    assert code == 2 and out == ""
    assert (
        "benchmark 'brk/b' is a share class written with '/', '_' or a space; write it BRK-B as Yahoo does (or with a dot)"
        in err
    )
    assert "BRK/B" not in err


def test_version_flag_prints_the_engine_version(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m engine --version`` said 'the following arguments are required: COMMAND'."""
    from engine import __version__
    from engine.cli.main import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"python -m engine {__version__}"


def test_stocks_with_start_after_end_says_so() -> None:
    # It said "fewer than two prices for JONX between the chosen dates", as if the data
    # were missing; the backtest command and the Stocks page name the reversed dates.
    code, out, err = run_cli(["stocks", "--symbols", "JONX", "--start", "2023-01-01", "--end", "2022-01-01"])
    assert code == 2 and out == ""
    assert err == "error: start (2023-01-01) must be before end (2022-01-01)\n"


def test_stocks_refuses_monthly_bars_as_the_backtest_does(tmp_path: Path) -> None:
    """yf.download(interval="1mo") bars: the stocks command read them with load_prices_file
    alone and annualised 24 monthly returns as 24 days; now the backtest's sentence, exit 2."""
    months = pd.date_range("2021-01-01", "2022-12-01", freq="MS")
    rows = "".join(f"{d.date()},{100 * 1.02**i:.4f},{300 * 1.01**i:.4f}\n" for i, d in enumerate(months))
    prices = tmp_path / "monthly.csv"
    prices.write_text("Date,AAA,QQQ\n" + rows)
    code, out, err = _run(["stocks", "--symbols", "AAA", "--prices", str(prices)])
    assert code == 2 and out == ""
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(
            "error: monthly.csv has one price day every 31 days (the median gap between its dates): weekly or monthly bars"
        )
    )


def test_stocks_over_a_short_window_warns_on_stderr() -> None:
    code, out, err = _run(
        ["stocks", "--symbols", "JONX,JORK", "--start", "2023-03-01", "--end", "2023-03-14"]
    )
    assert code == 0, err
    # 10 sessions from Mar 1 to Mar 14, each with its return (Mar 1's from the Feb 28 close).
    assert "warning: The chosen window covers 10 trading days, less than a year (252)" in err
    assert "less than a year" not in out


@pytest.mark.parametrize("command", ["backtest", "stocks"])
def test_price_quality_warnings_reach_the_cli(command: str, tmp_path: Path) -> None:
    """Unadjusted closes (AAA halves on 2022-03-01, a 2-for-1 split's size) and a frozen BBB
    (the same close 2022-02-07 to 2022-02-11): both sentences on stderr before the results,
    for the backtest (load_market_data's report) and the stocks command (its own price read)."""
    days = pd.bdate_range("2022-01-03", "2022-05-31")
    t = np.arange(len(days))
    prices = pd.DataFrame(
        {"AAA": 100 * 1.001**t, "BBB": 80 * 1.002**t, "QQQ": 300 * 1.0005**t},
        index=pd.DatetimeIndex(days, name="date"),
    )
    prices.loc["2022-03-01":, "AAA"] /= 2.002
    prices.loc["2022-02-07":"2022-02-11", "BBB"] = 81.5
    prices.to_csv(tmp_path / "prices.csv", date_format="%Y-%m-%d")
    header = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
    rows = "".join(
        f"{d:%Y-%m-%d},{s},100,{c},200,10000,\n"
        for d in pd.date_range("2022-01-01", "2022-03-31")
        for s, c in (("AAA", 60), ("BBB", 30))
    )
    (tmp_path / "sentiment.csv").write_text(header + rows)
    data = ["--prices", str(tmp_path / "prices.csv")]
    argv = (
        ["backtest", "--sentiment", str(tmp_path / "sentiment.csv"), *data, "--top-n", "1"]
        if command == "backtest"
        else ["stocks", "--symbols", "AAA,BBB", *data]
    )
    code, out, err = run_cli(argv)
    assert code == 0, err
    assert (
        "warning: prices: AAA moved -50.0% on 2022-03-01, the size of a 2-for-1 split: if these closes are "
        "not adjusted for splits, every return across that day is wrong; use adjusted closes (Adj Close)"
    ) in err
    assert (
        "warning: prices: BBB closes at exactly 81.5 on 5 consecutive sessions, 2022-02-07 to 2022-02-11"
        in err
    )
    assert "moved -50.0%" not in out


def test_stocks_correlation_of_a_riskless_symbol_is_n_a(tmp_path: Path) -> None:
    """The correlation table printed NaN where the header says 'n/a: undefined' and the
    metrics table prints n/a (breaker pass 14, cosmetic): a fund without dispersion."""
    days = pd.bdate_range("2022-01-03", periods=60)
    growth = np.cumprod(1.0 + np.random.default_rng(3).normal(0.0005, 0.01, days.size))
    frame = pd.DataFrame({"MMF": 100.0 * 1.001 ** np.arange(days.size), "AAA": 50.0 * growth}, index=days)
    frame.index.name = "date"
    path = tmp_path / "prices.csv"
    frame.to_csv(path)
    code, out, err = _run(["stocks", "--symbols", "MMF,AAA", "--prices", str(path)])
    assert code == 0, err
    table = out.split("Correlation of daily returns\n", 1)[1]
    assert "NaN" not in table and "n/a" in table.splitlines()[1]
