"""Backtest page callbacks called directly, with a fake services layer (no server, no engine run)."""

from __future__ import annotations

import json
import urllib.parse

import plotly
import pytest
from dash import no_update

import engine
from dashapp.ui import forms, url_state
from tests.support.layouts import input_values


def _plain_result(params: dict) -> dict:
    dates = ["2022-01-03", "2022-01-04", "2022-01-05", "2022-02-01"]
    metrics = {name: 0.1 for name in engine.METRIC_NAMES}
    return {
        "returns": {
            "date": dates,
            "portfolio": [0.01, -0.02, 0.03, 0.0],
            "benchmark": [0.0, 0.01, 0.0, 0.01],
            "universe": [0.005, 0.0, 0.01, 0.0],
        },
        "holdings": {
            "period_start": ["2022-01-03"],
            "period_end": ["2022-01-31"],
            "symbol": ["AAA"],
            "weight": [1.0],
            "signal": [0.5],
            "rank": [1],
            "likes": [40.0],
            "comments": [20.0],
        },
        "periods": {
            "period_start": ["2022-01-03"],
            "period_end": ["2022-01-31"],
            "formation_end": ["2021-12-31"],
            "entry_date": ["2021-12-31"],
            "n_eligible": [3],
            "n_selected": [1],
            "turnover": [1.0],
            "cost": [0.0],
        },
        "metrics": {**metrics, "sharpe": 1.2345},
        "benchmark_metrics": {**metrics, "sharpe": 0.5},
        "universe_metrics": metrics,
        "drawdown": {"peak": "2022-01-03", "trough": "2022-01-04", "recovery": None},
        "warnings": ["ZZZ was delisted on 2022-01-20; its weight was held in cash"],
        "manifest": {
            "params": params,
            "data_source": "Demo data (SYNTHETIC, seed 7)",
            "synthetic": True,
            "fingerprint": "abc123",
            "version": "0.1.0",
        },
    }


class FakeServices:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.fail_with: Exception | None = None

    def resolve_source(self, store):
        if store == "broken":
            raise engine.DataValidationError("the session's data source is malformed")
        return {"kind": "default"} if not store else dict(store)

    def backtest(self, source, params):
        self.calls.append(("backtest", source, params))
        if self.fail_with is not None:
            raise self.fail_with
        return _plain_result(engine.StrategyParams.from_mapping(params).to_dict())

    def backtest_view(self, source, params, render, *, version):
        """Like services.backtest_view without the cache: the page's render of the result."""
        return render(self.backtest(source, params), source)

    def source_info(self, source):
        return {
            "report": {
                "failed_tickers": ["BAD1"],
                "dropped": [{"reason": "twitterLikes is negative", "count": 3}],
            }
        }

    def robustness(self, source, params):
        return {
            "sharpe_ci": {"estimate": 1.2, "low": 0.4, "high": 2.0, "level": 0.95},
            "excess_return_ci": {"estimate": 0.05, "low": -0.01, "high": 0.1, "level": 0.95},
            "probabilistic_sharpe": 0.97,
            "n_boot": 1000,
            "block_length": 10.0,
            "seed": 0,
            "executor": "serial",
            "notes": ["only 60 trading days"],
            "random_portfolios": {
                "percentile": 90.0,
                "p_value": 0.1,
                "n": 3,
                "sharpes": [0.1, 0.5, 1.5],
                "strategy_sharpe": 1.2,
            },
        }


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    """Pages register themselves with ``dash.register_page``, which needs an app first."""
    from dashapp import create_app

    create_app({"CACHE_DIR": str(tmp_path_factory.mktemp("cache"))})
    from dashapp.pages import backtest

    return backtest


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, page) -> FakeServices:
    services = FakeServices()
    monkeypatch.setattr(page, "services", services)
    return services


def _fields(**values) -> dict:
    return {name: values.get(name) for name in forms.FIELD_NAMES}


def _text(component) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


def test_layout_prefills_form_from_query_and_arms_autorun(page) -> None:
    tree = _text(page.layout(top_n="7", weighting="hrp", bogus="1"))
    assert '"id": "backtest-top_n"' in tree and '"value": 7' in tree
    assert '"value": "hrp"' in tree
    assert "unknown setting 'bogus'" in tree
    assert '"id": "backtest-autorun", "data": true' in tree
    assert '"id": "backtest-autorun", "data": false' in _text(page.layout())


