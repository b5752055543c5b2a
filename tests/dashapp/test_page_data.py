"""Data page callbacks called directly: upload validation, choosing the source, the active source."""

from __future__ import annotations

import base64
import contextvars
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

from dashapp import create_app

GOOD_SENTIMENT = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
    + "".join(
        f"2022-{month:02d}-{day:02d},{symbol},{30 + day},{20 + day + i},{40 + 3 * day + i},{1000 + day},0.5\n"
        for month in range(1, 7)
        for day in (3, 10, 17, 24)
        for i, symbol in enumerate(("AAA", "BBB", "CCC", "DDD"))
    )
)


def _prices_csv(last_day: str = "2022-12-30") -> str:
    import numpy as np
    import pandas as pd

    days = pd.bdate_range("2021-01-04", last_day)
    rng = np.random.default_rng(3)
    closes = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, (len(days), 5)), axis=0))
    frame = pd.DataFrame(closes, index=days, columns=["AAA", "BBB", "CCC", "DDD", "QQQ"])
    frame.index.name = "date"
    return frame.to_csv(date_format="%Y-%m-%d")


def data_uri(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


@pytest.fixture
def app(tmp_path: Path) -> Any:
    return create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})


@pytest.fixture
def page(app: Any) -> Iterator[Any]:
    from dashapp.pages import data  # the module Dash executed for this app

    with app.server.test_request_context("/"):
        yield data


def triggered(prop_id: str, fn: Any, *args: Any) -> Any:
    """Call a callback as Dash would after ``prop_id`` changed (for ``ctx.triggered_id``)."""

    def run() -> Any:
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": prop_id, "value": 1}]))
        return fn(*args)

    return contextvars.copy_context().run(run)


@pytest.mark.parametrize(
    ("contents", "fragment"),
    [
        (data_uri("this is not,a sentiment file\n1,2\n"), "column"),
        (data_uri(""), "empty"),
        ("data:text/csv;base64,@@@not-base64@@@", "arrived damaged"),
        (
            data_uri(
                "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
                "not-a-date,=CMD(),x,y,z,w,v\n"
            ),
            "",
        ),
    ],
    ids=["wrong-columns", "empty", "not-base64", "no-usable-rows"],
)
def test_malformed_upload_shows_a_message_and_no_candidate(page: Any, contents: str, fragment: str) -> None:
    candidate, body, disabled, name, _ = page.validate_upload(contents, None, "bad.csv", None)
    text = str(body)
    assert candidate is None and disabled is True
    assert "cannot be used" in text or "could not" in text
    assert fragment.lower() in text.lower()
    assert "Traceback" not in text
    assert name == "Received: bad.csv"


def test_good_upload_becomes_a_candidate_with_a_report(page: Any) -> None:
    candidate, body, disabled, _, prices_name = page.validate_upload(
        data_uri(GOOD_SENTIMENT), data_uri(_prices_csv()), "my sentiment.csv", "closes.csv"
    )
    assert disabled is False
    assert candidate["kind"] == "upload" and candidate["name"] == "my sentiment.csv"
    assert len(candidate["id"]) == 32
    text = str(body)
    assert "96 sentiment rows kept, 4 symbols" in text  # 6 months x 4 weeks x 4 symbols (not QQQ)
    assert "AAA, BBB, CCC, DDD" in text
    assert prices_name == "Received: closes.csv"


def test_app_keeps_working_after_a_malformed_upload(app: Any, page: Any) -> None:
    page.validate_upload(data_uri("garbage"), None, "bad.csv", None)
    candidate, *_ = page.validate_upload(data_uri(GOOD_SENTIMENT), data_uri(_prices_csv()), "s.csv", "p.csv")
    assert candidate is not None
    assert app.server.test_client().get("/health").status_code == 200


