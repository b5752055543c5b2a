"""``--prices yahoo`` on the CLI, with yfinance-1.x-shaped frames injected through the
provider seam (``engine.cli.common.YAHOO_DOWNLOADER``): no network."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from engine.cli import common
from engine.cli.main import main
from tests.engine.data.test_yahoo import FakeDownloader

SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def yahoo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Install a fake downloader; returns a function that installs another one."""
    sleeps: list[float] = []
    monkeypatch.setenv("YAHOO_CACHE_DIR", str(tmp_path / "yahoo-cache"))
    monkeypatch.setattr(common, "YAHOO_SLEEP", sleeps.append)

    def install(fake: FakeDownloader, batch_size: int = 25) -> tuple[list[float], io.StringIO]:
        stderr = io.StringIO()  # patched in the test's call phase (pytest re-installs its capture)
        monkeypatch.setattr("sys.stderr", stderr)  # the tqdm bar's stream
        monkeypatch.setattr(common, "YAHOO_DOWNLOADER", fake)
        monkeypatch.setattr(common, "YAHOO_BATCH_SIZE", batch_size)
        return sleeps, stderr

    return install


def test_stocks_from_yahoo_without_any_file(yahoo) -> None:
    fake = FakeDownloader()
    _, bar = yahoo(fake)
    code, out, err = _run(
        ["stocks", "--symbols", "AAA,BBB,QQQ", "--prices", "yahoo", "--start", "2022-01-03"]
    )
    assert code == 0, err
    assert fake.calls[0][0] == ["AAA", "BBB", "QQQ"]
    assert "AAA" in out and "Correlation of daily returns" in out and "failed tickers" not in err
    # the progress bar: on the process's stderr, never in the results
    assert "Yahoo Finance" in bar.getvalue() and "3/3" in bar.getvalue() and "3/3" not in out


def test_all_nan_ticker_is_listed_as_failed_and_the_rest_analysed(yahoo) -> None:
    yahoo(FakeDownloader(failed=["BBB"]))
    code, out, err = _run(["stocks", "--symbols", "AAA,BBB,QQQ", "--prices", "yahoo"])
    assert code == 0, err
    assert "failed tickers (no prices): BBB" in err and "failed tickers" not in out  # a note: stderr
    table = out.split("Correlation")[0]
    metrics = table.split("total_return")[1]
    assert "AAA" in metrics and "BBB" not in metrics


def test_rate_limit_is_retried(yahoo) -> None:
    sleeps, _ = yahoo(FakeDownloader(rate_limited=2))
    code, out, err = _run(["stocks", "--symbols", "AAA,QQQ", "--prices", "yahoo"])
    assert code == 0, err
    assert len(sleeps) == 2 and "failed tickers" not in err + out


def test_a_failing_batch_lists_its_tickers(yahoo) -> None:
    class FailSecondBatch(FakeDownloader):
        def __call__(self, tickers, **kwargs):
            if "CCC" in tickers:
                self.calls.append((list(tickers), kwargs))
                raise ConnectionError("connection reset")
            return super().__call__(tickers, **kwargs)

    yahoo(FailSecondBatch(), batch_size=2)
    code, out, err = _run(["stocks", "--symbols", "AAA,BBB,CCC,QQQ", "--prices", "yahoo"])
    assert code == 0, err
    assert "failed tickers (no prices): CCC, QQQ" in err and "failed tickers" not in out


def test_nothing_from_yahoo_is_one_line_exit_2(yahoo) -> None:
    yahoo(FakeDownloader(empty_calls=100))
    code, _, err = _run(["stocks", "--symbols", "AAA", "--prices", "yahoo"])
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: Yahoo Finance returned no prices")


def test_backtest_sentiment_file_with_yahoo_prices(yahoo, tmp_path: Path) -> None:
    fake = FakeDownloader()
    yahoo(fake)
    rows = "".join(
        f"{d.date()},{s},100,{c},200,10000,\n"
        for d in pd.date_range("2022-01-03", "2022-02-28")
        for s, c in (("AAA", 60), ("BBB", 30))
    )
    sentiment = tmp_path / "sentiment.csv"
    sentiment.write_text(SENTIMENT_HEADER + rows)
    for command in (["backtest", "--top-n", "1"], ["sweep", "--grid", "top_n=1,2", "--executor", "serial"]):
        code, out, err = _run([*command, "--sentiment", str(sentiment), "--prices", "yahoo"])
        assert code == 0, err
        assert "sentiment.csv + Yahoo Finance" in out
    assert sorted(fake.calls[0][0]) == ["AAA", "BBB", "QQQ"]


def test_robustness_takes_yahoo_prices(yahoo, tmp_path: Path) -> None:
    yahoo(FakeDownloader())
    rows = "".join(
        f"{d.date()},{s},100,{c},200,10000,\n"
        for d in pd.date_range("2022-01-03", "2022-02-28")
        for s, c in (("AAA", 60), ("BBB", 30))
    )
    sentiment = tmp_path / "sentiment.csv"
    sentiment.write_text(SENTIMENT_HEADER + rows)
    code, out, err = _run(
        ["robustness", "--sentiment", str(sentiment), "--prices", "yahoo", "--executor", "serial",
         "--n-boot", "20", "--n-random", "10", "--top-n", "1"]
    )  # fmt: skip
    assert code == 0, err
    assert "probabilistic Sharpe ratio" in out


def test_sentiment_without_prices_names_both_ways(tmp_path: Path) -> None:
    sentiment = tmp_path / "s.csv"
    sentiment.write_text(SENTIMENT_HEADER + "2022-01-03,AAA,1,2,3,4,\n")
    code, _, err = _run(["backtest", "--sentiment", str(sentiment)])
    assert code == 2 and err == (
        "error: --sentiment needs prices: --prices FILE (CSV or Parquet) or --prices yahoo (Yahoo Finance)\n"
    )


def test_the_yahoo_cache_is_the_one_main_was_given(yahoo, tmp_path: Path) -> None:
    """``YAHOO_CACHE_DIR`` comes from the ``env`` mapping ``main`` reads once, not from
    ``os.environ`` sniffed later (the fixture sets another directory there)."""
    yahoo(FakeDownloader())
    given = tmp_path / "given"
    err = io.StringIO()
    code = main(
        # a past end: only finished ranges are cached
        ["stocks", "--symbols", "AAA,QQQ", "--prices", "yahoo", "--end", "2022-06-30"],
        stdout=io.StringIO(),
        stderr=err,
        env={"YAHOO_CACHE_DIR": str(given)},
    )
    assert code == 0, err.getvalue()
    assert sorted(p.name for p in given.rglob("*.parquet")), "nothing cached in the given directory"
    assert not (tmp_path / "yahoo-cache").exists()
