"""Browser test (headless chromium via dash_duo) of the Data page's date-order choice and
its Yahoo download job (yfinance-shaped frames injected, no network).

Run: ``python -m pytest --headless tests/dashapp/test_browser_data_reading.py``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

import engine
from dashapp import create_app
from dashapp.views import data as view
from tests.dashapp.test_browser_data_status import click, free_port, upload
from tests.dashapp.test_page_data_reading import AMBIGUOUS, JAN_FEB, _prices, _sentiment, _sentiment_de
from tests.engine.data.test_yahoo import FakeDownloader
from tests.support.timing import BROWSER_S

pytestmark = pytest.mark.browser
WAIT_S = BROWSER_S


def test_ambiguous_dates_then_the_page_choice(dash_duo: Any, tmp_path: Path) -> None:
    ambiguous = tmp_path / "sentiment_ddmmyyyy.csv"
    ambiguous.write_text(_sentiment(AMBIGUOUS, "%d/%m/%Y"))
    prices = tmp_path / "prices.csv"
    prices.write_text(_prices())
    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/data")
    dash_duo.wait_for_element("#data-date-order", timeout=WAIT_S)

    upload(dash_duo, "data-upload-prices", prices)
    upload(dash_duo, "data-upload-sentiment", ambiguous)
    dash_duo.wait_for_contains_text("#data-validation", "cannot be used", timeout=WAIT_S)
    assert "dayfirst" in dash_duo.find_element("#data-validation").text  # the engine's sentence
    dash_duo.wait_for_contains_text("#data-date-hint", "Dates in the files", timeout=WAIT_S)

    click(dash_duo, "#data-date-order input[value='dayfirst']")
    dash_duo.wait_for_contains_text("#data-validation", "is valid", timeout=WAIT_S)
    assert "Dates read day first" in dash_duo.find_element("#data-validation").text
    assert dash_duo.find_element("#data-use-upload").get_attribute("disabled") is None


def test_undecidable_decimal_mark_then_the_page_choice(dash_duo: Any, tmp_path: Path) -> None:
    sentiment = tmp_path / "s_de.csv"
    sentiment.write_text(_sentiment_de())
    prices = tmp_path / "prices.csv"
    prices.write_text(_prices())
    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/data")
    dash_duo.wait_for_element("#data-decimal", timeout=WAIT_S)

    upload(dash_duo, "data-upload-prices", prices)
    upload(dash_duo, "data-upload-sentiment", sentiment)
    dash_duo.wait_for_contains_text("#data-validation", "cannot be used", timeout=WAIT_S)
    assert "either mark as the decimal one" in dash_duo.find_element("#data-validation").text
    dash_duo.wait_for_contains_text("#data-decimal-hint", "Numbers in the files", timeout=WAIT_S)

    click(dash_duo, "#data-decimal input[value=',']")
    dash_duo.wait_for_contains_text("#data-validation", "is valid", timeout=WAIT_S)
    assert "decimal comma" in dash_duo.find_element("#data-validation").text
    assert dash_duo.find_element("#data-use-upload").get_attribute("disabled") is None


def test_sentiment_alone_downloads_prices_with_progress(
    dash_duo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The job runs in a process forked from this one: it sees the injected downloader.
    fake = FakeDownloader(failed=["BBB"])
    monkeypatch.setattr(
        engine,
        "YahooProvider",
        functools.partial(engine.YahooProvider, downloader=fake, sleep=lambda _: None),
    )
    sentiment = tmp_path / "sentiment.csv"
    sentiment.write_text(_sentiment(JAN_FEB, "%Y-%m-%d", symbols=("AAA", "BBB", "CCC")))
    app = create_app(
        {
            "CACHE_DIR": str(tmp_path / "cache"),
            "YAHOO_CACHE_DIR": str(tmp_path / "yahoo"),
            "ENGINE_EXECUTOR": "serial",
        }
    )
    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/data")
    dash_duo.wait_for_element("#data-date-order", timeout=WAIT_S)

    upload(dash_duo, "data-upload-sentiment", sentiment)
    dash_duo.wait_for_contains_text("#data-validation", "downloading prices from Yahoo", timeout=WAIT_S)
    dash_duo.wait_for_contains_text("#data-validation", "left out: BBB", timeout=WAIT_S)
    text = dash_duo.find_element("#data-validation").text
    assert "Prices from Yahoo Finance" in text and "left out: BBB" in text
    # The progress bar reached the end (it is hidden again once the job is done).
    label = dash_duo.driver.execute_script(
        "return document.querySelector('#data-progress .progress-bar, #data-progress').textContent"
    )
    assert label.strip() == view.progress_value(4, 4)[1]
    assert dash_duo.find_element("#data-use-upload").get_attribute("disabled") is None
