"""Signal page callbacks called directly on the demo data (in process), and its view helpers."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import numpy as np
import pandas as pd
import plotly
import pytest
from dash import no_update

import engine
from tests.support.apps import demo_app_context
from tests.support.layouts import input_values

SETTINGS = {"quantiles": 5, "horizons": 3, "rolling_window": 6}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with demo_app_context(tmp_path_factory.mktemp("cache")) as app:
        yield app


@pytest.fixture(scope="module")
def page(app: Any):
    from dashapp.pages import signal

    return signal


def _fields(page, **values: Any) -> dict[str, Any]:
    return {name: values.get(name) for name in page.view.SIGNAL_FIELDS}


def _text(component: Any) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


def _demo() -> engine.MarketData:
    from engine.data.demo import DemoProvider

    return engine.load_market_data(DemoProvider())


def test_layout_from_query_prefills_fields_and_settings(page) -> None:
    tree = _text(page.layout(lag_days="2", quantiles="4", rebalance="weekly"))
    assert '"id": "signal-lag_days"' in tree and '"value": 2' in tree
    assert '"id": "signal-quantiles"' in tree and '"value": "4"' in tree
    assert '"id": "signal-top_n"' not in tree  # only the signal's settings are on this form
    assert '"id": "signal-autorun", "data": true' in tree


def test_run_shows_cards_charts_and_matches_the_engine(page) -> None:
    out = page.run_signal(1, False, _fields(page, lag_days=1), dict(SETTINGS), None)
    assert out["download_disabled"] is False
    expected = engine.analyze_signal(_demo(), engine.StrategyParams(lag_days=1))
    text = _text(out["results"])
    assert f"{expected.ic_summary['mean_ic']:.3f}" in text and "IC IR" in text and "Spread t-stat" in text
    for name in ("ic", "decay", "quantiles", "cumulative", "coverage", "distribution"):
        assert f'"id": "signal-graph-{name}"' in text
    query = parse_qs(out["search"].lstrip("?"))
    assert query["lag_days"] == ["1"] and query["quantiles"] == ["5"]
    state = out["run_state"]
    assert state["params"]["lag_days"] == 1 and state["settings"] == SETTINGS


def test_ic_figure_has_bars_and_rolling_mean(page) -> None:
    from dashapp.services import research
    from dashapp.ui.figures import signal as figures

    analysis = research.signal_analysis(None, {}, SETTINGS)
    figure = figures.ic_figure(analysis["periods"], 6)
    assert [t.type for t in figure.data] == ["bar", "scatter"]
    expected = engine.analyze_signal(_demo()).periods["ic"].to_numpy()
    np.testing.assert_allclose(np.asarray(figure.data[0].y, dtype=float), expected, atol=1e-6)
    quantiles = figures.quantile_returns_figure(analysis["quantile_summary"])
    assert list(quantiles.data[0].x) == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert len(figures.quantile_cumulative_figure(analysis["cumulative_returns"]).data) == 5
    assert figures.ic_figure(None).data == () and figures.signal_histogram_figure([None]).data == ()


def test_csv_has_manifest_header_and_per_period_rows(page) -> None:
    out = page.run_signal(1, False, _fields(page), dict(SETTINGS), None)
    data = page.download_signal(1, out["run_state"])
    assert data["filename"] == f"signal_analysis_{_demo().fingerprint}.csv"
    content = data["content"]
    assert "# synthetic: true" in content and "# fingerprint: " in content and "# quantiles: 5" in content
    frame = pd.read_csv(io.StringIO(content), comment="#")
    expected = engine.analyze_signal(_demo())
    assert list(frame.columns[:3]) == ["formation_end", "entry_date", "next_entry_date"]
    assert {"ic", "spread", "q1", "q5"} <= set(frame.columns) and len(frame) == len(expected.periods)
    np.testing.assert_allclose(frame["ic"], expected.periods["ic"], rtol=1e-12)
    np.testing.assert_allclose(frame["q5"], expected.quantile_returns[5], rtol=1e-12)
    assert frame["entry_date"].iloc[0] == "2021-12-31"
    assert page.download_signal(None, out["run_state"]) is no_update
    assert page.download_signal(1, {"source": "x"}) is no_update  # a tampered Store


def test_csv_cells_are_formula_safe() -> None:
    from dashapp.views import signal as view

    analysis = {
        "periods": {"entry_date": ["2022-01-03"], "ic": [0.1]},
        "quantile_returns": {"entry_date": ["2022-01-03"], "q1": [0.01]},
        "manifest": {
            "params": {"signal": "=cmd|' /C calc'!A0"},
            "data_source": "my data,=HYPERLINK(1)",
            "synthetic": False,
            "fingerprint": "abc",
            "version": "0.1.0",
        },
        "settings": {},
        "params": {},
    }
    content = view.ic_csv(analysis)
    cells = [cell for line in content.splitlines() for cell in line.split(",")]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@", "-"))]
    assert "'=HYPERLINK(1)" in content


def test_quantile_note_is_shown(page) -> None:
    analysis = {
        "quantile_note": "5 quantiles requested; 3 used (median 3 symbols per period)",
        "settings": {},
        "params": {},
    }
    assert "3 used" in _text(page.results_section(analysis))


@pytest.mark.parametrize(
    ("fields", "settings", "message"),
    [
        ({"lag_days": "x"}, SETTINGS, "lag_days must be a whole number"),
        ({"start": "2023-01-01", "end": "2022-01-01"}, SETTINGS, "start"),
        ({}, {**SETTINGS, "quantiles": 1}, "quantiles must be a whole number from 2 to 20"),
        ({}, {**SETTINGS, "horizons": "abc"}, "horizons must be a whole number"),
        ({"signal": "=cmd"}, SETTINGS, "signal"),
    ],
)
def test_bad_input_gives_one_sentence_in_the_page(page, fields, settings, message) -> None:
    out = page.run_signal(1, False, _fields(page, **fields), settings, None)
    text = _text(out["results"])
    assert "Cannot analyse this signal" in text and message in text and "Traceback" not in text
    assert out["run_state"] is None and out["download_disabled"] is True
    # The URL holds what was entered (it was left unchanged before: defaults or the last run's).
    query = dict(parse_qsl(out["search"].lstrip("?")))
    assert {k: query.get(k) for k in fields} == {k: str(v) for k, v in fields.items()}
    assert {k: query.get(k) for k in settings} == {k: str(v) for k, v in settings.items()}


@pytest.mark.parametrize(
    ("fields", "settings", "message"),
    [
        ({"lag_days": "x", "rebalance": "weekly"}, SETTINGS, "lag_days must be a whole number"),
        ({"start": "2023-01-01", "end": "2022-01-01"}, SETTINGS, "must be before end"),
        ({"min_likes": "2"}, {**SETTINGS, "quantiles": 1}, "quantiles must be a whole number from 2 to 20"),
    ],
    ids=["invalid-field", "start-after-end", "invalid-setting"],
)
def test_a_failed_analysis_reloads_with_the_same_inputs_and_error(page, fields, settings, message) -> None:
    """Found by a tester: a failed analysis left the URL as it was, so a reload showed the
    defaults (or the last good run) instead of what was entered, and no error. Now the
    page from the failed run's URL shows the entered values, runs them and shows the same
    sentence, and the URL stays the same."""
    out = page.run_signal(1, False, _fields(page, **fields), settings, None)
    assert message in _text(out["results"])
    query = dict(parse_qsl(out["search"].lstrip("?")))
    tree = page.layout(**query)
    text = _text(tree)
    assert '"id": "signal-autorun", "data": true' in text and "Ignored" not in text
    shown = input_values(tree)
    for name, value in fields.items():  # as entered (a valid number in its canonical form)
        assert _same(shown[f"signal-{name}"], value), name
    for name, value in settings.items():
        assert _same(shown[page.SETTING_IDS[name]], value), name
    again_fields = {name: shown[f"signal-{name}"] for name in page.view.SIGNAL_FIELDS}
    again_settings = {name: shown[page.SETTING_IDS[name]] for name in page.view.SETTING_FIELDS}
    again = page.run_signal(None, True, again_fields, again_settings, None)
    assert message in _text(again["results"]) and again["search"] == out["search"]


def _same(shown: Any, entered: Any) -> bool:
    if str(shown) == str(entered):
        return True
    try:
        return float(shown) == float(entered)
    except (TypeError, ValueError):
        return False


def test_validation_flags_each_field(page) -> None:
    out = page.validate_signal_form(_fields(page, lag_days="x"), {**SETTINGS, "rolling_window": 1})
    assert out["invalid"]["lag_days"] is True and out["settings_invalid"]["rolling_window"] is True
    assert out["run_disabled"] is True and out["status"] == "Fix 2 fields to run."
    ok = page.validate_signal_form(_fields(page), SETTINGS)
    assert ok["run_disabled"] is False and ok["status"] == ""


def test_nothing_runs_without_click_or_autorun(page) -> None:
    assert page.run_signal(None, False, _fields(page), SETTINGS, None) is no_update


def test_signal_is_in_the_navbar(app) -> None:
    from dashapp import layout

    names = [item.children.children for item in layout.nav_links()]
    assert names.index("Signal") == names.index("Sweep") + 1


def test_quantile_note_is_shown_once(page) -> None:
    """The engine also lists the note among its warnings; the page showed it twice (alert + list)."""
    note = "5 quantiles requested, 2 used: the median period has 2 eligible, holdable symbols."
    other = "1 period(s) have fewer than 3 eligible, holdable symbols; their information coefficient is undefined."
    analysis = {"quantile_note": note, "warnings": [other, note], "settings": {}, "params": {}}
    visible = [c for c in page.results_section(analysis) if c is not None and not getattr(c, "hidden", False)]
    text = _text(visible)
    assert text.count("2 used") == 1 and other in text


def test_quantile_note_is_in_the_page_once_hidden_or_not(page) -> None:
    """A hidden copy of the note was still in the page's text (read aloud, copied, extracted)."""
    note = "1 period(s) with fewer than 5 symbols left out of the quantile statistics."
    analysis = {"quantile_note": note, "warnings": [note], "settings": {}, "params": {}}
    assert _text(page.results_section(analysis)).count("left out of the quantile statistics") == 1


