"""Day-first dates (breaker 13, F1 and F3; ``engine.data.reading``).

F1: a dd.mm.yy column whose rows are sorted as text (01.01.22, 01.02.22, 02.01.22, ...) is
in date order read yy.mm.dd by construction; that order was taken as evidence and the
column read year-first (118 sentiment rows on the 22nd of January and February of
2001..2031, prices "one price day every 31 days"). The order of a text-sorted column is no
evidence; the calendar decides (weekdays, the span of the dates), else it is refused.

F3: a column mixing dd/mm and mm/dd rows (two exports merged: 13/01/2022 and 01/13/2022)
was read by a majority of the deciding values: one order's rows dropped, its other rows
moved to other months silently. Refused in one sentence quoting a value of each order.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import DataValidationError, load_prices_file, load_sentiment_csv
from engine.cli.main import main

HEADER = "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
JAN_FEB = pd.date_range("2022-01-01", "2022-02-28")


def _text_sorted(days: pd.DatetimeIndex, fmt: str) -> list[tuple[str, pd.Timestamp]]:
    """The dates written with ``fmt`` in the order a text sort gives (``sort``, a
    spreadsheet sorting the date text), each with its true date."""
    return sorted(((d.strftime(fmt), d) for d in days), key=lambda pair: pair[0])


@pytest.mark.parametrize("sep", [".", "/", "-", " "])
def test_text_sorted_day_first_sentiment_is_read_day_first(sep: str) -> None:
    """AAA and BBB daily, 2022-01-01..2022-02-28, dd.mm.yy sorted as text: read %y.%m.%d
    (2001-01-22 .. 2031-01-22) before; the right dates are January and February 2022."""
    rows = _text_sorted(JAN_FEB, f"%d{sep}%m{sep}%y")
    text = HEADER + "".join(f"{w},{s},100,40,200,10000,\n" for w, _ in rows for s in ("AAA", "BBB"))
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert sorted(set(frame["date"])) == list(JAN_FEB)
    assert len(frame) == 118 and not report.dropped
    assert report.reading[0].date_format == f"%d{sep}%m{sep}%y (day first)"
    # The same text order is a date order for yy.mm.dd, still read year-first (the dates
    # span 59 days that way, 30 years the other).
    rows = _text_sorted(JAN_FEB, f"%y{sep}%m{sep}%d")
    text = HEADER + "".join(f"{w},AAA,100,40,200,10000,\n" for w, _ in rows)
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert list(frame["date"]) == list(JAN_FEB)
    assert report.reading[0].date_format == f"%y{sep}%m{sep}%d (2-digit year first)"


@pytest.mark.parametrize("sep", [".", "/", "-"])
def test_text_sorted_day_first_prices_are_daily_closes(sep: str) -> None:
    """Wide and long XNYS-like business days 2021-06-01..2022-06-30, dd-mm-yy sorted as
    text: read as 2001-02-22..2031-12-21 (then "one price day every 31 days ... weekly or
    monthly bars"). Read day-first every date is a weekday; read year-first many are not."""
    days = pd.bdate_range("2021-06-01", "2022-06-30")
    rows = _text_sorted(days, f"%d{sep}%m{sep}%y")
    wide = "date,AAA,QQQ\n" + "".join(f"{w},{10 + i % 7},{300 + i % 5}\n" for i, (w, _) in enumerate(rows))
    frame, report = load_prices_file(wide.encode(), name="p.csv")
    assert list(frame.index) == list(days) and not report.dropped
    assert report.reading[0].date_format == f"%d{sep}%m{sep}%y (day first)"
    long = "date,symbol,close\n" + "".join(
        f"{w},{s},{10 + i % 7}\n" for i, (w, _) in enumerate(rows) for s in ("AAA", "QQQ")
    )
    frame, report = load_prices_file(long.encode(), name="p.csv")
    assert list(frame.index) == list(days) and not report.dropped


def test_text_sorted_files_backtest_as_the_iso_copy(tmp_path: Path) -> None:
    """The CLI run of breaker 13 (rows rebuilt here): text-sorted dd.mm.yy sentiment and
    text-sorted dd.mm.yy prices. It printed 14 periods from 2021-06-02 (sentiment), or
    stopped at "weekly or monthly bars, not daily closes" (prices). Right: the ISO copy's
    2022-02-01 to 2022-03-31, 3 periods, with no error."""
    rows = _text_sorted(JAN_FEB, "%d.%m.%y")
    comments = {"AAA": (40, 60), "BBB": (50, 50)}
    (tmp_path / "s.csv").write_text(
        HEADER
        + "".join(
            f"{w},{s},100,{comments[s][d.month - 1]},200,10000,\n" for w, d in rows for s in ("AAA", "BBB")
        )
    )
    days = pd.bdate_range("2021-06-01", "2022-06-30")
    t = np.arange(len(days))
    closes = {"AAA": 100 * 1.001**t, "BBB": 200 * 0.999**t, "QQQ": 300 * 1.0002**t}
    lines = [
        f"{d:%d.%m.%y}," + ",".join(f"{closes[s][i]:.4f}" for s in closes) + "\n" for i, d in enumerate(days)
    ]
    (tmp_path / "p.csv").write_text("date,AAA,BBB,QQQ\n" + "".join(sorted(lines)))
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "backtest",
        "--sentiment",
        str(tmp_path / "s.csv"),
        "--prices",
        str(tmp_path / "p.csv"),
        "--top-n",
        "1",
    ]
    code = main(argv, stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    assert "2022-02-01 to 2022-03-31, 3 periods" in out.getvalue() + err.getvalue()
    assert "weekly or monthly bars" not in err.getvalue() and "year first" not in err.getvalue()


def test_text_sorted_column_nothing_decides_is_refused_not_guessed() -> None:
    """Monthly rows on the 15th of 2022 and 2023, dd/mm/yy sorted as text: read day-first
    they span two years, read year-first eleven months of 2015; no rule tells them apart,
    so the column is refused naming both formats (before: read 2015-01-22, ... silently),
    and --dayfirst reads it."""
    days = pd.DatetimeIndex([pd.Timestamp(y, m, 15) for y in (2022, 2023) for m in range(1, 13)])
    rows = _text_sorted(days, "%d/%m/%y")
    text = HEADER + "".join(f"{w},AAA,100,40,200,10000,\n" for w, _ in rows)
    with pytest.raises(DataValidationError) as info:
        load_sentiment_csv(text.encode(), name="s.csv")
    message = str(info.value)
    assert "dates such as '15/01/22' can be day-first or year-first" in message
    assert "date_format='%d/%m/%y' or '%y/%m/%d'" in message and "--dayfirst" in message
    assert "\n" not in message
    frame, _ = load_sentiment_csv(text.encode(), name="s.csv", dayfirst=True)
    assert list(frame["date"]) == list(days)


def _mixed(day_first: int = 35) -> str:
    """AAA written dd/mm/yyyy, BBB mm/dd/yyyy, daily 2022-01-01..2022-02-28 (two exports
    merged): 35 values fit day-first only (13/01/2022), 35 month-first only (01/13/2022)."""
    lines = [HEADER]
    for d in JAN_FEB:
        lines.append(f"{d:%d/%m/%Y},AAA,100,40,200,10000,\n")
        lines.append(f"{d:%m/%d/%Y},BBB,100,50,200,10000,\n")
    return "".join(lines)


@pytest.mark.parametrize("dayfirst", [None, True, False])
def test_a_column_mixing_day_first_and_month_first_rows_is_refused(dayfirst: bool | None) -> None:
    """Read day-first by the majority before (35 BBB rows dropped, its 24 others moved to
    Mar..Dec 2022); with --monthfirst the warning said "35 ... can only be day first",
    ignoring the 35 month-first ones. Refused whatever the order asked for."""
    with pytest.raises(DataValidationError) as info:
        load_sentiment_csv(_mixed().encode(), name="s.csv", dayfirst=dayfirst)
    message = str(info.value)
    assert message.startswith("s.csv: the 'date' column mixes day-first and month-first dates")
    assert "'13/01/2022' (day first only)" in message and "'01/13/2022' (month first only)" in message
    assert "write every row one way" in message and "\n" not in message


def test_one_value_each_way_is_refused_without_an_order_and_obeys_one() -> None:
    """One value fits day-first only and one month-first only among ambiguous ones: the
    tie went to day-first silently. Refused; an order asked for reads the column and drops
    the one value against it."""
    days = ["01/02/2022", "02/02/2022", "03/02/2022", "13/02/2022", "02/13/2022", "04/02/2022"]
    text = HEADER + "".join(f"{d},AAA,100,40,200,10000,\n" for d in days)
    with pytest.raises(DataValidationError, match="mixes day-first and month-first dates"):
        load_sentiment_csv(text.encode(), name="s.csv")
    frame, report = load_sentiment_csv(text.encode(), name="s.csv", dayfirst=False)
    assert pd.Timestamp("2022-02-13") in set(frame["date"]) and len(frame) == 5
    assert [d.examples for d in report.dropped] == [("'13/02/2022'",)]
    # The rule's other side, unchanged: 30 values day-first only and one month-first-only
    # typo read day-first, the typo dropped as an invalid date.
    lines = [HEADER] + [f"{d:%d/%m/%Y},AAA,100,40,200,10000,\n" for d in JAN_FEB[:31]]
    lines.append("01/25/2022,BBB,100,40,200,10000,\n")
    frame, report = load_sentiment_csv("".join(lines).encode(), name="s.csv")
    assert list(frame["date"]) == list(JAN_FEB[:31])
    assert [d.examples for d in report.dropped] == [("'01/25/2022'",)]


# Breaker 14, F1: sorted by symbol, then by the date text. Each symbol whose rows add dates
# not seen before starts a new text-sorted run of the distinct values, so the column is not
# one text order; read year-first each run is in date order, and that order decided.


def _symbol_then_text(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(symbol, written date) rows sorted by symbol, then by the date text."""
    return sorted(rows)


@pytest.mark.parametrize("sep", [".", "/"])
def test_symbol_then_text_sorted_day_first_sentiment_is_read_day_first(sep: str) -> None:
    """Breaker 14's s_sparse_dot_symtext.csv rebuilt: AAA and BBB daily over Jan-Feb 2022,
    a random 60% of rows kept, sorted by symbol then date text. Read %y.%m.%d before (the
    22nd of Jan/Feb 2001..2031); right: the days of Jan-Feb 2022."""
    keep = np.random.default_rng(14).random((len(JAN_FEB), 2)) < 0.6
    kept = [(s, d) for i, d in enumerate(JAN_FEB) for j, s in enumerate(("AAA", "BBB")) if keep[i, j]]
    rows = _symbol_then_text([(s, d.strftime(f"%d{sep}%m{sep}%y")) for s, d in kept])
    text = HEADER + "".join(f"{w},{s},100,40,200,10000,\n" for s, w in rows)
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert sorted(set(frame["date"])) == sorted({d for _, d in kept})
    assert len(frame) == len(kept) and not report.dropped
    assert report.reading[0].date_format == f"%d{sep}%m{sep}%y (day first)"
    # A genuine yy.mm.dd column sorted the same way is still read year-first.
    rows = _symbol_then_text([(s, d.strftime(f"%y{sep}%m{sep}%d")) for s, d in kept])
    text = HEADER + "".join(f"{w},{s},100,40,200,10000,\n" for s, w in rows)
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert sorted(set(frame["date"])) == sorted({d for _, d in kept})
    assert report.reading[0].date_format == f"%y{sep}%m{sep}%d (2-digit year first)"


def test_symbol_then_text_sorted_real_shape_sentiment_is_read_day_first() -> None:
    """The shape of the project's data set: symbols over different stretches of 410 days
    (2021-11-18..2023-01-04), dd.mm.yy sorted by symbol then date text. Read 2001..2031
    before (64 periods, 42.32% on the real data instead of 16 periods, 13.73%)."""
    days = pd.date_range("2021-11-18", "2023-01-04")
    spans = {"AAA": days[:53], "BBB": days[40:250], "CCC": days[200:], "DDD": days}
    rows = _symbol_then_text([(s, d.strftime("%d.%m.%y")) for s, span in spans.items() for d in span])
    text = HEADER + "".join(f"{w},{s},100,40,200,10000,\n" for s, w in rows)
    frame, report = load_sentiment_csv(text.encode(), name="s.csv")
    assert sorted(set(frame["date"])) == list(days) and not report.dropped
    assert report.reading[0].date_format == "%d.%m.%y (day first)"


def test_symbol_then_text_sorted_long_prices_are_daily_closes() -> None:
    """Breaker 14's p_runs_dot_symtext.csv rebuilt: a long file with AAA (delisted
    2021-12-31), BBB (listed 2022-01-03) and QQQ over business days 2021-06-01..2022-06-30,
    sorted by symbol then date text. Refused before as "one price day every 31 days ...
    weekly or monthly bars"; right: the daily closes."""
    days = pd.bdate_range("2021-06-01", "2022-06-30")
    listed = {"AAA": days[days <= "2021-12-31"], "BBB": days[days >= "2022-01-03"], "QQQ": days}
    rows = _symbol_then_text([(s, d.strftime("%d.%m.%y")) for s, span in listed.items() for d in span])
    text = "date,symbol,close\n" + "".join(f"{w},{s},{10 + i % 7}\n" for i, (s, w) in enumerate(rows))
    frame, report = load_prices_file(text.encode(), name="p.csv")
    assert list(frame.index) == list(days) and not report.dropped
    assert report.reading[0].date_format == "%d.%m.%y (day first)"
    assert frame["AAA"].last_valid_index() == pd.Timestamp("2021-12-31")
    assert frame["BBB"].first_valid_index() == pd.Timestamp("2022-01-03")
