"""The wordings of breaker pass 11, F8 (engine and CLI): each refusal says what is wrong
with what was typed, in one sentence.

- 2022-02-30 is in YYYY-MM-DD form: it is "not a calendar date" (before: "must be a date
  in YYYY-MM-DD form"), from the form, a link and the CLI alike (``parse_date``);
- a refused benchmark is echoed as typed ('../../etc/passwd'), not upper-cased;
- the CLI's file check names 'http://...' as typed (a Path wrote 'http:/...') and never
  fetches it;
- walk-forward folds are "folds" in every message (the page's label), not "n_folds";
- an HTML page read as a CSV "is an HTML web page, not a CSV file" (before: "has a header
  but no data rows")."""

from __future__ import annotations

import socket
from typing import Any

import pytest

import engine
from engine.data.tables import read_csv_bytes
from tests.engine.cli._cli import run_cli


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2022-02-30", "February 2022 has 28 days"),
        ("2024-02-30", "February 2024 has 29 days"),
        ("2022-04-31", "April 2022 has 30 days"),
        ("2022-13-01", "a year has 12 months, not 13"),
        ("2022-01-00", "days of a month count from 1"),
    ],
)
def test_an_impossible_day_is_not_a_calendar_date(value: str, why: str) -> None:
    with pytest.raises(engine.ParameterError) as info:
        engine.StrategyParams.from_mapping({"start": value})
    assert str(info.value) == f"start '{value}' is not a calendar date: {why}"


def test_text_not_in_the_form_still_names_the_form() -> None:
    with pytest.raises(engine.ParameterError, match=r"^end must be a date in YYYY-MM-DD form, got 'soon'$"):
        engine.StrategyParams.from_mapping({"end": "soon"})


@pytest.mark.parametrize("command", [["backtest"], ["stocks", "--symbols", "JONX"]])
def test_the_cli_says_it_of_its_flags_too(command: list[str]) -> None:
    code, _, err = run_cli([*command, "--start", "2022-02-30"])
    assert code == 2
    assert "'2022-02-30' is not a calendar date: February 2022 has 28 days" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("typed", ["../../etc/passwd", '=HYPERLINK("x")'])
def test_a_refused_benchmark_is_echoed_as_typed(typed: str) -> None:
    for build in (
        lambda: engine.StrategyParams.from_mapping({"benchmark": typed}),
        lambda: engine.StrategyParams(benchmark=typed),
    ):
        with pytest.raises(engine.ParameterError) as info:
            build()
        assert str(info.value) == f"benchmark must be a ticker symbol such as QQQ, got {typed!r}"
    assert engine.StrategyParams.from_mapping({"benchmark": " qqq "}).benchmark == "QQQ"  # still normalised


@pytest.mark.parametrize("flag", ["--sentiment", "--prices"])
def test_a_url_is_named_as_typed_and_never_fetched(
    flag: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the CLI opened a connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    url = "http://example.com/p.csv"
    local = tmp_path / "s.csv"
    local.write_text("date,symbol\n")
    files = {"--sentiment": str(local), "--prices": str(local), flag: url}
    code, _, err = run_cli(["backtest", "--sentiment", files["--sentiment"], "--prices", files["--prices"]])
    assert code == 2
    assert (
        err.strip()
        == f"error: {flag}: {url} is a URL, not a file; the CLI reads local files only, so download it first"
    )


def test_a_missing_file_is_named_as_typed(tmp_path: Any) -> None:
    code, _, err = run_cli(["backtest", "--sentiment", str(tmp_path / "nope.csv"), "--prices", "x.csv"])
    assert code == 2 and err.strip() == f"error: --sentiment: no such file: {tmp_path / 'nope.csv'}"


@pytest.mark.parametrize(("given", "shown"), [({"n_folds": 0}, "0"), ({"in_sample_days": 1}, "1")])
def test_walk_forward_settings_use_the_pages_labels(given: dict[str, int], shown: str) -> None:
    label = engine.WALK_FORWARD_LABELS[next(iter(given))]
    with pytest.raises(engine.ParameterError) as info:
        engine.WalkForwardSettings(**given)  # type: ignore[arg-type]
    assert str(info.value).startswith(f"{label} must be a whole number")
    assert "_" not in str(info.value).split(" must ")[0]
    assert engine.WALK_FORWARD_LABELS["n_folds"] == "folds"


@pytest.mark.parametrize(
    "page",
    [
        b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>a,b</body></html>\n",
        b"\xef\xbb\xbf\n<!-- saved --><HTML>\n<table><tr><td>date</td></tr></table></HTML>",
        b"<table>\n<tr><td>date</td><td>AAA</td></tr>\n</table>\n",
    ],
)
def test_an_html_page_is_not_a_csv_file(page: bytes) -> None:
    with pytest.raises(engine.DataValidationError) as info:
        read_csv_bytes(page, "x.html")
    assert str(info.value) == "x.html is an HTML web page, not a CSV file; save the data as CSV UTF-8"


def test_a_csv_whose_cells_hold_markup_is_still_a_csv() -> None:
    frame = read_csv_bytes(b"date,note\n2022-01-03,<b>x</b>\n", "x.csv")
    assert frame.shape == (1, 2)