def test_prices_alone_ask_for_the_sentiment_file(page: Any) -> None:
    candidate, body, disabled, *_ = page.validate_upload(None, data_uri(_prices_csv()), None, "p.csv")
    assert candidate is None and disabled is True
    assert "upload the sentiment CSV" in str(body)


def test_use_upload_sets_the_session_source(page: Any) -> None:
    candidate, *_ = page.validate_upload(data_uri(GOOD_SENTIMENT), data_uri(_prices_csv()), "s.csv", "p.csv")
    source, message = triggered("data-use-upload.n_clicks", page.choose_source, 1, None, candidate)
    assert source == candidate
    assert "s.csv" in str(message)


def test_use_default_resets_the_session_source(page: Any) -> None:
    source, _ = triggered("data-use-default.n_clicks", page.choose_source, None, 1, {"kind": "upload"})
    assert source == {"kind": "default"}


@pytest.mark.parametrize("prop", ["data-use-upload.n_clicks", "data-use-default.n_clicks"])
def test_page_insertion_without_clicks_changes_nothing(page: Any, prop: str) -> None:
    from dash import no_update

    assert triggered(prop, page.choose_source, None, None, {"kind": "upload"}) == (no_update, no_update)


@pytest.mark.parametrize(
    "candidate", [None, {"kind": "upload", "id": "../../etc/passwd"}, {"kind": "default"}]
)
def test_use_upload_without_a_valid_candidate_is_refused(page: Any, candidate: Any) -> None:
    from dash import no_update

    source, message = triggered("data-use-upload.n_clicks", page.choose_source, 1, None, candidate)
    assert source is no_update
    assert "alert" in str(message).lower()


def test_active_source_of_a_new_session_is_the_synthetic_demo(page: Any) -> None:
    text = str(page.show_active(None))
    assert "SYNTHETIC" in text and "Demo data" in text


def test_active_source_after_an_upload_is_not_synthetic(page: Any) -> None:
    candidate, *_ = page.validate_upload(data_uri(GOOD_SENTIMENT), data_uri(_prices_csv()), "s.csv", "p.csv")
    text = str(page.show_active(candidate))
    assert "SYNTHETIC" not in text and "s.csv" in text and "UPLOADED" in text


def test_active_source_that_expired_shows_an_error(page: Any) -> None:
    text = str(page.show_active({"kind": "upload", "id": "0" * 32, "name": "gone.csv"}))
    assert "no longer on the server" in text


def _with_gaps() -> tuple[str, str]:
    """Sentiment of 6 symbols (EEE, FFF without prices; one bad row), prices of 4 + QQQ
    from 2021-01-04 on (wider than the sentiment's 2022-01-03 .. 2022-06-24)."""
    sentiment = GOOD_SENTIMENT + "".join(
        f"2022-0{month}-10,{symbol},5,5,5,100,0.1\n" for month in (1, 2) for symbol in ("EEE", "FFF")
    )
    sentiment += "2022-03-10,AAA,-1,5,5,100,0.1\n"  # a negative count: dropped from the sentiment file
    return sentiment, _prices_csv()


def test_upload_report_counts_sentiment_symbols_and_dates_per_file(page: Any) -> None:
    sentiment, prices = _with_gaps()
    _, body, disabled, *_ = page.validate_upload(data_uri(sentiment), data_uri(prices), "s.csv", "p.csv")
    text = str(body)
    assert disabled is False
    assert "6 symbols" in text and "7 symbols" not in text  # QQQ is the benchmark, not a sentiment symbol
    assert "Sentiment dates" in text and "2022-01-03 to 2022-06-24" in text
    assert "Price dates" in text and "2021-01-04" in text
    # two of six symbols without prices: a yellow alert that says so, not a green "valid"
    assert "color='warning'" in text.replace('"', "'") and "is valid" not in text
    assert "2 of 6 symbols have no prices" in text and "EEE, FFF" in text