def test_validate_form_flags_bad_fields_and_disables_run(page) -> None:
    out = page.validate_form(fields=_fields(top_n="0", benchmark="QQQ"))
    assert set(out["invalid"]) == set(forms.FIELD_NAMES) == set(out["feedback"])
    assert out["invalid"]["top_n"] is True and sum(out["invalid"].values()) == 1
    assert "top_n" in out["feedback"]["top_n"]
    assert out["run_disabled"] is True and "Fix 1 field" in out["status"]
    out = page.validate_form(fields=_fields(top_n="3"))
    assert (out["run_disabled"], out["status"]) == (False, "")


def test_run_without_click_or_autorun_does_nothing(page, fake: FakeServices) -> None:
    assert page.run_backtest(n_clicks=None, autorun=False, fields=_fields(), store=None) is no_update
    assert fake.calls == []


def test_run_renders_results_state_and_url(page, fake: FakeServices) -> None:
    out = page.run_backtest(n_clicks=1, autorun=False, fields=_fields(top_n="4"), store=None)
    assert fake.calls[0][2]["top_n"] == 4
    state, search = out["run_state"], out["search"]
    assert state == {"source": {"kind": "default"}, "params": engine.StrategyParams(top_n=4).to_dict()}
    assert search.startswith("?") and "top_n=4" in search
    assert out["downloads_disabled"] == {
        "returns": False,
        "holdings": False,
        "periods": False,
        "metrics": False,
    }
    assert out["robustness_disabled"] is False and out["robustness"] is None
    tree = _text(out["results"])
    for graph in ("cumulative", "drawdown", "monthly", "turnover", "rolling", "holdings"):
        assert f'"id": "backtest-graph-{graph}"' in tree
    assert "1.23" in tree and "0.50" in tree  # strategy and benchmark Sharpe on the cards
    assert "delisted" in tree and "BAD1" in tree and "twitterLikes is negative" in tree


def test_autorun_runs_on_page_load(page, fake: FakeServices) -> None:
    out = page.run_backtest(n_clicks=None, autorun=True, fields=_fields(top_n="2"), store=None)
    assert out["run_state"]["params"]["top_n"] == 2


@pytest.mark.parametrize(
    ("fields", "store", "error", "message"),
    [
        (_fields(top_n="x"), None, None, "top_n must be a whole number"),
        (_fields(), "broken", None, "malformed"),
        (_fields(), None, engine.DataUnavailableError("no prices for QQQ"), "no prices for QQQ"),
        (_fields(), None, RuntimeError("secret internals"), "failed unexpectedly"),
    ],
)
def test_bad_input_gives_in_page_message(page, fake, fields, store, error, message) -> None:
    fake.fail_with = error
    out = page.run_backtest(n_clicks=1, autorun=False, fields=fields, store=store)
    tree = _text(out["results"])
    assert message in tree and "Traceback" not in tree and "secret internals" not in tree
    assert out["run_state"] is None
    # the URL keeps what was entered (it was left as it was: the last good run's, or empty)
    assert out["search"] == "?" + url_state.params_to_query({k: v for k, v in fields.items() if v})
    assert all(out["downloads_disabled"].values()) and out["robustness_disabled"] is True


@pytest.mark.parametrize(
    ("entered", "error", "message"),
    [
        ({"top_n": "0", "lag_days": "2"}, None, "top_n must be a whole number"),
        ({"start": "2023-05-01", "end": "2023-01-01"}, None, "must be before end"),
        (
            {"benchmark": "ZZZZ", "top_n": "4"},
            engine.DataUnavailableError("benchmark ZZZZ has no prices"),
            "ZZZZ",
        ),
    ],
    ids=["invalid-field", "start-after-end", "run-fails"],
)
def test_a_failed_run_keeps_the_entered_values_in_the_url_and_a_reload_repeats_it(
    page, fake: FakeServices, entered: dict, error, message: str
) -> None:
    """The tester's fault: on a run that failed (invalid parameters, or the engine refused
    them) the URL was not updated, so it kept the defaults (or the last good run's values):
    a reload showed other inputs and no error, and the link no longer said what was asked.
    Now the URL holds the form's values as entered, and opening it shows the same inputs,
    runs them and shows the same error."""
    fake.fail_with = error
    defaults = {k: forms.display_value(k, v) for k, v in engine.StrategyParams().to_dict().items()}
    fields = {**defaults, **entered}
    out = page.run_backtest(n_clicks=1, autorun=False, fields=fields, store=None)
    assert message in _text(out["results"]) and out["run_state"] is None
    search = out["search"]
    assert search is not no_update
    for key, value in entered.items():
        assert f"{key}={value}" in search
    # Reload: the page from that URL shows the same inputs, armed to run ...
    query = dict(urllib.parse.parse_qsl(search.lstrip("?")))
    tree = page.layout(**query)
    shown = {
        ident.removeprefix("backtest-"): value
        for ident, value in input_values(tree).items()
        if ident.startswith("backtest-") and ident.removeprefix("backtest-") in forms.FIELD_NAMES
    }
    for key, value in entered.items():
        assert str(shown[key]) == value
    assert '"id": "backtest-autorun", "data": true' in _text(tree)
    assert "Ignored" not in _text(tree)  # not dropped: shown as entered, flagged by the form
    # ... and its run fails with the same sentence and keeps the same URL.
    again = page.run_backtest(n_clicks=None, autorun=True, fields=shown, store=None)
    assert message in _text(again["results"]) and again["search"] == search


