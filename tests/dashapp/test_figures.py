"""Pure figure builders: trace counts, names, axis formats, values equal to the input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashapp.ui import figures


def _returns(n: int = 130, seed: int = 3) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2022-01-03", periods=n)
    return {
        "date": [d.date().isoformat() for d in dates],
        "portfolio": rng.normal(0.0005, 0.01, n).tolist(),
        "benchmark": rng.normal(0.0003, 0.008, n).tolist(),
        "universe": rng.normal(0.0004, 0.009, n).tolist(),
    }


def _is_empty_note(figure: go.Figure) -> bool:
    return len(figure.data) == 0 and any(
        "No data" in (a.text or "")
        or "Needs" in (a.text or "")
        or "Pick" in (a.text or "")
        or "No " in (a.text or "")
        for a in figure.layout.annotations
    )


def test_cumulative_returns_traces_and_values() -> None:
    data = {
        "date": ["2022-01-03", "2022-01-04", "2022-01-05"],
        "portfolio": [0.10, -0.05, 0.02],
        "benchmark": [0.0, 0.01, None],
        "universe": [0.01, 0.01, 0.01],
    }
    figure = figures.cumulative_returns_figure(data)
    assert [t.name for t in figure.data] == ["Strategy", "Benchmark", "Eligible universe"]
    assert all(isinstance(t, go.Scatter) for t in figure.data)  # short series: SVG
    # (1.1)(0.95) - 1 = 0.045; (1.045)(1.02) - 1 = 0.0659
    assert figure.data[0].y == pytest.approx((0.10, 0.045, 0.0659))
    # A day the benchmark does not exist is a gap (None), never a flat day (issue 9).
    assert figure.data[1].y[:2] == pytest.approx((0.0, 0.01))
    assert figure.data[1].y[2] is None
    assert figure.data[1].connectgaps is False
    assert figure.layout.yaxis.tickformat == ".0%"
    assert figure.data[0].line.color == figures.SERIES_COLORS["portfolio"]
    assert "%" in figure.data[0].hovertemplate


@pytest.mark.parametrize(
    "builder",
    [
        figures.cumulative_returns_figure,
        figures.drawdown_figure,
        figures.monthly_heatmap_figure,
        figures.rolling_figure,
        figures.holdings_figure,
        figures.turnover_figure,
        figures.normalised_prices_figure,
        figures.return_distribution_figure,
        figures.correlation_figure,
    ],
)
@pytest.mark.parametrize("data", [None, {}, {"date": []}])
def test_empty_input_gives_a_note_not_an_exception(builder, data) -> None:
    assert _is_empty_note(builder(data))


def test_all_nan_returns_give_a_note() -> None:
    data = {"date": ["2022-01-03", "2022-01-04"], "portfolio": [None, float("nan")]}
    assert _is_empty_note(figures.cumulative_returns_figure(data))
    assert _is_empty_note(figures.monthly_heatmap_figure(data))


def test_drawdown_values_and_marked_max_drawdown() -> None:
    data = {
        "date": ["2022-01-03", "2022-01-04", "2022-01-05", "2022-01-06"],
        "portfolio": [0.10, -0.20, 0.05, 0.0],
        "benchmark": [-0.1, 0.0, 0.0, 0.0],
    }
    figure = figures.drawdown_figure(data, {"peak": "2022-01-03", "trough": "2022-01-04", "recovery": None})
    assert [t.name for t in figure.data] == ["Strategy", "Benchmark", "Peak", "Trough"]
    # wealth 1.1, 0.88, 0.924, 0.924 -> drawdowns 0, -0.2, -0.16, -0.16
    assert figure.data[0].y == pytest.approx((0.0, -0.2, -0.16, -0.16))
    # The first day below the starting value is already a drawdown.
    assert figure.data[1].y[0] == pytest.approx(-0.1)
    assert len(figure.layout.shapes) == 1


def test_monthly_table_compounds_within_month() -> None:
    data = {
        "date": ["2022-01-03", "2022-01-04", "2022-02-01", "2023-03-01"],
        "portfolio": [0.10, 0.10, -0.05, 0.02],
    }
    table = figures.monthly_returns_table(data)
    assert list(table.index) == [2022, 2023]
    assert table.loc[2022, 1] == pytest.approx(0.21)
    assert table.loc[2022, 2] == pytest.approx(-0.05)
    assert math.isnan(table.loc[2022, 3])
    figure = figures.monthly_heatmap_figure(data)
    assert figure.data[0].type == "heatmap"
    assert list(figure.data[0].x) == list(figures.MONTH_NAMES)
    assert figure.data[0].text[0][0] == "21.0%"


def test_rolling_sharpe_matches_direct_formula() -> None:
    data = _returns(100)
    figure = figures.rolling_figure(data, window=63)
    assert len(figure.data) == 4  # Sharpe and volatility, strategy and benchmark
    series = np.asarray(data["portfolio"][-63:])
    expected_sharpe = series.mean() / series.std(ddof=1) * math.sqrt(252)
    assert figure.data[0].y[-1] == pytest.approx(expected_sharpe, abs=1e-5)
    assert figure.data[2].y[-1] == pytest.approx(series.std(ddof=1) * math.sqrt(252), abs=1e-5)
    assert figure.data[0].y[61] is None and figure.data[0].y[62] is not None
    assert _is_empty_note(figures.rolling_figure(_returns(20), window=63))


def test_holdings_timeline_hover_explains_pick() -> None:
    holdings = {
        "period_start": ["2022-02-01", "2022-02-01", "2022-03-01"],
        "period_end": ["2022-02-28", "2022-02-28", "2022-03-31"],
        "symbol": ["AAA", "BBB", "AAA"],
        "weight": [0.5, 0.5, 1.0],
        "signal": [0.8, 0.6, 0.9],
        "rank": [1, 2, 1],
        "likes": [100.0, 50.0, 70.0],
        "comments": [80.0, 30.0, 63.0],
    }
    figure = figures.holdings_figure(holdings)
    bar = figure.data[0]
    assert list(bar.y) == ["AAA", "BBB", "AAA"]
    assert bar.customdata[0][2] == 0.5 and bar.customdata[0][3] == 0.8 and bar.customdata[1][4] == 2
    assert bar.x[0] == 28 * 86_400_000
    for word in ("weight", "rank", "signal", "likes", "comments"):
        assert word in bar.hovertemplate


def test_turnover_bars() -> None:
    periods = {
        "period_start": ["2022-02-01", "2022-03-01"],
        "turnover": [1.0, 0.4],
        "cost": [0.001, 0.0004],
        "n_selected": [5, 5],
    }
    figure = figures.turnover_figure(periods)
    assert figure.data[0].y == pytest.approx((1.0, 0.4))
    assert figure.layout.yaxis.tickformat == ".0%"


def test_distribution_marks_observed_value() -> None:
    figure = figures.distribution_figure([0.1, 0.2, float("nan"), 0.3], 0.25, title="Random Sharpe")
    assert figure.data[0].x == pytest.approx((0.1, 0.2, 0.3))
    assert len(figure.layout.shapes) == 1 and figure.layout.shapes[0].x0 == 0.25
    assert _is_empty_note(figures.distribution_figure([], 1.0, title="x"))


def test_sweep_heatmap_averages_other_parameters_and_skips_failures() -> None:
    records = [
        {"top_n": 3, "lag_days": 0, "cost_bps": 0, "sharpe": 1.0},
        {"top_n": 3, "lag_days": 0, "cost_bps": 10, "sharpe": 0.5},
        {"top_n": 5, "lag_days": 0, "cost_bps": 0, "sharpe": 2.0},
        {"top_n": 5, "lag_days": 1, "cost_bps": 0, "sharpe": None},  # failed configuration
        {"top_n": 3, "lag_days": 1, "cost_bps": 0, "sharpe": -1.0},
    ]
    figure = figures.sweep_heatmap_figure(records, "top_n", "lag_days", "sharpe")
    heat = figure.data[0]
    assert list(heat.x) == ["3", "5"] and list(heat.y) == ["0", "1"]
    assert heat.z[0][0] == pytest.approx(0.75) and heat.z[0][1] == pytest.approx(2.0)
    assert heat.z[1][0] == pytest.approx(-1.0) and heat.z[1][1] is None
    assert _is_empty_note(figures.sweep_heatmap_figure(records, "top_n", "nope", "sharpe"))
    assert _is_empty_note(figures.sweep_heatmap_figure([], "top_n", "lag_days", "sharpe"))


def test_stock_charts() -> None:
    prices = {
        "date": ["2022-01-03T00:00:00", "2022-01-04", "2022-01-05", "2022-01-06", "2022-01-07"],
        "AAA": [None, 1.0, 1.1, 0.99, 1.089],
        "BBB": [1.0, 1.1, 0.99, 1.089, 0.9801],
    }
    normalised = figures.normalised_prices_figure(prices)
    assert [t.name for t in normalised.data] == ["AAA", "BBB"]
    assert normalised.data[0].y[0] is None
    assert list(normalised.data[0].y[1:]) == pytest.approx([1.0, 1.1, 0.99, 1.089])
    returns = {
        "date": ["2022-01-04", "2022-01-05", "2022-01-06"],
        "AAA": [None, 0.1, -0.1],
        "BBB": [0.1, -0.1, 0.1],
    }
    distribution = figures.return_distribution_figure(returns)
    assert [t.name for t in distribution.data] == ["AAA", "BBB"]
    assert sorted(distribution.data[1].x) == pytest.approx([-0.1, 0.1, 0.1])
    correlation = figures.correlation_figure(
        {"index": ["BBB", "AAA"], "AAA": [-0.5, 1.0], "BBB": [1.0, -0.5]}
    )
    heat = correlation.data[0]
    assert list(heat.x) == ["AAA", "BBB"] and list(heat.y) == ["AAA", "BBB"]
    assert heat.z[0] == pytest.approx((1.0, -0.5)) and heat.z[1] == pytest.approx((-0.5, 1.0))
    assert _is_empty_note(figures.correlation_figure({"index": ["AAA"], "AAA": [1.0]}))


def test_long_series_use_webgl() -> None:
    n = figures.WEBGL_MIN_POINTS + 1
    data = {
        "date": [d.date().isoformat() for d in pd.bdate_range("2000-01-03", periods=n)],
        "portfolio": [0.001] * n,
        "benchmark": [0.0] * n,
    }
    for builder in (figures.cumulative_returns_figure, figures.drawdown_figure, figures.rolling_figure):
        assert all(isinstance(t, go.Scattergl) for t in builder(data).data)


def test_payload_is_rounded() -> None:
    figure = figures.cumulative_returns_figure({"date": ["2022-01-03"], "portfolio": [0.123456789123]})
    assert figure.data[0].y[0] == 0.123457


def test_rolling_sharpe_of_a_constant_growth_path_is_undefined() -> None:
    """A price growing 0.1% a day (100 x 1.001^t) has returns that differ in their last
    bits only: no dispersion (README, Metrics), so no Sharpe ratio. The rolling panel plotted
    mean / rounding residue, about 6e6 on the Backtest page (case constant-return-series,
    uploaded with share-class-dot-dash); it now follows the engine's rule (engine.column_metric)."""
    days = pd.bdate_range("2022-01-03", periods=70)
    prices = 100 * 1.001 ** np.arange(71)
    constant = list(prices[1:] / prices[:-1] - 1.0)
    moving = [0.01 * math.sin(i) for i in range(70)]
    data = {"date": [d.strftime("%Y-%m-%d") for d in days], "portfolio": constant, "benchmark": moving}
    figure = figures.rolling_figure(data, window=63)
    assert np.std(constant, ddof=1) > 0  # rounding residue: the raw std is not 0
    assert all(y is None for y in figure.data[0].y)  # strategy Sharpe: undefined throughout
    bench = np.asarray(moving[-63:])
    assert figure.data[1].y[-1] == pytest.approx(bench.mean() / bench.std(ddof=1) * math.sqrt(252), abs=1e-5)
    assert figure.data[1].y[61] is None and figure.data[1].y[62] is not None


def test_rolling_sharpe_of_a_quoted_constant_growth_is_undefined_with_a_risk_free_rate() -> None:
    """The same path quoted to 4 decimals (returns 0.001 up to the quotes' rounding, std
    3.3e-7) with a risk-free rate of 20% a year: the rule is judged on the returns, not on
    the returns net of the rate (0.000206 a day, against which the rounding looked like a
    dispersion): the panel plotted a Sharpe ratio of ~9,900 where the metric card says n/a."""
    days = pd.bdate_range("2022-01-03", periods=70)
    prices = np.round(100 * 1.001 ** np.arange(71), 4)
    constant = list(prices[1:] / prices[:-1] - 1.0)
    data = {"date": [d.strftime("%Y-%m-%d") for d in days], "portfolio": constant}
    figure = figures.rolling_figure(data, window=63, risk_free=0.2)
    assert all(y is None for y in figure.data[0].y)