def test_a_link_with_the_analysis_settings_is_not_said_to_ignore_them(page) -> None:
    # The page's own link after a run (its URL state) carries quantiles, horizons and
    # rolling_window; opening it used them but said they were unknown and ignored.
    tree = _text(page.layout(quantiles="4", horizons="2", rolling_window="3", lag_days="1"))
    assert "Ignored" not in tree and "ignored" not in tree
    assert '"id": "signal-quantiles"' in tree and '"value": "4"' in tree
    assert "Ignored unknown setting 'colour' in the link" in _text(page.layout(quantiles="4", colour="red"))


# ----- the data's failed tickers and dropped rows (breaker pass 11, F3) --------------------

HOSTILE_SENTIMENT_HEADER = (
    "date,symbol,twitterPosts,twitterComments,twitterLikes,twitterImpressions,twitterSentiment\n"
)


def hostile_upload() -> dict[str, Any]:
    """An uploaded data set whose report has a failed ticker (CCC: in the sentiment file, not
    in the prices) and dropped rows ('=1+2' is no ticker), as /tmp/breaker11's files had
    (TAB and the formula-like symbols); stored with ``services.save_upload``."""
    from dashapp import services

    days = pd.bdate_range("2022-01-03", "2022-06-30")  # 129 days
    rng = np.random.default_rng(3)
    lines = [HOSTILE_SENTIMENT_HEADER]
    for day in days:
        for symbol in ("AAA", "BBB", "CCC", "DDD", "=1+2"):
            posts, comments, likes = rng.integers(1, 50), rng.integers(5, 200), rng.integers(10, 2000)
            lines.append(f"{day:%Y-%m-%d},{symbol},{posts},{comments},{likes},5000,0.1\n")
    price_days = pd.bdate_range("2021-01-04", "2022-12-30")
    t = np.arange(len(price_days))
    prices = pd.DataFrame(
        {
            "date": price_days.strftime("%Y-%m-%d"),
            "AAA": 100 * 1.001**t,
            "BBB": 100 * 0.999**t,
            "DDD": 50 + np.sin(t / 9.0),
            "QQQ": 300 * 1.0003**t,
        }
    ).round(6)
    saved = services.save_upload(
        "".join(lines).encode(),
        prices.to_csv(index=False).encode(),
        {"sentiment": "sent_hostile.csv", "prices": "prices_hostile.csv"},
    )
    return saved["source"]


