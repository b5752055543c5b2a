"""Stocks page callbacks called directly, with a fake services layer."""

from __future__ import annotations

import json

import plotly
import pytest
from dash import no_update

import engine


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    """Pages register themselves with ``dash.register_page``, which needs an app first."""
    from dashapp import create_app

    create_app({"CACHE_DIR": str(tmp_path_factory.mktemp("cache"))})
    from dashapp.pages import stocks

    return stocks


ANALYSIS = {
    "metrics": {
        "symbol": ["AAA", "BBB"],
        "total_return": [0.1234, -0.05],
        "annual_volatility": [0.2, 0.3],
        "sharpe": [1.5, -0.25],
        "max_drawdown": [-0.1, -0.4],
    },
    "correlation": {"index": ["AAA", "BBB"], "AAA": [1.0, 0.3], "BBB": [0.3, 1.0]},
    "prices": {"date": ["2022-01-03T00:00:00", "2022-01-04T00:00:00"], "AAA": [1.0, 1.1], "BBB": [1.0, 0.95]},
    "returns": {"date": ["2022-01-04T00:00:00"], "AAA": [0.1], "BBB": [-0.05]},
}


class FakeServices:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def resolve_source(self, store):
        return {"kind": "default"}

    def source_info(self, source):
        return {
            "label": "Demo data (SYNTHETIC, seed 7)",
            "synthetic": True,
            "fingerprint": "06c7c6faf74e8386",
            "report": {"symbols": ["CCC", "AAA", "BBB"]},
        }

    def stocks(self, source, symbols, start, end):
        self.calls.append((symbols, start, end))
        if not symbols:
            raise engine.ParameterError("choose at least one symbol")
        if "NOPE" in symbols:
            raise engine.DataValidationError("no prices for NOPE in the price data")
        if "BOOM" in symbols:
            raise RuntimeError("internal detail")
        return ANALYSIS


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, page) -> FakeServices:
    services = FakeServices()
    monkeypatch.setattr(page, "services", services)
    return services


def _text(component) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


def test_layout_from_query(page) -> None:
    tree = _text(page.layout(symbols="AAA,bbb,=cmd()", start="2022-02-01", end="garbage"))
    assert '"value": ["AAA", "BBB"]' in tree
    assert '"value": "2022-02-01"' in tree and '"value": "garbage"' not in tree
    assert '"id": "stocks-autorun", "data": true' in tree
    assert '"id": "stocks-autorun", "data": false' in _text(page.layout())


def test_a_link_says_what_it_ignored(page) -> None:
    # A malformed symbol or date in a link was dropped silently (the autorun then analysed
    # all dates); the Backtest, Sweep and Signal pages list what they ignored.
    tree = _text(page.layout(symbols="AAA,=cmd()", end="garbage"))
    assert "Some settings in the link were ignored" in tree
    assert "Ignored symbols from the link that are not tickers: '=CMD()'" in tree
    assert "Ignored end from the link: end must be a date in YYYY-MM-DD form, got 'garbage'" in tree
    assert "ignored" not in _text(page.layout(symbols="AAA,bbb", start="2022-02-01"))


def test_symbol_choices_come_from_the_active_data(page, fake: FakeServices) -> None:
    options, value = page.load_symbols(None, None)
    assert [o["value"] for o in options] == ["AAA", "BBB", "CCC"] and value == ["AAA", "BBB", "CCC"]
    assert page.load_symbols(None, ["BBB"])[1] == ["BBB"]


def test_failed_tickers_are_not_offered(page, fake: FakeServices, monkeypatch: pytest.MonkeyPatch) -> None:
    """share-class-dot-dash: BRK.B in the sentiment, BRK-B in the prices. BRK.B has no price, and
    the page preselected it, so its first run failed ("no prices for BRK.B in the price data")."""
    report = {"symbols": ["AAA", "BRK.B", "QQQ"], "failed_tickers": ["BRK.B"]}
    monkeypatch.setattr(fake, "source_info", lambda source: {"label": "files", "report": report})
    options, value = page.load_symbols(None, None)
    assert [o["value"] for o in options] == ["AAA", "QQQ"] and value == ["AAA", "QQQ"]
    # a symbol the user chose (a link) stays, so the run says plainly why it has no prices
    assert "BRK.B" in [o["value"] for o in page.load_symbols(None, ["BRK.B"])[0]]


def test_validation(page) -> None:
    assert page.validate_form(["AAA"], "2022-01-01", "2023-01-01") == {
        "start_invalid": False,
        "end_invalid": False,
        "start_feedback": "",
        "end_feedback": "",
        "run_disabled": False,
        "status": "",
    }
    out = page.validate_form(["AAA"], "2023-01-01", "2022-01-01")
    assert out["end_invalid"] and not out["start_invalid"] and "before" in out["end_feedback"]
    assert out["run_disabled"]
    out = page.validate_form([], None, None)
    assert (out["run_disabled"], out["status"]) == (True, "Choose at least one symbol.")


def test_run_shows_table_and_charts_and_writes_url(page, fake: FakeServices) -> None:
    out = page.run_stocks(1, False, ["AAA", "BBB"], "2022-01-03", "", None)
    children, state, search, disabled = (
        out["results"],
        out["run_state"],
        out["search"],
        out["download_disabled"],
    )
    assert fake.calls == [(["AAA", "BBB"], "2022-01-03", None)]
    tree = _text(children)
    assert "12.34%" in tree and "-0.25" in tree and "-40.00%" in tree
    for graph in ("prices", "returns", "correlation"):
        assert f'"id": "stocks-graph-{graph}"' in tree
    assert search == "?symbols=AAA%2CBBB&start=2022-01-03" and disabled is False
    assert state["symbols"] == ["AAA", "BBB"]


