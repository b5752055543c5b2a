"""Data page (issue 10): the date-order choice reaches the engine's reading layer, an
ambiguous file is refused with the engine's sentence plus a pointer to the page control,
and a sentiment file alone gets its prices from Yahoo Finance with progress and the failed
tickers shown (yfinance-shaped frames injected, no network)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import engine
from dashapp.views import data as view
from tests.engine.data.test_yahoo import FakeDownloader

from .test_page_data import data_uri

COLUMNS = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"


def _sentiment(days: pd.DatetimeIndex, fmt: str, symbols: tuple[str, ...] = ("AAA", "BBB")) -> str:
    """Case dates-day-first (../shared/cases, rows rebuilt here): AAA is the more engaged
    symbol in January, BBB in February (comments 60 vs 30)."""
    lines = [COLUMNS]
    for day in days:
        for symbol in symbols:
            engaged = (symbol == "AAA") == (day.month == 1)
            lines.append(f"{day.strftime(fmt)},{symbol},100,{60 if engaged else 30},200,10000,\n")
    return "".join(lines)


def _prices() -> str:
    days = pd.bdate_range("2021-06-01", "2022-12-30")
    t = np.arange(len(days))
    frame = pd.DataFrame(
        {
            "date": days.strftime("%Y-%m-%d"),
            "AAA": 100 * 1.001**t,
            "BBB": 100 * 0.999**t,
            "QQQ": 300 * 1.0003**t,
        }
    )
    return frame.round(6).to_csv(index=False)


JAN_FEB = pd.date_range("2022-01-01", "2022-02-28")
# Every day <= 12: 01/02/2022 fits both orders, so the column is ambiguous.
AMBIGUOUS = pd.DatetimeIndex([d for d in JAN_FEB if d.day <= 12])


@pytest.fixture
def app(tmp_path: Path) -> Any:
    from dashapp import create_app

    return create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})


@pytest.fixture
def page(app: Any) -> Iterator[Any]:
    from dashapp.pages import data

    with app.server.test_request_context("/"):
        yield data


def _holdings(candidate: dict) -> list[tuple[str, str]]:
    from dashapp import services

    result = services.backtest(candidate, engine.StrategyParams(top_n=1).to_dict())
    holdings = result["holdings"]
    return list(zip(holdings["period_start"], holdings["symbol"], strict=True))


def test_day_first_case_through_the_page(page: Any) -> None:
    text = _sentiment(JAN_FEB, "%d/%m/%Y")
    candidate, body, disabled, *_ = page.validate_upload(
        data_uri(text), data_uri(_prices()), "sentiment_ddmmyyyy.csv", "prices.csv"
    )
    assert disabled is False, str(body)
    assert "118 sentiment rows kept" in str(body)
    # Two holding periods as the ISO copy gives: February AAA, March BBB.
    picks = _holdings(candidate)
    assert [symbol for _, symbol in picks] == ["AAA", "BBB"]
    assert [start[:7] for start, _ in picks] == ["2022-02", "2022-03"]


def test_ambiguous_dates_are_refused_with_a_pointer_to_the_page_control(page: Any) -> None:
    text = _sentiment(AMBIGUOUS, "%d/%m/%Y")
    candidate, body, disabled, *_ = page.validate_upload(
        data_uri(text), data_uri(_prices()), "s.csv", "p.csv"
    )
    shown = str(body)
    assert candidate is None and disabled is True
    assert "dayfirst" in shown  # the engine's own sentence, kept
    assert view.DATE_HINT in shown and "data-date-hint" in shown


@pytest.mark.parametrize(
    ("order", "date_format"), [("dayfirst", None), ("auto", "%d/%m/%Y"), ("monthfirst", "%d/%m/%Y")]
)
def test_the_page_choice_settles_an_ambiguous_file(page: Any, order: str, date_format: str | None) -> None:
    from dashapp import services

    text = _sentiment(AMBIGUOUS, "%d/%m/%Y")
    candidate, body, disabled, *_ = page.validate_upload(
        data_uri(text), data_uri(_prices()), "s.csv", "p.csv", order, date_format
    )
    assert disabled is False, str(body)
    assert "48 sentiment rows kept" in str(body)  # days 1..12 of January and February x 2 symbols
    # The choice is kept with the upload: a later load (another worker) reads the same dates.
    from dashapp.state import get_state

    get_state().market_data.clear()
    data = services.get_market_data(candidate)
    dates = pd.DatetimeIndex(data.sentiment["date"]).unique()
    assert dates.min() == pd.Timestamp("2022-01-01") and dates.max() == pd.Timestamp("2022-02-12")
    assert set(dates.month) == {1, 2}


def test_month_first_choice_reads_month_first(page: Any) -> None:
    text = _sentiment(AMBIGUOUS, "%d/%m/%Y")
    _, body, disabled, *_ = page.validate_upload(
        data_uri(text), data_uri(_prices()), "s.csv", "p.csv", "monthfirst", ""
    )
    assert disabled is False, str(body)
    assert "Dates read month first" in str(body)


def test_a_bad_format_is_one_sentence(page: Any) -> None:
    text = _sentiment(AMBIGUOUS, "%d/%m/%Y")
    candidate, body, *_ = page.validate_upload(
        data_uri(text), data_uri(_prices()), "s.csv", "p.csv", "auto", "dd/mm/yyyy"
    )
    assert candidate is None and "date_format" in str(body) and "Traceback" not in str(body)


def test_sentiment_alone_downloads_yahoo_prices_with_progress_and_failed_tickers(
    page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDownloader(failed=["CCC"])
    monkeypatch.setattr(
        engine,
        "YahooProvider",
        functools.partial(engine.YahooProvider, downloader=fake, sleep=lambda _: None),
    )
    progress: list[tuple[int, str]] = []
    text = _sentiment(JAN_FEB, "%Y-%m-%d", symbols=("AAA", "BBB", "CCC"))
    candidate, body, disabled, *_ = page.validate_upload(
        data_uri(text), None, "sentiment.csv", None, "auto", None, progress.append
    )
    shown = str(body)
    assert disabled is False, shown
    assert fake.calls, "the injected downloader was used"
    assert progress[0] == (0, "0/4 tickers") and progress[-1] == (100, "4/4 tickers")
    assert "Prices from Yahoo Finance" in shown and "No prices for 1 ticker(s), left out: CCC." in shown
    assert candidate["kind"] == "upload"


def test_sentiment_alone_starts_the_background_download_job(
    page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dash import no_update

    text = _sentiment(AMBIGUOUS, "%d/%m/%Y")
    # The upload callback checks the sentiment file at once with the page's choice...
    refused = page.on_upload(data_uri(text), None, "s.csv", None, "auto", None)
    assert refused[0] is None and refused[-2] is None and view.DATE_HINT in str(refused[1])
    answer = page.on_upload(data_uri(text), None, "s.csv", None, "dayfirst", None)
    candidate, message, disabled, *_, job, stamp = answer
    assert stamp == {"sentiment": len(data_uri(text)), "prices": 0}
    assert candidate is None and disabled is True and "downloading prices from Yahoo Finance" in str(message)
    assert job == {"date_order": "dayfirst", "date_format": None, "decimal": "auto"}
    # ...and the background job downloads with progress (yfinance-shaped frames, no network).
    fake = FakeDownloader(failed=["BBB"])
    monkeypatch.setattr(
        engine,
        "YahooProvider",
        functools.partial(engine.YahooProvider, downloader=fake, sleep=lambda _: None),
    )
    progress: list[tuple[int, str]] = []
    body, candidate, disabled = page.download_prices_job(progress.append, job, data_uri(text), "s.csv")
    assert disabled is False and candidate["kind"] == "upload", str(body)
    assert progress[-1] == (100, "3/3 tickers")
    assert "No prices for 1 ticker(s), left out: BBB." in str(body) and "Dates read day first" in str(body)
    assert page.download_prices_job(progress.append, None, data_uri(text), "s.csv") == (no_update,) * 3


def test_changing_the_date_choice_reads_the_files_again(page: Any) -> None:
    from dash import no_update

    text = _sentiment(AMBIGUOUS, "%d/%m/%Y")
    job, candidate, body, disabled, *_ = page.on_date_choice(
        "dayfirst", None, {}, data_uri(text), data_uri(_prices()), "s.csv", "p.csv"
    )
    assert disabled is False and candidate["kind"] == "upload" and job is None, str(body)
    assert page.on_date_choice("auto", None, {}, None, None, None, None) == (no_update,) * 6


def test_reading_choice_and_progress_helpers() -> None:
    none = {"date_format": None, "dayfirst": None, "decimal": None}
    assert view.reading_choice("auto", "  ") == none
    assert view.reading_choice("dayfirst", None) == {**none, "dayfirst": True}
    assert view.reading_choice("monthfirst", "%m/%d/%Y") == {
        **none,
        "date_format": "%m/%d/%Y",
        "dayfirst": False,
    }
    assert view.reading_choice(["bogus"], 5, ["."]) == none
    assert view.reading_choice("auto", None, ",") == {**none, "decimal": ","}
    assert view.reading_choice("auto", None, "auto") == view.reading_choice("auto", None, ";") == none
    assert view.progress_value(3, 4) == (75, "3/4 tickers")
    assert view.progress_value(0, 0) == (0, "0/0 tickers")


def test_month_first_overruled_by_a_day_first_file_is_never_said_to_be_read_month_first(page: Any) -> None:
    """A new user's day-first file (rows copied in: 13/01/2022 ... can only be day first) with
    "Month first" chosen: the engine reads it day first; the page said "Dates read month
    first (as chosen on this page)" and no warning. Now the engine's record and warning show."""
    from tests.engine.data.test_date_choices import SENTIMENT

    prices = _prices().replace("AAA", "AAPL")
    _, body, disabled, *_ = page.validate_upload(
        data_uri(SENTIMENT), data_uri(prices), "s.csv", "p.csv", "monthfirst", ""
    )
    shown = str(body)
    assert disabled is False, shown
    assert "Dates read month first (as chosen on this page)." not in shown
    # The page passes the engine's report: the overruled file is named.
    assert "Dates read month first (as chosen on this page), except in s.csv, read day first" in shown
    assert (
        "s.csv: the 'date' column is read day first, not month first as asked: "
        "6 of its dates, such as '13/01/2022', can only be day first"
    ) in shown
    assert "dates %d/%m/%Y (day first, not the month first asked for)" in shown