def test_downloads_carry_manifest_and_values(page, fake: FakeServices) -> None:
    state = {"source": {"kind": "default"}, "params": engine.StrategyParams(top_n=3).to_dict()}
    metrics = page.download("metrics", state)
    assert metrics["filename"] == "backtest_metrics_abc123.csv"
    lines = metrics["content"].splitlines()
    assert "# fingerprint: abc123" in lines and any(
        line.startswith("# params: ") and '"top_n": 3' in line for line in lines
    )
    assert "sharpe,1.2345,0.5,0.1" in lines
    returns = page.download("returns", state)["content"]
    assert "date,portfolio,benchmark,universe" in returns and "2022-01-04,-0.02,0.01,0.0" in returns
    holdings = page.download("holdings", state)["content"]
    # The engine's formation_end and entry_date of the holding's period, as given.
    assert "period_start,period_end,formation_end,entry_date,symbol," in holdings
    assert "2022-01-03,2022-01-31,2021-12-31,2021-12-31,AAA,1.0,0.5,1,40.0,20.0" in holdings
    assert page.download("metrics", None) is None


def test_robustness_section(page, fake: FakeServices) -> None:
    state = {"source": {"kind": "default"}, "params": engine.StrategyParams().to_dict()}
    tree = _text(page.run_robustness(1, state))
    assert "1.20 [0.40, 2.00] (95% CI)" in tree
    assert "5.00% [-1.00%, 10.00%]" in tree
    assert '"id": "backtest-graph-robustness"' in tree
    assert "90.0 / 100" in tree and "0.970" in tree and "only 60 trading days" in tree
    # the tie rule behind a percentile of 50.0 when every draw equals the strategy
    assert "Sharpe percentile among random portfolios (a draw equal up to rounding counts half)" in tree
    assert "p-value ((1 + draws with a Sharpe at least as high, ties included) / (1 + draws))" in tree
    assert page.run_robustness(1, None) is no_update


def test_drawdown_text_of_a_run_without_a_return_day() -> None:
    """A run whose only entry is at its last close has no return: no drawdown to speak of
    (the page said "never fell below its starting value")."""
    from dashapp.views import backtest as view

    nothing = {"returns": {"date": [], "portfolio": []}, "drawdown": {"peak": None, "trough": None}}
    assert view.drawdown_text(nothing) == "No drawdown: the run has no return day yet (see the warnings)."
    flat = {"returns": {"date": ["2022-01-03"], "portfolio": [0.01]}, "drawdown": {"trough": None}}
    assert view.drawdown_text(flat) == "The strategy never fell below its starting value."


def test_failed_ticker_note_keeps_the_spelling_hint() -> None:
    """share-class-dot-dash: the Data page says "BRK.B (did you mean BRK-B?)"; the Backtest
    page's note said only "BRK.B". The note reads the report's ``spelling_hints``."""
    from dashapp.views import sources as view

    report = {
        "failed_tickers": ["BRK.B", "ZZZ"],
        "warnings": [
            "no usable prices for 2 symbol(s), which cannot be held: BRK.B (did you mean BRK-B?), ZZZ"
        ],
        "spelling_hints": [["BRK.B", "BRK-B"]],
    }
    assert view.source_notes(report) == [
        "No prices could be had for 2 ticker(s), which cannot be held: BRK.B (did you mean BRK-B?), ZZZ."
    ]


def test_run_summary_states_the_conventions() -> None:
    """The cards show a Sharpe ratio and a CAGR: the line above them says how they are made."""
    from dashapp.views import backtest as view

    result = _plain_result(engine.StrategyParams(risk_free=0.02).to_dict())
    text = view.run_summary_text(result)
    assert "simple daily returns, 252-day annualisation, risk-free 2.00% a year" in text
    assert "data: Demo data (SYNTHETIC, seed 7)" in text
    assert "no return day yet" in view.run_summary_text({**result, "returns": {"date": []}})


