"""Backtest page after the engine's causality fix (issue 9): the page shows the engine's
entry dates, NaN days as gaps (never flat days), drawdowns from ``engine.drawdown_series``
dated from the entry close, every warning, and CSVs with empty cells where a series does
not exist. Callbacks are called in-process with a fake services layer."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import plotly
import pytest

import engine
from dashapp.ui import figures
from dashapp.views import backtest as view

from .test_page_backtest import FakeServices

DATES = ["2022-01-03", "2022-01-04", "2022-01-05", "2022-02-01", "2022-02-02"]
WARNINGS = [
    "the benchmark QQQ has no close before 2022-01-04; its returns are NaN before then",
    "the benchmark QQQ has no close after 2022-02-01; its returns are NaN after then",
    "no symbol was holdable for the eligible universe on 2022-02-01; its return is NaN there",
]


def _result(params: dict) -> dict:
    metrics = {name: 0.1 for name in engine.METRIC_NAMES}
    return {
        "returns": {
            "date": DATES,
            "portfolio": [0.10, -0.20, 0.05, 0.0, 0.2],
            "benchmark": [None, 0.01, -0.02, 0.01, None],
            "universe": [0.01, 0.0, 0.01, None, 0.01],
        },
        "holdings": {
            "period_start": ["2022-01-03", "2022-02-01"],
            "period_end": ["2022-01-31", "2022-02-02"],
            "symbol": ["AAA", "<script>alert(1)</script>"],
            "weight": [1.0, 1.0],
            "signal": [0.5, 0.4],
            "rank": [1, 1],
            "likes": [40.0, 10.0],
            "comments": [20.0, 5.0],
        },
        "periods": {
            "period_start": ["2022-01-03", "2022-02-01"],
            "period_end": ["2022-01-31", "2022-02-02"],
            "formation_end": ["2022-01-01", "2022-01-30"],
            "entry_date": ["2021-12-31", "2022-01-31"],
            "n_eligible": [3, 2],
            "n_selected": [1, 1],
            "turnover": [1.0, 1.0],
            "cost": [0.0, 0.0],
        },
        "metrics": {**metrics, "sharpe": 1.5},
        "benchmark_metrics": metrics,
        "universe_metrics": {**metrics, "total_return": float("nan")},
        "drawdown": {"peak": "2021-12-31", "trough": "2022-01-04", "recovery": "2022-02-02"},
        "warnings": list(WARNINGS),
        "manifest": {
            "params": params,
            "data_source": "upload <b>x</b>.csv",
            "synthetic": False,
            "fingerprint": "fp123",
            "version": "0.1.0",
        },
    }


class EdgeServices(FakeServices):
    def backtest(self, source, params):
        self.calls.append(("backtest", source, params))
        return _result(engine.StrategyParams.from_mapping(params).to_dict())


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    from dashapp import create_app

    create_app({"CACHE_DIR": str(tmp_path_factory.mktemp("cache"))})
    from dashapp.pages import backtest

    return backtest


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, page) -> EdgeServices:
    services = EdgeServices()
    monkeypatch.setattr(page, "services", services)
    return services


STATE = {"source": {"kind": "default"}, "params": engine.StrategyParams().to_dict()}


def _text(component) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


def _graph(section: list, name: str) -> dict:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if (node.get("props") or {}).get("id") == f"backtest-graph-{name}":
                found.append(node["props"]["figure"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(section)
    assert found, name
    return found[0]


def _run(page) -> list:
    out = page.run_backtest(1, None, {}, None)
    return out["results"]


def test_cumulative_chart_has_gaps_where_a_series_does_not_exist(page, fake) -> None:
    figure = _graph(_run(page), "cumulative")
    traces = {t["name"]: t for t in figure["data"]}
    # Starts at the first entry close (0 % for the series present then).
    assert traces["Strategy"]["x"][0] == "2021-12-31" and traces["Strategy"]["y"][0] == 0.0
    bench = traces["Benchmark"]["y"]
    assert bench[0] is None and bench[1] is None  # entry close and first day: no benchmark yet
    assert bench[2] == pytest.approx(0.01)
    assert bench[3] == pytest.approx(1.01 * 0.98 - 1)
    assert bench[-1] is None  # after its last close: a gap, not a flat line
    universe = traces["Eligible universe"]["y"]
    assert universe[4] is None and universe[5] == pytest.approx(1.01 * 1.0 * 1.01 * 1.01 - 1)
    assert all(t.get("connectgaps") is False for t in figure["data"])


def test_drawdown_chart_is_the_engines_series_dated_from_the_entry(page, fake) -> None:
    figure = _graph(_run(page), "drawdown")
    traces = {t["name"]: t for t in figure["data"]}
    strategy = pd.Series([0.10, -0.20, 0.05, 0.0, 0.2], index=pd.DatetimeIndex(DATES))
    expected = engine.drawdown_series(strategy, start="2021-12-31")
    assert traces["Strategy"]["x"][0] == "2021-12-31"
    assert traces["Strategy"]["y"] == pytest.approx(list(expected.to_numpy()), abs=1e-9)
    # The benchmark over its existing days only: NaN (gap) elsewhere, no fillna(0).
    bench = traces["Benchmark"]["y"]
    assert bench[0] is None and bench[1] is None and bench[-1] is None
    assert bench[2] == 0.0 and bench[3] == pytest.approx(-0.02)
    # Peak, trough and recovery markers at the engine's dates.
    assert traces["Peak"]["x"] == ["2021-12-31"]
    assert traces["Trough"]["x"] == ["2022-01-04"]
    assert traces["Trough"]["y"][0] == pytest.approx(0.88 / 1.1 - 1)
    assert traces["Recovery"]["x"] == ["2022-02-02"]


def test_page_shows_entry_dates_and_every_warning(page, fake) -> None:
    text = _text(_run(page))
    for warning in WARNINGS:
        assert json.dumps(warning)[1:-1] in text
    assert '"id": "backtest-periods"' in text
    for day in ("2022-01-01", "2021-12-31", "2022-01-30", "2022-01-31"):
        assert day in text
    assert "Maximum drawdown: peak 2021-12-31, trough 2022-01-04, recovery 2022-02-02." in text
    holdings = _graph(_run(page), "holdings")
    hover = holdings["data"][0]["customdata"]
    assert hover[0][7:] == ["01 Jan 2022", "31 Dec 2021"]
    assert hover[1][7:] == ["30 Jan 2022", "31 Jan 2022"]


def _csv(content: str) -> pd.DataFrame:
    body = "\n".join(line for line in content.splitlines() if not line.startswith("#"))
    return pd.read_csv(io.StringIO(body), keep_default_na=False, dtype=str)


def test_returns_csv_has_empty_cells_for_nan_days(page, fake) -> None:
    frame = _csv(page.download("returns", STATE)["content"])
    assert list(frame["benchmark"]) == ["", "0.01", "-0.02", "0.01", ""]
    assert frame.loc[3, "universe"] == ""
    assert frame.loc[0, "portfolio"] == "0.1"


def test_periods_csv_and_holdings_csv_carry_the_engines_dates(page, fake) -> None:
    periods = page.download("periods", STATE)
    assert periods["filename"] == "backtest_periods_fp123.csv"
    frame = _csv(periods["content"])
    assert list(frame["formation_end"]) == ["2022-01-01", "2022-01-30"]
    assert list(frame["entry_date"]) == ["2021-12-31", "2022-01-31"]
    holdings = _csv(page.download("holdings", STATE)["content"])
    assert list(holdings["entry_date"]) == ["2021-12-31", "2022-01-31"]
    # A hostile symbol is neutralised only if it looks like a formula; here it stays text.
    assert holdings.loc[1, "symbol"] == "<script>alert(1)</script>"


def test_metrics_csv_uses_the_engines_drawdown_dates(page, fake) -> None:
    frame = _csv(page.download("metrics", STATE)["content"])
    rows = dict(zip(frame["metric"], frame["strategy"], strict=True))
    assert rows["max_drawdown_peak"] == "2021-12-31"
    assert rows["max_drawdown_trough"] == "2022-01-04"
    assert rows["max_drawdown_recovery"] == "2022-02-02"
    universe = dict(zip(frame["metric"], frame["universe"], strict=True))
    assert universe["total_return"] == ""  # NaN metric: empty, not 0


def test_dashapp_never_fills_missing_returns_with_zero() -> None:
    root = Path(figures.__file__).resolve().parents[2]
    pattern = re.compile(r"fillna\(\s*0(\.0*)?\s*\)")
    offenders = [str(p) for p in root.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_turnover_bars_are_at_the_engines_entry_closes(page, fake) -> None:
    figure = _graph(_run(page), "turnover")
    assert figure["data"][0]["x"] == ["2021-12-31", "2022-01-31"]


def test_entry_start_is_the_engines_first_entry() -> None:
    assert view.entry_start(_result({})) == "2021-12-31"
    assert view.entry_start({"periods": {}}) is None


def test_an_entry_at_the_last_day_renders_as_a_period_with_no_day_yet() -> None:
    """Issue 9: data ending on an entry day (2022-09-30) reports what is bought at that
    close; the periods table, charts, report and CSVs render the row with no day held."""
    from dashapp import report

    data = engine.load_market_data(engine.DemoProvider(seed=7, n_symbols=30, years=3))
    day = pd.Timestamp("2022-09-30")
    cut = engine.MarketData.build(
        sentiment=data.sentiment[data.sentiment["date"] <= day],
        prices=data.prices.loc[:day],
        source=data.source,
    )
    backtest = engine.run_backtest(cut, engine.StrategyParams(top_n=5))
    result = engine.result_to_plain(backtest)
    again = engine.result_from_plain(result)  # the cached form round-trips the NaT days
    pd.testing.assert_frame_equal(again.periods, backtest.periods)
    periods = result["periods"]
    assert periods["entry_date"][-1] == "2022-09-30"
    assert periods["period_start"][-1] is None and periods["period_end"][-1] is None
    header, rows = view.periods_rows(result)
    assert rows[-1][header.index("Bought at the close of")] == "2022-09-30"
    assert rows[-1][header.index("First day held")] == ""
    assert rows[-1][header.index("Held")] == "5"
    figures.holdings_figure(result["holdings"], periods)  # the period with no day is not drawn
    bars = figures.turnover_figure(periods)
    assert list(bars.data[0].x)[-1] == "2022-09-30"
    assert report.holdings_rows(result)[-1][0] == "next period (bought at the last close)"
    holdings_csv = view.holdings_csv(result)
    assert holdings_csv.count("2022-09-30") >= 5  # the five holdings with their entry date
    assert "2022-09-30" in view.periods_csv(result)
    assert backtest.returns.index[-1] == day  # no return day after the entry yet