def test_reading_text_follows_the_engines_reading_records() -> None:
    month_first = view.reading_choice("monthfirst", None)
    overruled = "s.csv: CSV, separator comma, dates %d/%m/%Y (day first, not the month first asked for)"
    kept = "p.csv: CSV, separator comma, dates ISO 8601 (yyyy-mm-dd)"
    assert view.reading_text(month_first, {"reading": [overruled]}) == (
        "Dates read day first, not month first as chosen on this page: the dates of s.csv say so (see the warnings)."
    )
    assert view.reading_text(month_first, {"reading": [overruled, kept]}) == (
        "Dates read month first (as chosen on this page), except in s.csv, read day first as its dates say "
        "(see the warnings)."
    )
    obeyed = "s.csv: CSV, separator comma, dates %m/%d/%Y (month first)"
    assert view.reading_text(month_first, {"reading": [obeyed, kept]}) == (
        "Dates read month first (as chosen on this page)."
    )
    assert view.reading_text(view.reading_choice("auto", None), {"reading": [overruled]}) == ""


def test_a_column_priced_on_weekends_makes_no_trading_day_through_the_page(page: Any) -> None:
    """Breaker pass 3, F1 (the weekend-period-end case with a BTC-USD column priced every
    calendar day): the page called the upload valid, listed only the dropped BTC-USD column
    and kept Saturday 2022-04-30 as May's entry (AAA unpriced there: May in cash, 0.00%).
    Right: the weekend dates are dropped and said, the entry is Monday 05-02, AAA +2.1211%."""
    from dashapp import services
    from tests.engine.data.test_run_calendar import _sentiment as tied_sentiment
    from tests.engine.data.test_run_calendar import _weekend_prices

    prices = _weekend_prices()
    text = tied_sentiment(pd.date_range("2022-04-01", "2022-04-29")).decode()  # AAA = BBB: AAA
    candidate, body, disabled, *_ = page.validate_upload(
        data_uri(text), data_uri(prices.to_csv()), "sentiment.csv", "prices.csv"
    )
    assert disabled is False, str(body)
    assert "none of the sentiment" in str(body) and "2022-01-08 (Sat)" in str(body)
    result = services.backtest(candidate, engine.StrategyParams(top_n=1).to_dict())
    assert result["periods"]["entry_date"][0][:10] == "2022-05-02"
    right = prices.loc["2022-05-31", "AAA"] / prices.loc["2022-05-02", "AAA"] - 1
    assert result["metrics"]["total_return"] == pytest.approx(right, rel=1e-9)


