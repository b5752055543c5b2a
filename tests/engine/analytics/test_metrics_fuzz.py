"""No metric ever raises on a finite series: random finite returns, constants, huge
values, one or two days (hypothesis). Undefined values are NaN; too large ones inf."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from engine import METRIC_NAMES, analyze_stocks, compute_metrics, drawdown_info
from engine.analytics import statistics as stats_
from engine.analytics.metrics import cagr, drawdown_series, max_drawdown, metrics_table, total_return

FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64)
SMALL = st.floats(-0.99, 5.0, allow_nan=False)


@st.composite
def series(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(1, 30))
    kind = draw(st.sampled_from(["any", "returns", "constant", "huge", "near-constant"]))
    if kind == "constant":
        return np.full(n, draw(FLOATS))
    if kind == "near-constant":  # a constant-growth path: differences in the last bits
        r = draw(SMALL)
        return r + np.asarray(draw(hnp.arrays(np.float64, n, elements=st.floats(-4, 4)))) * np.spacing(1.0)
    if kind == "huge":
        return np.asarray(
            draw(hnp.arrays(np.float64, n, elements=st.sampled_from([1e300, -1e300, 1e308, 15.0, -1.0])))
        )
    elements = FLOATS if kind == "any" else SMALL
    return np.asarray(draw(hnp.arrays(np.float64, n, elements=elements)))


SETTINGS = settings(max_examples=50, deadline=None)


@SETTINGS
@given(r=series(), b=series(), rf=st.sampled_from([0.0, 0.02]))
def test_every_metric_returns_a_float_and_never_raises(r: np.ndarray, b: np.ndarray, rf: float) -> None:
    b = np.resize(b, r.size)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning leaks either
        for m in (
            compute_metrics(r),
            compute_metrics(r, b, risk_free=rf, turnover=np.abs(b)),
            compute_metrics(pd.Series(r), pd.Series(b)),
        ):
            assert set(m) == set(METRIC_NAMES)
            assert all(isinstance(v, float) for v in m.values())
            assert m["annual_volatility"] >= 0 or math.isnan(m["annual_volatility"])
        for f in (total_return, cagr, max_drawdown):
            assert isinstance(f(r), float)
        dates = pd.bdate_range("2022-01-03", periods=r.size)
        info = drawdown_info(r, dates, start="2021-12-31")
        assert set(info) == {"peak", "trough", "recovery"}
        assert len(drawdown_series(pd.Series(r, index=dates), start="2021-12-31")) == r.size + 1
        metrics_table({"a": compute_metrics(r)})
        stats_.annual_sharpe(r[None, :])
        stats_.annual_growth(r[None, :])
        stats_.deflated_sharpe_of_returns(r, [1.0, 0.5, float(np.clip(b[0], -10, 10))], rf)


@SETTINGS
@given(r=series())
def test_zero_dispersion_gives_nan_ratios(r: np.ndarray) -> None:
    constant = np.full(max(r.size, 2), float(np.clip(r[0], -0.5, 0.5)))
    m = compute_metrics(constant, constant)
    assert m["annual_volatility"] == 0.0
    assert math.isnan(m["sharpe"]) and math.isnan(m["beta"]) and math.isnan(m["information_ratio"])


@settings(max_examples=30, deadline=None)
@given(values=hnp.arrays(np.float64, st.integers(2, 12), elements=st.floats(1e-6, 1e12)))
def test_stock_analysis_of_any_positive_prices_never_raises(values: np.ndarray) -> None:
    days = pd.bdate_range("2022-01-03", periods=values.size)
    prices = pd.DataFrame({"AAA": values, "BBB": values[::-1]}, index=pd.DatetimeIndex(days, name="date"))
    result = analyze_stocks(prices, ["AAA", "BBB"])
    assert list(result.metrics["symbol"]) == ["AAA", "BBB"]


def test_trial_clusters_of_identical_and_opposite_series() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(0, 0.01, (200, 3))
    trials = np.column_stack(
        [base[:, 0], base[:, 0] * 1.01 + 1e-5, base[:, 1], base[:, 1] + 1e-6, base[:, 2]]
    )
    labels = stats_.trial_clusters(trials)
    assert labels[0] == labels[1] and labels[2] == labels[3]
    assert len(set(labels.tolist())) == 3
    assert stats_.distinct_series([base[:, 0], base[:, 0].copy(), base[:, 1]]).tolist() == [0, 0, 1]
