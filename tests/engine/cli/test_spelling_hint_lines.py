"""The CLI's failed-ticker line names the loader's spelling hint (share-class-dot-dash)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engine import ValidationReport
from engine.cli.common import report_lines
from tests.engine.cli._cli import run_cli


def test_cli_failed_ticker_line_names_the_hint() -> None:
    report = ValidationReport(failed_tickers=("BRK.B", "ZZZ"), spelling_hints=(("BRK.B", "BRK-B"),))
    assert "failed tickers (no prices): BRK.B (did you mean BRK-B?), ZZZ" in report_lines(report)


def _share_class_files(folder: Path, written: str) -> tuple[Path, Path]:
    """Sentiment for AAA and BRK.B (January 2022), closes for AAA, ``written`` and QQQ."""
    days = pd.bdate_range("2021-10-01", "2022-03-31")
    t = np.arange(len(days))
    prices = pd.DataFrame(
        {"AAA": 100 * 1.001**t, written: 300 * 1.0005**t, "QQQ": 300 * 1.0002**t},
        index=pd.DatetimeIndex(days, name="date"),
    )
    prices.to_csv(folder / "prices.csv", date_format="%Y-%m-%d")
    header = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
    rows = "".join(
        f"{d:%Y-%m-%d},{s},100,{c},200,10000,\n"
        for d in pd.date_range("2022-01-01", "2022-01-31")
        for s, c in (("BRK.B", 60), ("AAA", 30))
    )
    (folder / "sentiment.csv").write_text(header + rows)
    return folder / "sentiment.csv", folder / "prices.csv"


def test_backtest_names_the_share_class_the_price_file_wrote_with_a_slash(tmp_path: Path) -> None:
    """Breaker pass 13, F4: 'no usable prices for 1 symbol(s), which cannot be held: BRK.B',
    no hint, while the dropped column's reason said to write BRK.B (the sentiment does)."""
    sentiment, prices = _share_class_files(tmp_path, "BRK/B")
    code, _, err = run_cli(
        ["backtest", "--sentiment", str(sentiment), "--prices", str(prices), "--top-n", "1"]
    )
    assert code == 0, err
    named = (
        "BRK.B (did you mean BRK/B? the price data writes this share class with '/', "
        "which is refused: write it BRK.B there)"
    )
    assert f"failed tickers (no prices): {named}" in err
    assert f"warning: no usable prices for 1 symbol(s), which cannot be held: {named}" in err


def test_stocks_names_the_share_class_the_price_file_wrote_with_a_space(tmp_path: Path) -> None:
    _, prices = _share_class_files(tmp_path, "BRK B")
    code, _, err = run_cli(["stocks", "--symbols", "AAA,BRK.B", "--prices", str(prices)])
    assert code == 2
    assert (
        "no prices for BRK.B (did you mean BRK B? the price data writes this share class with a space, "
        "which is refused: write it BRK.B there) in the price data"
    ) in err