# ----- the decimal mark (breaker pass 9, F3) ----------------------------------------------

DE_COLUMNS = COLUMNS.replace(",", ";")


def _sentiment_de(days: pd.DatetimeIndex = JAN_FEB) -> str:
    """A German/Dutch Excel export: semicolons, dd.mm.yyyy, whole counts with '.' as the
    thousands mark and the sentiment column empty. Every count with a mark (2.428) reads
    either way, so the file alone cannot say which mark is the decimal one."""
    lines = [DE_COLUMNS]
    for day in days:
        for symbol in ("AAA", "BBB"):
            engaged = (symbol == "AAA") == (day.month == 1)
            comments = "7.346" if engaged else "2.428"
            lines.append(f"{day.strftime('%d.%m.%Y')};{symbol};761;{comments};27.350;338.792;\n")
    return "".join(lines)


def test_an_undecidable_decimal_mark_is_refused_with_a_pointer_to_the_page_control(page: Any) -> None:
    candidate, body, disabled, *_ = page.validate_upload(
        data_uri(_sentiment_de()), data_uri(_prices()), "s_de.csv", "p.csv"
    )
    shown = str(body)
    assert candidate is None and disabled is True
    assert "could use either mark as the decimal one" in shown  # the engine's own sentence, kept
    assert view.DECIMAL_HINT in shown and "data-decimal-hint" in shown
    assert view.DATE_HINT not in shown


