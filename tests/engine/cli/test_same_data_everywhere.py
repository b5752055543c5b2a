"""One file set through the Python API, the CLI and the Data page's upload callback gives the
same data (the same MarketData fingerprint), and the CLI refuses what the API refuses."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from engine.cli.main import main

SENTIMENT_HEADER = (
    "date;symbol;twitterPosts;twitterComments;twitterLikes;twitterImpressions;twitterSentiment\n"
)


def _files(tmp_path: Path) -> tuple[Path, Path]:
    """A European export: semicolons, decimal commas, day-first dates; long prices with a
    Ticker column and Adj Close; an empty row; a duplicate date whose first copy is empty."""
    days = pd.bdate_range("2021-01-04", "2022-06-30")
    rng = np.random.default_rng(11)
    lines = ["Date;Ticker;Close;Adj Close;Volume"]
    for i, ticker in enumerate(("AAA", "BBB", "QQQ")):
        closes = 100 * (i + 1) * np.exp(np.cumsum(rng.normal(0.0003, 0.01, len(days))))
        for day, close in zip(days, closes, strict=True):
            adjusted = f"{close * 0.98:.4f}".replace(".", ",")
            lines.append(f"{day:%d/%m/%Y};{ticker};{close:.4f}".replace(".", ",") + f";{adjusted};1000")
    lines.insert(5, ";;;;")
    lines.append("30/06/2022;AAA;;;")  # duplicate date, empty
    prices = tmp_path / "prices.csv"
    prices.write_text("\n".join(lines) + "\n")
    rows = [
        f"{d:%d/%m/%Y};{s};{30 + d.day};{20 + d.day + i};{40 + 3 * d.day};{1000 + d.day};0,5"
        for d in pd.date_range("2022-01-01", "2022-04-30")
        for i, s in enumerate(("AAA", "BBB"))
    ]
    sentiment = tmp_path / "sentiment.csv"
    sentiment.write_text(SENTIMENT_HEADER + "\n".join(rows) + "\n")
    return sentiment, prices


def _uri(path: Path) -> str:
    return "data:text/csv;base64," + base64.b64encode(path.read_bytes()).decode()


def test_api_cli_and_data_page_read_the_same_data(tmp_path: Path) -> None:
    sentiment, prices = _files(tmp_path)
    # Python API
    data = engine.load_market_data(engine.FileProvider(sentiment=sentiment, prices=prices))
    assert list(data.prices.columns) == ["AAA", "BBB", "QQQ"] and not data.report.failed_tickers
    readings = {r.file: r for r in data.report.reading}
    assert readings["prices.csv"].layout == "long" and readings["prices.csv"].price_column == "Adj Close"
    assert readings["prices.csv"].separator == ";" and readings["prices.csv"].decimal == ","
    assert readings["sentiment.csv"].date_format == "%d/%m/%Y (day first)"
    # CLI: the manifest records the data's fingerprint
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["backtest", "--sentiment", str(sentiment), "--prices", str(prices), "--out", str(tmp_path / "run")],
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["fingerprint"] == data.fingerprint
    assert "read prices.csv: CSV, separator semicolon, decimal mark ','" in err.getvalue()
    # Data page: the upload callback, in-process
    from dashapp import create_app

    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    from dashapp import services
    from dashapp.pages import data as page

    with app.server.test_request_context("/"):
        candidate, body, disabled, *_ = page.validate_upload(
            _uri(sentiment), _uri(prices), "sentiment.csv", "prices.csv"
        )
        assert candidate is not None and disabled is False, body
        info = services.source_info(candidate)
    assert info["fingerprint"] == data.fingerprint
    assert info["report"]["symbols"] == list(data.report.symbols)


@pytest.mark.parametrize("flag", [[], ["--date-format", "%d/%m/%Y"], ["--dayfirst"]])
def test_ambiguous_dates_exit_2_in_one_line_unless_settled(tmp_path: Path, flag: list[str]) -> None:
    sentiment = tmp_path / "s.csv"
    sentiment.write_text(
        "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
        + "".join(f"{m:02d}/01/2022,AAA,1,2,3,4,\n" for m in range(1, 13))
    )
    prices = tmp_path / "p.csv"
    days = pd.bdate_range("2020-06-01", "2022-03-31")
    prices.write_text(
        "date,AAA,QQQ\n"
        + "".join(f"{d.date()},{100 + i * 0.1:.2f},{300 + i * 0.2:.2f}\n" for i, d in enumerate(days))
    )
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["backtest", "--sentiment", str(sentiment), "--prices", str(prices), *flag], stdout=out, stderr=err
    )
    if not flag:
        assert code == 2 and err.getvalue().count("\n") == 1
        assert "ambiguous" in err.getvalue() and "--dayfirst" in err.getvalue()
    else:
        assert code == 0, err.getvalue()
        assert "dates %d/%m/%Y" in err.getvalue()  # how the file was read: a note, on stderr


def test_stocks_on_a_long_file_never_invents_tickers(tmp_path: Path) -> None:
    days = pd.bdate_range("2022-01-03", "2022-03-31")
    lines = ["Date,Ticker,Close,High,Low,Open,Volume"] + [
        f"{d.date()},{t},{100 + 10 * k + i * 0.5:.2f},1,1,1,1000000"
        for i, d in enumerate(days)
        for k, t in enumerate(("AAA", "BBB", "QQQ"))
    ]
    prices = tmp_path / "stacked.csv"
    prices.write_text("\n".join(lines) + "\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["stocks", "--symbols", "AAA,QQQ", "--prices", str(prices)], stdout=out, stderr=err) == 0
    assert "long layout (symbols from 'Ticker'), prices from 'Close'" in err.getvalue()
    err = io.StringIO()
    assert (
        main(
            ["stocks", "--symbols", "CLOSE,VOLUME", "--prices", str(prices)], stdout=io.StringIO(), stderr=err
        )
        == 2
    )
    # the notes on how the file was read come first on stderr, then the one-line error
    assert err.getvalue().endswith("\nerror: no prices for CLOSE, VOLUME in the price data\n")
    assert err.getvalue().startswith("read stacked.csv: ")