def test_the_datas_failed_tickers_and_dropped_rows_are_in_the_results(page) -> None:
    """The Backtest page listed an upload's failed tickers and dropped rows; the Signal page,
    whose IC is computed on the same universe, said nothing of them."""
    source = hostile_upload()
    out = page.run_signal(1, False, _fields(page), dict(SETTINGS), source)
    assert out["download_disabled"] is False
    warnings = next(c for c in out["results"] if getattr(c, "id", None) == "signal-warnings")
    text = _text(warnings)
    assert "No prices could be had for 1 ticker(s), which cannot be held: CCC." in text
    assert "Dropped 129 rows of the input: symbol is not a ticker." in text
    # The same notes as the Backtest page's (one builder).
    from dashapp.pages import backtest

    assert backtest._source_notes(source) == [
        "No prices could be had for 1 ticker(s), which cannot be held: CCC.",
        "Dropped 129 rows of the input: symbol is not a ticker.",
    ]


def test_a_real_analysis_without_quantiles_shows_why_once(page) -> None:
    """The engine's result when no period has the requested number of symbols (5 requested,
    4 a period: none formed, the note says how many to choose): the page renders its charts
    and the note once."""
    from dashapp.services.research import signal_to_plain
    from tests.engine._frames import market
    from tests.engine.research.test_signal_analysis import _late_listing_inputs

    sentiment, prices = _late_listing_inputs()
    day = pd.Timestamp("2021-05-10")
    cut = market(sentiment[sentiment["date"] <= day], prices.loc[:day])
    analysis = signal_to_plain(
        engine.analyze_signal(cut, settings=engine.SignalAnalysisSettings(quantiles=5))
    )
    assert analysis["quantiles"] == 0
    text = _text(page.results_section(analysis))
    assert text.count("choose 4 quantiles or fewer") == 1
    for name in ("quantiles", "cumulative"):
        assert f'"id": "signal-graph-{name}"' in text
    # Some periods left out (the full data: 4 of 11 have fewer than 5 symbols): said once.
    full = signal_to_plain(engine.analyze_signal(market(sentiment, prices)))
    assert _text(page.results_section(full)).count("4 of 11 period(s) have fewer than 5") == 1