def test_dropped_rows_name_their_file(page: Any) -> None:
    from dashapp import services
    from dashapp.ui import components

    sentiment, prices = _with_gaps()
    candidate, *_ = page.validate_upload(data_uri(sentiment), data_uri(prices), "s.csv", "p.csv")
    report = services.source_info(candidate)["report"]
    sentiment_drops = [d for d in report["dropped"] if "row" in " ".join(d["examples"])]
    assert sentiment_drops and all(d["file"] == "s.csv" for d in sentiment_drops)
    assert "s.csv" in str(components.report_table(report).children[2])


@pytest.mark.parametrize("contents", ["hello", "date,symbol\n2022-01-03,AAA", "text/csv;base64,AAAA"])
def test_a_value_that_is_not_an_upload_is_not_called_empty(page: Any, contents: str) -> None:
    """A crafted request's contents without a data: URI was 'empty (0 bytes)'."""
    _, body, disabled, *_ = page.validate_upload(contents, None, "s.csv", None)
    text = str(body)
    assert disabled is True and "did not arrive as a file upload" in text and "0 bytes" not in text


def test_the_hint_beside_use_follows_the_button(page: Any) -> None:
    # After a valid upload the button was enabled while the line beside it still said
    # "Upload a sentiment CSV first; it is checked on the server."
    _, _, disabled, _, _ = page.validate_upload(
        data_uri(GOOD_SENTIMENT), data_uri(_prices_csv()), "my sentiment.csv", "closes.csv"
    )
    assert disabled is False and page.use_hint(disabled) == ""
    _, _, refused, _, _ = page.validate_upload(data_uri(""), None, "empty.csv", None)
    assert refused is True
    assert page.use_hint(refused) == "Enabled once an uploaded sentiment CSV passes the server's checks."
    assert page.use_hint(None) == page.use_hint(True)


def test_price_quality_warnings_reach_the_data_page(page: Any) -> None:
    """An upload whose AAA closes halve on 2022-03-01 (not adjusted for a 2-for-1 split):
    the report on the Data page says so in the engine's sentence, among its warnings."""
    import io

    import pandas as pd

    prices = pd.read_csv(io.StringIO(_prices_csv()), index_col="date")
    # From 2022-03-01 on, AAA's closes are half what they were: that day's close is half the previous one.
    prices.loc["2022-03-01":, "AAA"] *= (
        0.5 * prices.loc["2022-02-28", "AAA"] / prices.loc["2022-03-01", "AAA"]
    )
    _, body, disabled, *_ = page.validate_upload(
        data_uri(GOOD_SENTIMENT), data_uri(prices.to_csv()), "s.csv", "p.csv"
    )
    assert disabled is False
    assert (
        "prices: AAA moved -50.0% on 2022-03-01, the size of a 2-for-1 split: if these closes are not "
        "adjusted for splits, every return across that day is wrong; use adjusted closes (Adj Close)"
    ) in str(body)


def test_upload_summary_agrees_in_number() -> None:
    """Breaker pass 15: "1 symbols", "1 of 2 symbols have no prices"."""
    from dashapp.ui.components import upload_summary

    one = str(upload_summary("s.csv + p.csv", 59, {"sentiment_symbols": ["AAA"]}).children)
    assert "is valid: 59 sentiment rows kept, 1 symbol." in one
    gap = str(
        upload_summary(
            "s.csv + p.csv", 1, {"sentiment_symbols": ["AAA", "BRK.B"], "failed_tickers": ["BRK.B"]}
        ).children
    )
    assert "1 sentiment row kept, 2 symbols. 1 of 2 symbols has no prices and cannot be held: BRK.B." in gap
    two = str(
        upload_summary(
            "x", 9, {"sentiment_symbols": ["AAA", "BBB", "CCC"], "failed_tickers": ["BBB", "CCC"]}
        ).children
    )
    assert "9 sentiment rows kept, 3 symbols. 2 of 3 symbols have no prices" in two