def test_dropped_notes_count_in_their_unit() -> None:
    """A wide price file's unused symbols are columns and a bad number is a cell: the
    note said "1 input row(s) were dropped" for both (the stored report lost the unit);
    a report stored before units were kept counts rows."""
    from dashapp.services.plain import report_to_plain
    from dashapp.views import sources as view

    report = engine.ValidationReport(
        dropped=(
            engine.DroppedRows(reason="symbol not needed", count=1, examples=("'ZZZ'",), unit="columns"),
            engine.DroppedRows(reason="not a number", count=3, unit="cells"),
            engine.DroppedRows(reason="date is not a valid date", count=1),
        )
    )
    assert view.source_notes(report_to_plain(report)) == [
        "Dropped 1 column of the input: symbol not needed.",
        "Dropped 3 cells of the input: not a number.",
        "Dropped 1 row of the input: date is not a valid date.",
    ]
    assert view.source_notes({"dropped": [{"reason": "old", "count": 2}]}) == [
        "Dropped 2 rows of the input: old."
    ]


def test_an_error_is_one_sentence_with_one_space_after_the_colon() -> None:
    """The title and the message were two pieces, the title ending in a space: a text
    extract that joins pieces read "Cannot run this backtest:  top_n must be ..."."""
    from dashapp.ui import components

    alert = components.error_alert(
        " top_n must be a whole number from 1 to 500; got 0", title="Cannot run this backtest"
    )
    assert alert.children == "Cannot run this backtest: top_n must be a whole number from 1 to 500; got 0"


def test_a_long_value_is_not_echoed_back_in_full(page, fake: FakeServices) -> None:
    """A 5,000-character benchmark came back whole in the error and in the field's message."""
    huge = "A" * 5000
    tree = _text(
        page.run_backtest(n_clicks=1, autorun=False, fields=_fields(benchmark=huge), store=None)["results"]
    )
    assert "benchmark" in tree and "A" * 31 not in tree and "(5,000 characters)" in tree
    feedback = page.validate_form(fields=_fields(benchmark=huge))["feedback"]["benchmark"]
    assert "(5,000 characters)" in feedback and len(feedback) < 200


def test_a_void_random_baseline_shows_why_on_the_page_and_in_the_report(page) -> None:
    """Breaker pass 12, F3: with top_n >= the eligible symbols in every period every random
    draw is the strategy; the section showed "50.0 / 100" and p-value "1.000" with no note.
    Now the rows say n/a and why, the note is listed, and the HTML report shows the same."""
    from dashapp import report
    from tests.engine.research.test_robustness import _three_symbols

    plain = engine.robustness_report(
        _three_symbols(), engine.StrategyParams(top_n=3), n_boot=50, n_random=20
    ).to_dict()
    tree = _text(page.robustness_section(plain))
    assert tree.count("n/a: every draw would be the strategy (one possible selection per period)") == 2
    assert "50.0 / 100" not in tree and "1.000" not in tree
    assert "Holding periods with one possible selection (at most top_n eligible symbols)" in tree
    assert "5 of 5" in tree
    assert "The random-portfolio baseline has one possible selection per period" in tree
    html_text = report.backtest_report_html(_plain_result(engine.StrategyParams(top_n=3).to_dict()), plain)
    section = html_text.split('id="report-robustness"')[1]
    assert "n/a: every draw would be the strategy (one possible selection per period)" in section
    assert "The random-portfolio baseline has one possible selection per period" in section
    # In part (two of five periods with 2 eligible for top_n 2): ranked, and counted.
    partial = engine.robustness_report(
        _three_symbols(skip=[("02", "CCC"), ("04", "CCC")]),
        engine.StrategyParams(top_n=2),
        n_boot=50,
        n_random=20,
    ).to_dict()
    tree = _text(page.robustness_section(partial))
    assert "n/a: every draw" not in tree and " / 100" in tree and "2 of 5" in tree
    assert "2 of 5 holding period(s) have at most top_n (2) eligible symbols" in tree


def test_price_quality_findings_are_notes_of_every_results_page() -> None:
    """The price-quality sentences (a split-like move, frozen closes, missing sessions)
    change every run's numbers: they reached only the Data page's warnings; now the notes
    of the Backtest, Signal and Stocks pages (``source_notes``) carry them, through the
    stored plain report, and a damaged stored entry is skipped."""
    from dashapp.services.plain import report_to_plain
    from dashapp.views import sources as view

    split = (
        "prices: AAA moved -50.0% on 2022-06-06, the size of a 2-for-1 split: if these closes are "
        "not adjusted for splits, every return across that day is wrong; use adjusted closes (Adj Close)"
    )
    report = engine.ValidationReport(warnings=(split,), price_quality=(split,))
    assert view.source_notes(report_to_plain(report)) == [split]
    assert view.source_notes({"price_quality": [split, 7]}) == [split]
    assert view.source_notes({"price_quality": "not a list"}) == []
