"""The loader's spelling hint on the dashboard (case share-class-dot-dash: BRK.B asked, BRK-B
in the prices): carried as ``spelling_hints`` in the plain report, read back by
``components.failed_named`` on the Backtest note, the Data page's table and Yahoo summary."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

import engine
from dashapp.services import report_to_plain
from dashapp.ui import components
from dashapp.views import data as data_view
from dashapp.views import sources as sources_view

SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)
NOTE = "No prices could be had for 2 ticker(s), which cannot be held: BRK.B (did you mean BRK-B?), ZZZ."


def _stored_report() -> dict[str, Any]:
    """The report of BRK.B + ZZZ asked, AAA + BRK-B + QQQ priced, as a dcc.Store keeps it (JSON)."""
    days = pd.bdate_range("2021-06-01", "2022-06-30")
    prices = pd.DataFrame(
        {"AAA": np.linspace(100, 120, len(days)), "BRK-B": np.linspace(300, 330, len(days)), "QQQ": 300.0},
        index=days.rename("date"),
    ).to_csv(date_format="%Y-%m-%d")
    sentiment = SENTIMENT_HEADER + "".join(
        f"{d.date()},{s},100,{c},200,10000,\n"
        for d in pd.date_range("2022-01-01", "2022-03-31")
        for s, c in (("AAA", 30), ("BRK.B", 60), ("ZZZ", 10))
    )
    data = engine.load_market_data(engine.FileProvider(sentiment=sentiment.encode(), prices=prices.encode()))
    stored: dict[str, Any] = json.loads(json.dumps(report_to_plain(data.report)))
    return stored


def test_hints_survive_the_store_round_trip() -> None:
    stored = _stored_report()
    assert stored["failed_tickers"] == ["BRK.B", "ZZZ"]
    assert stored["spelling_hints"] == [["BRK.B", "BRK-B"]]
    assert components.failed_named(stored) == ["BRK.B (did you mean BRK-B?)", "ZZZ"]


def test_backtest_note_reads_the_field_not_the_warnings() -> None:
    """The note names BRK-B from ``spelling_hints``: with the warnings gone it still does, and
    with the field gone (a report stored before it existed) it names BRK.B alone."""
    stored = _stored_report()
    assert sources_view.source_notes(stored)[0] == NOTE
    assert sources_view.source_notes({**stored, "warnings": []})[0] == NOTE
    old = {k: v for k, v in stored.items() if k != "spelling_hints"}
    assert sources_view.source_notes(old)[0] == (
        "No prices could be had for 2 ticker(s), which cannot be held: BRK.B, ZZZ."
    )


def test_damaged_hints_are_ignored() -> None:
    report = {
        "failed_tickers": ["BRK.B", "ZZZ"],
        "spelling_hints": [["BRK.B"], "BRK-B", [1, 2], ["ZZZ", None], ["BRK.B", "BRK-B", "X"]],
    }
    assert components.failed_named(report) == ["BRK.B", "ZZZ"]
    assert components.failed_named({"failed_tickers": ["A.B"], "spelling_hints": "A-B"}) == ["A.B"]
    assert components.failed_named(None) == []


def test_data_page_shows_the_hint() -> None:
    stored = _stored_report()
    table = str(components.report_table(stored))
    assert "2: BRK.B (did you mean BRK-B?), ZZZ" in table
    text = data_view.yahoo_text(stored, from_yahoo=True)
    assert "No prices for 2 ticker(s), left out: BRK.B (did you mean BRK-B?), ZZZ." in text


def test_data_page_names_the_share_class_the_price_file_wrote_with_a_slash() -> None:
    """Breaker pass 13, F4: BRK.B asked, the price file's column BRK/B dropped; the Data page
    and the Backtest note named BRK.B alone, and the drop's reason said to write BRK.B."""
    days = pd.bdate_range("2021-06-01", "2022-06-30")
    prices = pd.DataFrame(
        {"AAA": np.linspace(100, 120, len(days)), "BRK/B": np.linspace(300, 330, len(days)), "QQQ": 300.0},
        index=days.rename("date"),
    ).to_csv(date_format="%Y-%m-%d")
    sentiment = SENTIMENT_HEADER + "".join(
        f"{d.date()},{s},100,{c},200,10000,\n"
        for d in pd.date_range("2022-01-01", "2022-03-31")
        for s, c in (("AAA", 30), ("BRK.B", 60))
    )
    data = engine.load_market_data(engine.FileProvider(sentiment=sentiment.encode(), prices=prices.encode()))
    stored: dict[str, Any] = json.loads(json.dumps(report_to_plain(data.report)))
    named = (
        "BRK.B (did you mean BRK/B? the price data writes this share class with '/', "
        "which is refused: write it BRK.B there)"
    )
    assert components.failed_named(stored) == [named]
    assert f"1: {named}" in str(components.report_table(stored))
    assert (
        sources_view.source_notes(stored)[0]
        == f"No prices could be had for 1 ticker(s), which cannot be held: {named}."
    )
