"""URL query string <-> page state: round trip and tolerance of bad links."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from dashapp.ui import url_state


def test_round_trip_of_full_params() -> None:
    params = engine.StrategyParams(
        top_n=8,
        start=dt.date(2022, 1, 3),
        end=dt.date(2022, 12, 30),
        weighting="hrp",
        cost_bps=12.5,
        risk_free=0.02,
        benchmark="SPY",
    )
    query = url_state.params_to_query(params.to_dict())
    assert "start=2022-01-03" in query and "top_n=8" in query
    assert engine.StrategyParams.from_mapping(url_state.query_to_params("?" + query)) == params


@settings(max_examples=40, deadline=None)
@given(
    top_n=st.integers(1, 500),
    lag=st.integers(0, 60),
    cost=st.floats(0, 1000, allow_nan=False),
    weighting=st.sampled_from(engine.WEIGHTINGS),
)
def test_round_trip_property(top_n: int, lag: int, cost: float, weighting: str) -> None:
    params = engine.StrategyParams(top_n=top_n, lag_days=lag, cost_bps=cost, weighting=weighting)
    query = url_state.params_to_query(params.to_dict())
    assert engine.StrategyParams.from_mapping(url_state.query_to_params(query)) == params


def test_empty_values_and_lists() -> None:
    assert (
        url_state.params_to_query({"a": None, "b": "", "c": [], "grid_top_n": [3, 5]}) == "grid_top_n=3%2C5"
    )
    assert url_state.params_to_query({"x": 20.0, "y": 0.5}) == "x=20&y=0.5"


@pytest.mark.parametrize(
    ("query", "kept", "message"),
    [
        ("top_n=abc&lag_days=2", {"lag_days": 2}, "top_n"),
        ("?wat=1&top_n=3", {"top_n": 3}, "unknown setting 'wat'"),
        ("start=2023-01-01&end=2022-01-01", {}, "start and end"),
        ("benchmark=%3Dcmd()", {}, "benchmark"),
        ("weighting=best", {}, "weighting"),
    ],
)
def test_bad_values_are_dropped_with_a_message(query: str, kept: dict, message: str) -> None:
    params, messages = url_state.read_query(query)
    assert params == kept
    assert any(message in m for m in messages)


def test_never_raises_on_garbage() -> None:
    for query in (None, "", "?", "&&==", "%zz", "top_n", {"top_n": ["1", "2"]}, {"start": None}):
        params, messages = url_state.read_query(query)
        assert isinstance(params, dict) and isinstance(messages, list)


def test_page_keys_are_not_reported_and_grid_is_read() -> None:
    params, messages = url_state.read_query("symbols=AAA%2CBBB&grid_top_n=3%2C5&metric=sharpe&top_n=4")
    assert params == {"top_n": 4} and messages == []
    assert url_state.grid_from_query("grid_top_n=3%2C5&grid_lag_days=", ["top_n", "lag_days"]) == {
        "top_n": "3,5"
    }


def test_with_search() -> None:
    assert url_state.with_search("/", {}) == "/"
    assert url_state.with_search("/", {"top_n": 3}) == "/?top_n=3"


def test_keep_invalid_hands_back_the_text_of_typed_fields() -> None:
    """A failed run's link holds invalid values (``entered_query``); the page shows them as
    entered (flagged by the form) instead of dropping them, and says nothing "ignored"."""
    params, messages = url_state.read_query(
        "top_n=0&lag_days=2&weighting=best&start=2023-05-01&end=2023-01-01",
        keep_invalid={"top_n", "lag_days", "start", "end"},
    )
    assert params == {"top_n": "0", "lag_days": 2, "start": "2023-05-01", "end": "2023-01-01"}
    assert messages == ["Ignored weighting from the link: " + messages[0].split(": ", 1)[1]]
    assert url_state.read_query("top_n=" + "9" * 500, keep_invalid={"top_n"})[0]["top_n"] == "9" * 100


def test_entered_query_keeps_invalid_values_and_drops_non_values() -> None:
    assert (
        url_state.entered_query({"top_n": "0", "benchmark": "ZZZZ", "start": ""}) == "?top_n=0&benchmark=ZZZZ"
    )
    assert url_state.entered_query({"grid_top_n": "3, zz", "grid_weighting": ["equal", {"x": 1}]}) == (
        "?grid_top_n=3%2C+zz&grid_weighting=equal"
    )
    assert url_state.entered_query({"a": {"b": 1}, "c": True, "d": None}) == "?"


def test_read_grid_query_names_the_grid_keys_it_ignores() -> None:
    """Found by breaker pass 11 (F4): ``grid_bogus=1,2`` was dropped without a note."""

    def check(name: str) -> None:
        if name not in ("top_n", "weighting"):
            raise engine.ParameterError(f"{name!r} cannot be swept")

    texts, messages = url_state.read_grid_query(
        "grid_top_n=3%2C5&grid_weighting=best%2Cequal&grid_bogus=1%2C2&grid_lag_days=&top_n=4", check
    )
    # Values are handed back as entered (the form flags an invalid one), never filtered here.
    assert texts == {"top_n": "3,5", "weighting": "best,equal"}
    assert messages == ["Ignored grid_bogus from the link: 'bogus' cannot be swept"]