@pytest.mark.parametrize(
    ("symbols", "message"),
    [
        ([], "choose at least one symbol"),
        (["NOPE"], "no prices for NOPE"),
        (["BOOM"], "failed unexpectedly"),
    ],
)
def test_bad_input_gives_in_page_message(page, fake, symbols, message) -> None:
    out = page.run_stocks(1, False, symbols, None, None, None)
    children, state, search, disabled = (
        out["results"],
        out["run_state"],
        out["search"],
        out["download_disabled"],
    )
    assert message in _text(children) and "internal detail" not in _text(children)
    # The URL holds what was asked (it was left unchanged: empty, or the last good run's).
    assert state is None and disabled is True
    assert search == ("?symbols=" + "%2C".join(symbols) if symbols else "?")


def test_a_failed_analysis_keeps_its_link_and_a_reload_repeats_it(page, fake) -> None:
    """Found by a tester: after 'no prices for NOPE' the URL still held the previous
    symbols (or none), so a reload analysed something else. Now it holds the choice as
    entered; the page from it has the same choice, runs it and shows the same sentence."""
    out = page.run_stocks(1, False, ["AAA", "NOPE"], "2022-01-03", None, None)
    assert "no prices for NOPE" in _text(out["results"])
    assert out["search"] == "?symbols=AAA%2CNOPE&start=2022-01-03"
    from urllib.parse import parse_qsl

    tree = _text(page.layout(**dict(parse_qsl(out["search"].lstrip("?")))))
    assert '"value": ["AAA", "NOPE"]' in tree and '"value": "2022-01-03"' in tree
    assert '"id": "stocks-autorun", "data": true' in tree
    again = page.run_stocks(None, True, ["AAA", "NOPE"], "2022-01-03", None, None)
    assert "no prices for NOPE" in _text(again["results"]) and again["search"] == out["search"]


def test_no_run_without_click_or_autorun(page, fake: FakeServices) -> None:
    assert page.run_stocks(None, False, ["AAA"], None, None, None) is no_update


def test_metrics_csv(page, fake: FakeServices) -> None:
    data = page.download_metrics(
        1, {"source": {"kind": "default"}, "symbols": ["AAA", "BBB"], "start": None, "end": None}
    )
    lines = data["content"].splitlines()
    assert '# params: {"end": null, "risk_free": 0.0, "start": null, "symbols": ["AAA", "BBB"]}' in lines
    assert "# data_source: Demo data (SYNTHETIC, seed 7)" in lines
    assert "symbol,total_return,annual_volatility,sharpe,max_drawdown" in lines
    assert "AAA,0.1234,0.2,1.5,-0.1" in lines


def test_metrics_csv_header_names_the_data_like_every_other_export(page, fake: FakeServices) -> None:
    """README: every CSV export starts with the run's parameters and data fingerprint; the
    Stocks page's had the label only (no synthetic flag, no fingerprint, no version, no link)."""
    state = {"source": {"kind": "default"}, "symbols": ["AAA", "BBB"], "start": "2022-01-03", "end": None}
    lines = page.download_metrics(1, state)["content"].splitlines()
    assert "# synthetic: true" in lines
    assert "# fingerprint: 06c7c6faf74e8386" in lines
    assert f"# engine_version: {engine.__version__}" in lines
    assert "# link: /stocks?symbols=AAA%2CBBB&start=2022-01-03" in lines


def test_the_analysis_warnings_are_shown(page) -> None:
    """A window shorter than a year: the engine's warning that volatility and Sharpe are
    annualised extrapolations is shown above the table (the CLI printed 9-day Sharpe ratios
    with no word; breaker pass 2, G5)."""
    analysis = {**ANALYSIS, "warnings": ["The chosen window covers 9 trading days, less than a year"]}
    assert "The chosen window covers 9 trading days" in _text(page.results_section(analysis))
    assert "Warnings" not in _text(page.results_section(ANALYSIS))


def test_the_datas_failed_tickers_and_dropped_rows_are_in_the_results(
    page, fake: FakeServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    """breaker pass 11, F3: the Backtest page listed an upload's failed tickers and dropped
    rows; the Stocks page (whose symbol list leaves the failed ones out) said nothing."""
    report = {
        "symbols": ["AAA", "BBB", "QQQ"],
        "failed_tickers": ["TAB"],
        "dropped": [{"reason": "symbol is not a ticker", "count": 1560, "unit": "rows"}],
    }
    monkeypatch.setattr(fake, "source_info", lambda source: {"label": "files", "report": report})
    out = page.run_stocks(1, False, ["AAA", "BBB"], None, None, None)
    warnings = next(c for c in out["results"] if getattr(c, "id", None) == "stocks-warnings")
    text = _text(warnings)
    assert "No prices could be had for 1 ticker(s), which cannot be analysed: TAB." in text
    assert "Dropped 1,560 rows of the input: symbol is not a ticker." in text
    assert "12.34%" in _text(out["results"])  # the analysis itself is shown as before


def test_a_report_that_cannot_be_had_leaves_the_results(page, fake, monkeypatch) -> None:
    def broken(source):
        raise RuntimeError("cache down")

    monkeypatch.setattr(fake, "source_info", broken)
    out = page.run_stocks(1, False, ["AAA", "BBB"], None, None, None)
    assert out["download_disabled"] is False and "12.34%" in _text(out["results"])