def test_a_constant_signal_shows_no_spread_and_says_why(page) -> None:
    """Breaker pass 12, F6: every symbol's signal 0.5 in every period. The cards showed a
    top-minus-bottom spread and its t-statistic from quantiles split by the alphabet; now
    they show none (as the IC's), the note says why once, and the CSV has the note and no
    spread or quantile column."""
    from dashapp.services.research import signal_to_plain
    from tests.engine._frames import market
    from tests.engine.research.test_signal_analysis import SIGNALS, _prices, _sentiment

    flat = {day: dict.fromkeys("ABCD", 0.5) for day in SIGNALS}
    analysis = signal_to_plain(
        engine.analyze_signal(
            market(_sentiment(flat), _prices()), settings=engine.SignalAnalysisSettings(quantiles=2)
        )
    )
    cards = {title: value for title, value, _ in page.view.ic_cards(analysis)}
    for title in ("Mean IC", "Top minus bottom spread (mean per period)", "Spread t-stat"):
        assert cards[title] is None or np.isnan(cards[title])
    text = _text(page.results_section(analysis))
    assert text.count("2 quantiles requested, none formed: in each of the 3 period(s)") == 1
    csv = page.view.ic_csv(analysis)
    assert "# quantile_note: 2 quantiles requested, none formed" in csv
    table = pd.read_csv(io.StringIO(csv), comment="#")
    assert table["spread"].isna().all() and "q1" not in table.columns


def test_an_incomplete_last_period_is_said_once_and_exported(page) -> None:
    """Breaker pass 12, F8: the data end one day into the last holding period. The page
    shows the engine's note once (above the warnings, not again among them), and the CSV
    download has it in its header and the period's ``complete`` flag."""
    from dashapp.services.research import signal_to_plain
    from tests.engine._frames import market
    from tests.engine.research.test_signal_analysis import _prices, _sentiment

    prices = _prices().loc[: pd.Timestamp("2021-06-01")]
    analysis = signal_to_plain(
        engine.analyze_signal(
            market(_sentiment(), prices), settings=engine.SignalAnalysisSettings(quantiles=2)
        )
    )
    note = "The period bought at the 2021-05-31 close has 1 of its return days in the data"
    assert analysis["horizon_note"].startswith(note)
    assert _text(page.results_section(analysis)).count(note) == 1
    assert page.view.other_warnings(analysis) == []
    csv = page.view.ic_csv(analysis)
    assert f"# horizon_note: {note}" in csv
    table = pd.read_csv(io.StringIO(csv), comment="#")
    assert table["complete"].tolist() == [True, True, False]
    assert table["ic"].isna().tolist() == [False, False, True]