@pytest.mark.parametrize(("mark", "comments"), [(",", {2428.0, 7346.0}), (".", {2.428, 7.346})])
def test_the_page_decimal_choice_settles_the_file_and_is_kept(
    page: Any, mark: str, comments: set[float]
) -> None:
    from dashapp import services
    from dashapp.state import get_state

    candidate, body, disabled, *_ = page.validate_upload(
        data_uri(_sentiment_de()), data_uri(_prices()), "s_de.csv", "p.csv", decimal=mark
    )
    assert disabled is False, str(body)
    assert "118 sentiment rows kept" in str(body)
    assert view.decimal_text({"decimal": mark}) in str(body)
    # Kept with the upload: a later load (another worker) reads the same numbers.
    get_state().market_data.clear()
    data = services.get_market_data(candidate)
    assert set(data.sentiment["twitterComments"].astype(float)) == comments
    assert set(data.sentiment["twitterImpressions"].astype(float)) == {338792.0 if mark == "," else 338.792}


def test_changing_the_decimal_choice_reads_the_files_again(page: Any) -> None:
    args = (data_uri(_sentiment_de()), data_uri(_prices()), "s_de.csv", "p.csv")
    job, candidate, body, disabled, *_ = page.on_date_choice("auto", None, {}, *args, ",")
    assert disabled is False and candidate["kind"] == "upload" and job is None, str(body)
    _, _, refused, disabled, *_ = page.on_date_choice("auto", None, {}, *args, "auto")
    assert disabled is True and view.DECIMAL_HINT in str(refused)


def test_a_sentiment_file_alone_is_checked_with_the_decimal_choice(page: Any) -> None:
    text = data_uri(_sentiment_de())
    refused = page.on_upload(text, None, "s_de.csv", None, "auto", None, "auto")
    assert refused[0] is None and view.DECIMAL_HINT in str(refused[1]) and refused[-2] is None
    *_, job, _stamp = page.on_upload(text, None, "s_de.csv", None, "auto", None, ",")
    assert job == {"date_order": "auto", "date_format": None, "decimal": ","}


def test_text_sorted_day_first_upload_reads_the_right_dates(page: Any) -> None:
    """Breaker 13, F1: the day-first case written dd.mm.yy with its rows sorted as text
    (01.01.22, 01.02.22, 02.01.22, ...). The page called it valid with "Sentiment dates
    2001-01-22 to 2031-01-22"; it reads January and February 2022 and holds what the ISO
    copy holds (February AAA, March BBB)."""
    header, *rows = _sentiment(JAN_FEB, "%d.%m.%y").splitlines(keepends=True)
    candidate, body, disabled, *_ = page.validate_upload(
        data_uri(header + "".join(sorted(rows))), data_uri(_prices()), "s.csv", "p.csv"
    )
    shown = str(body)
    assert disabled is False, shown
    assert "118 sentiment rows kept" in shown and "2001" not in shown
    assert "%d.%m.%y (day first)" in shown
    picks = _holdings(candidate)
    assert [symbol for _, symbol in picks] == ["AAA", "BBB"]
    assert [start[:7] for start, _ in picks] == ["2022-02", "2022-03"]


def test_upload_mixing_day_first_and_month_first_rows_is_refused(page: Any) -> None:
    """Breaker 13, F3: AAA's rows dd/mm/yyyy, BBB's mm/dd/yyyy (two exports merged). The
    page called it valid and listed 35 dropped rows; BBB's other 24 rows moved to other
    months. Refused with the engine's sentence, whatever order is chosen on the page."""
    lines = [COLUMNS] + [
        f"{d:%d/%m/%Y},AAA,100,60,200,10000,\n{d:%m/%d/%Y},BBB,100,30,200,10000,\n" for d in JAN_FEB
    ]
    for order in ("auto", "monthfirst"):
        candidate, body, disabled, *_ = page.validate_upload(
            data_uri("".join(lines)), data_uri(_prices()), "s.csv", "p.csv", order, ""
        )
        shown = str(body)
        assert candidate is None and disabled is True
        assert "mixes day-first and month-first dates, such as '13/01/2022' (day first only)" in shown
        assert "'01/13/2022' (month first only)" in shown
