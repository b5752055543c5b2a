"""Signal analysis: IC and quantile portfolios by hand, the backtest's calendar, alphalens."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import engine
from engine import ParameterError, StrategyParams, prepare, run_prepared
from engine.research.signal_analysis import (
    SignalAnalysisSettings,
    analyze_signal,
    ic_statistics,
    quantile_labels,
    rank_ic,
)
from tests.engine._frames import market, price_frame, random_market, sentiment_frame
from tests.engine.backtest.test_edges import UNTRADED_Q1, quarter_cut_short

# Month ends on weekdays (2021-03-31 Wed, 04-30 Fri, 05-31 Mon, 06-30 Wed), so the entry
# closes are the months' last days under any entry rule that waits for the period's end.
DAYS = ["2021-03-31", "2021-04-01", "2021-04-30", "2021-05-03", "2021-05-31", "2021-06-01", "2021-06-30"]
# Forward returns per period (entry close to next entry close):
#   April  A +10%  B +5%  C -5%  D 0%
#   May    A -2%   B +4%  C +1%  D +3%
#   June   A +1%   B +2%  C -1%  D +3%
PERIOD_RETURNS = {
    "A": (0.10, -0.02, 0.01),
    "B": (0.05, 0.04, 0.02),
    "C": (-0.05, 0.01, -0.01),
    "D": (0.0, 0.03, 0.03),
}
# Engagement ratio (comments / likes) per formation month:
SIGNALS = {
    "2021-03-15": {"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.1},
    "2021-04-15": {"A": 0.1, "B": 0.2, "C": 0.3, "D": 0.4},
    "2021-05-14": {"A": 0.3, "B": 0.1, "C": 0.4, "D": 0.2},
}


def _prices(last_close_d: float | None = None) -> pd.DataFrame:
    columns: dict[str, list[float]] = {}
    for symbol, (r1, r2, r3) in PERIOD_RETURNS.items():
        p0 = 100.0
        p1, p2 = p0 * (1 + r1), p0 * (1 + r1) * (1 + r2)
        p3 = p2 * (1 + r3)
        # Days in between move the price, which must not matter (only entry closes do).
        columns[symbol] = [p0, p0 * 1.3, p1, p1 * 0.7, p2, p2 * 1.1, p3]
    if last_close_d is not None:  # D's prices end on 2021-06-01 at this price
        columns["D"][-2] = last_close_d
        columns["D"][-1] = math.nan
    columns["QQQ"] = [100, 101, 102, 103, 104, 105, 106]
    return price_frame(DAYS, columns)


def _sentiment(signals: dict[str, dict[str, float]] | None = None) -> pd.DataFrame:
    rows = []
    for day, values in (signals or SIGNALS).items():
        for symbol, ratio in values.items():
            rows.append((day, symbol, ratio * 200.0, 200.0))  # comments > 10, likes > 20
    return sentiment_frame(rows)


def _hand_market(**kwargs: float | None) -> engine.MarketData:
    return market(_sentiment(), _prices(**kwargs))


def test_ic_by_hand() -> None:
    analysis = analyze_signal(_hand_market(), StrategyParams())
    periods = analysis.periods
    assert list(periods["entry_date"].dt.strftime("%Y-%m-%d")) == ["2021-03-31", "2021-04-30", "2021-05-31"]
    assert list(periods["next_entry_date"].dt.strftime("%Y-%m-%d")) == [
        "2021-04-30",
        "2021-05-31",
        "2021-06-30",
    ]
    # Spearman with n = 4 and no ties: 1 - 6 sum d^2 / (n (n^2 - 1)) = 1 - sum d^2 / 10.
    # April: signal ranks A4 B3 C2 D1, return ranks A4 B3 C1 D2: sum d^2 = 2 -> 0.8.
    # May:   signal A1 B2 C3 D4, returns A1 B4 C2 D3: sum d^2 = 6 -> 0.4.
    # June:  signal A3 B1 C4 D2, returns A2 B3 C1 D4: sum d^2 = 18 -> -0.8.
    np.testing.assert_allclose(periods["ic"], [0.8, 0.4, -0.8], atol=1e-12)
    s = analysis.ic_summary
    mean = (0.8 + 0.4 - 0.8) / 3
    std = math.sqrt(((0.8 - mean) ** 2 + (0.4 - mean) ** 2 + (-0.8 - mean) ** 2) / 2)
    assert s["mean_ic"] == pytest.approx(mean)
    assert s["ic_std"] == pytest.approx(std)
    assert s["ic_ir"] == pytest.approx(mean / std)
    assert s["t_stat"] == pytest.approx(mean / std * math.sqrt(3))
    assert s["t_stat"] == pytest.approx(stats.ttest_1samp([0.8, 0.4, -0.8], 0.0).statistic)
    assert s["share_positive"] == pytest.approx(2 / 3)
    assert s["n_periods"] == 3
    np.testing.assert_array_equal(periods["n_observations"], [4, 4, 4])
    np.testing.assert_array_equal(periods["n_eligible"], [4, 4, 4])


def test_ic_decay_by_hand() -> None:
    analysis = analyze_signal(_hand_market(), StrategyParams(), settings=SignalAnalysisSettings(horizons=3))
    decay = analysis.ic_decay.set_index("horizon")
    # Horizon 2: April's signal (A4 B3 C2 D1) against May's returns (A1 B4 C2 D3): 1 - 14/10 = -0.4;
    # May's signal (A1 B2 C3 D4) against June's returns (A2 B3 C1 D4): 1 - 6/10 = 0.4.
    assert decay.loc[1, "mean_ic"] == pytest.approx(analysis.ic_summary["mean_ic"])
    assert decay.loc[2, "mean_ic"] == pytest.approx(0.0, abs=1e-12)
    assert decay.loc[2, "n_periods"] == 2
    assert decay.loc[2, "ic_std"] == pytest.approx(math.sqrt(2 * 0.4**2))
    # Horizon 3: only April's signal has a period three ahead (June): one IC, no std.
    # April's signal A4 B3 C2 D1 vs June's returns A2 B3 C1 D4: sum d^2 = 4+0+1+9 = 14 -> -0.4.
    assert decay.loc[3, "n_periods"] == 1
    assert decay.loc[3, "mean_ic"] == pytest.approx(-0.4)
    assert math.isnan(decay.loc[3, "ic_std"])


def test_ic_decay_leaves_out_a_symbol_without_a_close_at_the_later_entry() -> None:
    """Breaker pass 8, F4: at h >= 2 a symbol not holdable at the entry of period k + h - 1
    (no close on that day) has no forward return there, as alphalens' NaN; not 0 from its
    carried close. D's prices end on 2021-05-03 at 103 (May's return +3% as before): it is
    observed in April and May, not in June (no close on 2021-05-31)."""
    prices = _prices()
    prices.loc[pd.Timestamp("2021-04-30"), "D"] = 100.0  # April's return 0% as before
    prices.loc[pd.Timestamp("2021-05-03"), "D"] = 103.0
    prices.loc[pd.Timestamp("2021-05-31") :, "D"] = math.nan
    analysis = analyze_signal(
        market(_sentiment(), prices), StrategyParams(), settings=SignalAnalysisSettings(horizons=3)
    )
    obs = analysis.observations
    assert list(obs.loc[obs["symbol"] == "D", "entry_date"].dt.strftime("%Y-%m-%d")) == [
        "2021-03-31",
        "2021-04-30",
    ]
    decay = analysis.ic_decay.set_index("horizon")
    # Horizon 1 unchanged: April 0.8, May 0.4, June over A B C (signal A2 B1 C3, returns
    # A2 B3 C1: sum d^2 = 8, n = 3: 1 - 6 * 8 / 24) = -1.
    np.testing.assert_allclose(analysis.periods["ic"], [0.8, 0.4, -1.0], atol=1e-12)
    assert decay.loc[1, "mean_ic"] == pytest.approx(analysis.ic_summary["mean_ic"])
    # Horizon 2: April's signal vs May's returns (D +3%) -0.4 as before; May's signal
    # (A1 B2 C3) vs June's returns over A B C (A2 B3 C1): sum d^2 = 6 -> 1 - 36/24 = -0.5
    # (with D at 0%: A3 B4 C1 D2 against A1 B2 C3 D4, sum d^2 = 16 -> -0.6).
    assert decay.loc[2, "n_periods"] == 2
    assert decay.loc[2, "mean_ic"] == pytest.approx((-0.4 - 0.5) / 2)
    # Horizon 3: April's signal (A3 B2 C1 over A B C) vs June's returns (A2 B3 C1):
    # sum d^2 = 2 -> 1 - 12/24 = 0.5 (with D at 0%: 0.6).
    assert decay.loc[3, "n_periods"] == 1
    assert decay.loc[3, "mean_ic"] == pytest.approx(0.5)


def test_quantile_portfolios_by_hand() -> None:
    analysis = analyze_signal(_hand_market(), StrategyParams(), settings=SignalAnalysisSettings(quantiles=2))
    assert analysis.quantiles == 2 and analysis.quantile_note is None
    # qcut on 4 ranks into 2: the 2 lowest signals are quantile 1, the 2 highest quantile 2.
    # April top {A, B}: (10% + 5%) / 2, bottom {C, D}: (-5% + 0%) / 2.
    # May top {C, D}: (1% + 3%) / 2, bottom {A, B}: (-2% + 4%) / 2.
    # June top {A, C}: (1% - 1%) / 2, bottom {B, D}: (2% + 3%) / 2.
    top = [0.075, 0.02, 0.0]
    bottom = [-0.025, 0.01, 0.025]
    np.testing.assert_allclose(analysis.quantile_returns[2], top, atol=1e-12)
    np.testing.assert_allclose(analysis.quantile_returns[1], bottom, atol=1e-12)
    summary = analysis.quantile_summary.set_index("quantile")
    assert summary.loc[2, "mean_return"] == pytest.approx(np.mean(top))
    assert summary.loc[2, "cumulative_return"] == pytest.approx(1.075 * 1.02 * 1.0 - 1)
    assert summary.loc[1, "cumulative_return"] == pytest.approx(0.975 * 1.01 * 1.025 - 1)
    np.testing.assert_allclose(analysis.cumulative_returns[2], [0.075, 1.075 * 1.02 - 1, 1.075 * 1.02 - 1])
    assert list(summary["mean_count"]) == [2.0, 2.0]
    spread = np.array(top) - np.array(bottom)  # 10%, 1%, -2.5%
    np.testing.assert_allclose(analysis.periods["spread"], spread, atol=1e-12)
    assert analysis.spread_summary["mean"] == pytest.approx(spread.mean())
    assert analysis.spread_summary["t_stat"] == pytest.approx(
        spread.mean() / spread.std(ddof=1) * math.sqrt(3)
    )
    # Top-quantile turnover: May's {C, D} are both new (1.0), June's {A, C}: A new (0.5).
    np.testing.assert_allclose(analysis.periods["top_turnover"], [math.nan, 1.0, 0.5])
    assert analysis.top_turnover == pytest.approx(0.75)
    obs = analysis.observations
    april = obs[obs["entry_date"] == pd.Timestamp("2021-03-31")].set_index("symbol")
    assert april["signal_quantile"].to_dict() == {"A": 2, "B": 2, "C": 1, "D": 1}
    np.testing.assert_allclose(april.loc[["A", "B", "C", "D"], "forward_return"], [0.10, 0.05, -0.05, 0.0])


def test_a_constant_signal_has_no_quantiles_or_spread() -> None:
    """Breaker pass 12, F6: every symbol's signal 0.5 in every period. The IC was n/a (a
    constant side), but the quantiles split the tie by the alphabet ({A, B} top, {C, D}
    bottom every period), so the 'top minus bottom' spread (A+B vs C+D: 10% in April) and
    its t-statistic measured ticker names. Now no period forms quantiles and the note says
    why."""
    flat = {day: dict.fromkeys("ABCD", 0.5) for day in SIGNALS}
    analysis = analyze_signal(
        market(_sentiment(flat), _prices()), StrategyParams(), settings=SignalAnalysisSettings(quantiles=2)
    )
    assert math.isnan(analysis.ic_summary["mean_ic"])
    assert "No information coefficient for 3 period(s) whose signals are equal" in " ".join(analysis.warnings)
    assert analysis.quantiles == 0 and list(analysis.quantile_returns.columns) == []
    assert analysis.periods["spread"].isna().all() and analysis.periods["top_turnover"].isna().all()
    assert math.isnan(analysis.spread_summary["mean"]) and math.isnan(analysis.spread_summary["t_stat"])
    assert analysis.spread_summary["n_periods"] == 0 and math.isnan(analysis.top_turnover)
    assert (analysis.observations["signal_quantile"] == 0).all()
    assert analysis.quantile_note is not None and analysis.quantile_note in analysis.warnings
    assert analysis.quantile_note.startswith("2 quantiles requested, none formed: in each of the 3 period(s)")
    assert "never split" in analysis.quantile_note and "constant" in analysis.quantile_note
    assert analysis.export_extras()["quantile_note"] == analysis.quantile_note


def test_quantiles_growing_alike_have_a_spread_of_zero_not_float_noise() -> None:
    """constant-return-series, held-back variant: every symbol grows by 0.01% a day from its
    own price (a compounded series: float noise in the last bits); the quantiles' returns
    differ by that noise alone, and the spread was shown as 1.1e-16, not 0 (the IC is n/a:
    constant returns)."""
    starts = {"A": 127.76, "B": 54.69, "C": 9.15, "D": 4.29}  # noise in May's and June's spreads
    columns = {s: list(start * np.cumprod(np.full(len(DAYS), 1.0001))) for s, start in starts.items()}
    columns["QQQ"] = [100, 101, 102, 103, 104, 105, 106]
    analysis = analyze_signal(
        market(_sentiment(), price_frame(DAYS, columns)),
        StrategyParams(),
        settings=SignalAnalysisSettings(quantiles=2),
    )
    assert math.isnan(analysis.ic_summary["mean_ic"])
    spread = analysis.periods["spread"].to_numpy()
    assert np.isfinite(spread).all() and (spread == 0.0).all()
    said = " ".join(analysis.warnings)  # the IC's n/a has its reason
    assert "No information coefficient for 3 period(s) whose forward returns are equal across" in said


def test_tied_signals_go_wholly_to_one_quantile_or_leave_the_period_out() -> None:
    """Breaker pass 12, F6 (ties in part, as integer signals have): qcut of the values.
    April: distinct signals, as before. May: A, B, C tie at 0.2 below D's 0.4; two
    quantiles of 4 need an edge inside the tie, so May is left out and counted. June:
    B 0.1 < A = C 0.2 < D 0.4: the tie {A, C} goes wholly to quantile 1 ({A, B, C} vs {D},
    counts 3 and 1); before, C went to 1 and A to 2 by the alphabet."""
    signals = {
        "2021-03-15": {"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.1},
        "2021-04-15": {"A": 0.2, "B": 0.2, "C": 0.2, "D": 0.4},
        "2021-05-14": {"A": 0.2, "B": 0.1, "C": 0.2, "D": 0.4},
    }
    analysis = analyze_signal(
        market(_sentiment(signals), _prices()), StrategyParams(), settings=SignalAnalysisSettings(quantiles=2)
    )
    assert analysis.quantiles == 2
    obs = analysis.observations.set_index(["entry_date", "symbol"])["signal_quantile"]
    assert obs.loc[pd.Timestamp("2021-03-31")].to_dict() == {"A": 2, "B": 2, "C": 1, "D": 1}
    assert (obs.loc[pd.Timestamp("2021-04-30")] == 0).all()
    assert obs.loc[pd.Timestamp("2021-05-31")].to_dict() == {"A": 1, "B": 1, "C": 1, "D": 2}
    # June: top {D} +3%, bottom {A, B, C} (1% + 2% - 1%) / 3.
    np.testing.assert_allclose(
        analysis.quantile_returns.to_numpy(),
        [[-0.025, 0.075], [math.nan, math.nan], [0.02 / 3, 0.03]],
        atol=1e-12,
    )
    np.testing.assert_allclose(analysis.periods["spread"], [0.10, math.nan, 0.03 - 0.02 / 3], atol=1e-12)
    assert analysis.quantile_summary["mean_count"].tolist() == [2.5, 1.5]
    assert analysis.quantile_note == (
        "1 period(s) are left out of the quantile statistics (no quantile returns, spread or top-quantile "
        "turnover for them): in 1 of 3 period(s) the signal's equal values leave no way to form 2 "
        "quantiles without splitting a tie or leaving a quantile empty (pandas qcut's rule, which "
        "alphalens uses: equal values are never split between quantiles; a signal constant within the "
        "period has no quantiles)."
    )


def test_too_few_symbols_in_every_period_form_no_quantiles_and_say_how_many() -> None:
    """5 quantiles requested, 4 symbols in every period: every period is left out by its
    own count (Q is not reduced to a count taken over all periods), and the note says to
    choose fewer. Before, Q was reduced to the median count, 4."""
    analysis = analyze_signal(_hand_market(), StrategyParams())
    assert analysis.quantiles_requested == 5
    assert analysis.quantiles == 0
    assert analysis.quantile_note == (
        "5 quantiles requested, none formed: no period has 5 eligible, holdable symbols "
        "(the most is 4); choose 4 quantiles or fewer."
    )
    assert analysis.quantile_note in analysis.warnings
    assert list(analysis.quantile_returns.columns) == []
    assert analysis.periods["spread"].isna().all() and analysis.periods["top_turnover"].isna().all()
    assert (analysis.observations["signal_quantile"] == 0).all()
    # Choosing 4: one symbol per quantile, the quantile returns are the symbols' own returns.
    four = analyze_signal(_hand_market(), StrategyParams(), settings=SignalAnalysisSettings(quantiles=4))
    assert four.quantiles == 4 and four.quantile_note is None
    assert list(four.quantile_returns.columns) == [1, 2, 3, 4]
    np.testing.assert_allclose(four.quantile_returns.iloc[0], [0.0, -0.05, 0.05, 0.10])


def test_symbol_whose_prices_end_inside_the_period_is_cash_at_its_last_close() -> None:
    # D's last close is 2021-06-01 at 104; its June forward return is 104 / P(05-31) - 1.
    analysis = analyze_signal(_hand_market(last_close_d=104.0), StrategyParams())
    obs = analysis.observations.set_index(["entry_date", "symbol"])
    p_may31 = 100.0 * 1.0 * 1.03
    assert obs.loc[(pd.Timestamp("2021-05-31"), "D"), "forward_return"] == pytest.approx(104.0 / p_may31 - 1)


def test_thresholds_decide_eligibility() -> None:
    # min_comments 50 keeps only rows with comments > 50 (ratio > 0.25 at 200 likes).
    analysis = analyze_signal(_hand_market(), StrategyParams(min_comments=50))
    np.testing.assert_array_equal(analysis.periods["n_eligible"], [2, 2, 2])
    assert analysis.periods["ic"].isna().all()  # fewer than 3 observations
    assert any("fewer than 3" in w for w in analysis.warnings)


def test_no_period_gives_an_empty_analysis_with_a_warning() -> None:
    analysis = analyze_signal(_hand_market(), StrategyParams(min_likes=1e6))
    assert len(analysis.periods) == 0 and len(analysis.observations) == 0
    assert math.isnan(analysis.ic_summary["mean_ic"])
    assert any("No holding period" in w for w in analysis.warnings)


@pytest.mark.parametrize(
    "changes",
    [
        {"quantiles": 1},
        {"quantiles": 21},
        {"horizons": 0},
        {"rolling_window": 1},
        {"min_symbols": 2},
        {"quantiles": 2.5},
    ],
)
def test_settings_are_validated(changes: dict) -> None:
    with pytest.raises(ParameterError):
        SignalAnalysisSettings(**changes)


def test_settings_are_frozen_and_keyword_only() -> None:
    with pytest.raises(TypeError):
        SignalAnalysisSettings(5)  # type: ignore[misc]
    s = SignalAnalysisSettings()
    with pytest.raises(AttributeError):
        s.quantiles = 3  # type: ignore[misc]


# ----- the backtest's calendar and accounting --------------------------------------------


@pytest.fixture(scope="module")
def random_data() -> engine.MarketData:
    return random_market(seed=3, n_symbols=30)


@pytest.mark.parametrize(
    "params",
    [
        StrategyParams(),
        StrategyParams(rebalance="weekly", lag_days=2),
        StrategyParams(rebalance="quarterly", signal="sentiment", signal_transform="change"),
        StrategyParams(start=pd.Timestamp("2020-06-10").date(), end=pd.Timestamp("2021-09-15").date()),
    ],
)
def test_periods_and_returns_follow_the_backtest(
    random_data: engine.MarketData, params: StrategyParams
) -> None:
    """Same entry dates as the backtest's periods table; a top-1 backtest without costs
    earns, per complete period, the forward return of the highest-signal observation."""
    prepared = prepare(random_data)
    analysis = analyze_signal(prepared, params)
    result = run_prepared(prepared, params.replace(top_n=1, weighting="equal", cost_bps=0.0))
    backtest_periods = result.periods
    assert len(analysis.periods) == len(backtest_periods)
    np.testing.assert_array_equal(analysis.periods["entry_date"], backtest_periods["entry_date"])
    np.testing.assert_array_equal(analysis.periods["formation_end"], backtest_periods["formation_end"])
    np.testing.assert_array_equal(analysis.periods["n_eligible"], backtest_periods["n_eligible"])
    daily = result.returns["portfolio"]
    obs = analysis.observations
    for k, row in enumerate(backtest_periods.itertuples()):
        inside = (daily.index >= row.period_start) & (daily.index <= row.period_end)
        earned = float(np.prod(1.0 + daily[inside].to_numpy()) - 1.0)
        held = result.holdings[result.holdings["period_start"] == row.period_start]
        period_obs = obs[obs["entry_date"] == analysis.periods["entry_date"].iloc[k]]
        if not analysis.periods["complete"].iloc[k]:  # the data end inside it: no forward return
            assert k == len(backtest_periods) - 1 and period_obs["forward_return"].isna().all()
            continue
        if held.empty:
            assert period_obs.empty or earned == pytest.approx(0.0)
            continue
        symbol = held["symbol"].iloc[0]
        assert period_obs.sort_values("signal", ascending=False)["symbol"].iloc[0] == symbol
        assert period_obs.set_index("symbol").loc[symbol, "forward_return"] == pytest.approx(
            earned, abs=1e-12
        )
    # The observations of a period are exactly what eligible_symbols_by_period gives.
    members = engine.eligible_symbols_by_period(prepared, params)
    counts = [len(m) for _, m in members]
    np.testing.assert_array_equal(analysis.periods["n_observations"], counts)


def test_matches_alphalens_where_the_conventions_coincide(random_data: engine.MarketData) -> None:
    """alphalens-reloaded with factor = the signal on the entry dates, forward returns =
    the period returns, 5 quantiles by qcut: same IC, quantile labels, quantile returns,
    top-quantile turnover; its spread is (top - bottom) / 2."""
    import alphalens.performance as ap
    import alphalens.utils as au

    for rebalance in ("monthly", "weekly"):
        analysis = analyze_signal(random_data, StrategyParams(rebalance=rebalance))
        # The data end on an entry close (2021-12-31): that period has no forward return
        # yet, so it is compared on its own (all NaN) and left out of alphalens' input.
        known = analysis.periods["entry_date"] < random_data.prices.index[-1]
        assert not known.iloc[-1] and known.iloc[:-1].all()
        last = analysis.periods.iloc[-1]
        assert np.isnan(last["ic"]) and np.isnan(last["spread"])
        assert analysis.quantile_returns.iloc[-1].isna().all()
        obs = analysis.observations[analysis.observations["forward_return"].notna()]
        index = pd.MultiIndex.from_arrays([obs["entry_date"], obs["symbol"]], names=["date", "asset"])
        factor = pd.Series(obs["signal"].to_numpy(), index=index)
        forward = pd.DataFrame({"1D": obs["forward_return"].to_numpy()}, index=index)
        factor_data = au.get_clean_factor(factor, forward, quantiles=5, max_loss=0.0)
        assert analysis.quantiles == 5
        np.testing.assert_array_equal(
            factor_data["factor_quantile"].to_numpy(), obs["signal_quantile"].to_numpy()
        )
        periods = analysis.periods[known.to_numpy()]
        ic = ap.factor_information_coefficient(factor_data)["1D"]
        np.testing.assert_allclose(periods["ic"], ic.to_numpy(), atol=1e-12)
        means, _ = ap.mean_return_by_quantile(factor_data, by_date=True, demeaned=False)
        np.testing.assert_allclose(
            analysis.quantile_returns.to_numpy()[:-1], means["1D"].unstack(0).to_numpy(), atol=1e-15
        )
        spread, _ = ap.compute_mean_returns_spread(means, 5, 1)
        np.testing.assert_allclose(periods["spread"], 2 * spread["1D"].to_numpy(), atol=1e-15)
        turnover = ap.quantile_turnover(factor_data["factor_quantile"], 5, period=1)
        np.testing.assert_allclose(periods["top_turnover"], turnover.to_numpy(), atol=1e-15)


def test_tied_signals_match_alphalens(random_data: engine.MarketData) -> None:
    """Breaker pass 12, F6: a signal with many ties (the weekly median of whole post
    counts, 10 quantiles of about 30 symbols) gets alphalens' labels wherever alphalens
    forms all 10 quantiles; a period the engine leaves out is one alphalens drops (qcut
    refuses its equal edges) or forms with an empty quantile. Before, ties were split by
    the symbols' order."""
    import alphalens.utils as au

    analysis = analyze_signal(
        random_data,
        StrategyParams(rebalance="weekly", signal="posts", aggregation="median"),
        settings=SignalAnalysisSettings(quantiles=10),
    )
    obs = analysis.observations[analysis.observations["forward_return"].notna()]
    index = pd.MultiIndex.from_arrays([obs["entry_date"], obs["symbol"]], names=["date", "asset"])
    factor = pd.Series(obs["signal"].to_numpy(), index=index)
    forward = pd.DataFrame({"1D": obs["forward_return"].to_numpy()}, index=index)
    theirs = au.get_clean_factor(factor, forward, quantiles=10, max_loss=1.0)["factor_quantile"]
    mine = pd.Series(obs["signal_quantile"].to_numpy(), index=index)
    formed = left_out = 0
    for date, labels in mine.groupby(level="date"):
        other = theirs[theirs.index.get_level_values("date") == date]
        if (labels > 0).all():
            formed += 1
            np.testing.assert_array_equal(labels.to_numpy(), other.reindex(labels.index).to_numpy())
        else:
            left_out += 1
            assert (labels == 0).all()
            assert other.empty or other.nunique() < 10
    assert formed >= 10 and left_out >= 10  # both kinds occur in these data
    # The note counts them, of the complete periods (the incomplete last one is left out
    # before, as alphalens drops it, and the horizon note counts it).
    assert analysis.periods["complete"].sum() == len(analysis.periods) - 1
    assert analysis.horizon_note is not None
    assert f"in {left_out} of {len(analysis.periods) - 1} period(s)" in (analysis.quantile_note or "")


def test_engine_exports_the_signal_analysis() -> None:
    assert engine.analyze_signal is analyze_signal
    assert "SignalAnalysisSettings" in engine.__all__


# ----- building blocks, property-based ---------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=60),
    q=st.integers(min_value=2, max_value=10),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_quantile_labels_are_qcut_of_the_values(n: int, q: int, seed: int) -> None:
    """The rule is pandas.qcut's (which alphalens uses) in exact arithmetic: rank r is in
    the first quantile j with r - 1 <= (n - 1) j / Q. pandas computes the edges in floats,
    so where an edge falls exactly on a value ((n - 1) j / Q whole) rounding may move it;
    elsewhere the two agree. Quantiles are monotone in the signal, labels in 1..Q."""
    if n < q:
        return
    values = np.random.default_rng(seed).permutation(n).astype(float) * 0.37 + 1.0
    labels = quantile_labels(values, q)
    assert labels is not None  # distinct values always form Q quantiles
    rank = np.argsort(np.argsort(values)) + 1
    exact = [next(j for j in range(1, q + 1) if Fraction(r - 1) <= Fraction((n - 1) * j, q)) for r in rank]
    np.testing.assert_array_equal(labels, exact)
    if all((n - 1) * j % q for j in range(1, q)):
        expected = pd.qcut(pd.Series(values), q, labels=False).to_numpy() + 1
        np.testing.assert_array_equal(labels, expected)
    order = np.argsort(values)
    assert (np.diff(labels[order]) >= 0).all()
    assert labels.min() == 1 and labels.max() == q


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=40),
    q=st.integers(min_value=2, max_value=8),
    distinct=st.integers(min_value=1, max_value=12),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_quantile_labels_never_split_equal_values(n: int, q: int, distinct: int, seed: int) -> None:
    """Breaker pass 12, F6: with ties (few distinct values) the labels are pandas.qcut's
    of the values: equal values share a quantile and every quantile has a member; where
    qcut refuses (equal edges) or leaves a quantile empty there are no labels (None), so
    the period is left out; never a split of a tie by the symbols' order."""
    if n < q:
        return
    values = np.random.default_rng(seed).integers(0, distinct, n).astype(float) * 0.37
    labels = quantile_labels(values, q)
    try:
        expected = pd.qcut(pd.Series(values), q, labels=False).to_numpy() + 1
    except ValueError:  # "Bin edges must be unique"
        expected = None
    if expected is None or np.unique(expected).size < q or np.unique(values).size < q:
        assert labels is None
        return
    assert labels is not None
    if all((n - 1) * j % q for j in range(1, q)):  # no edge on a value: pandas' floats exact
        np.testing.assert_array_equal(labels, expected)
    for value in np.unique(values):
        assert np.unique(labels[values == value]).size == 1
    assert sorted(np.unique(labels)) == list(range(1, q + 1))
    order = np.argsort(values, kind="stable")
    assert (np.diff(labels[order]) >= 0).all()


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(min_value=1, max_value=6),
    cols=st.integers(min_value=3, max_value=12),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_rank_ic_equals_scipy_spearman(rows: int, cols: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    signal = rng.integers(0, 4, (rows, cols)).astype(float)  # ties on purpose
    returns = rng.normal(0, 1, (rows, cols))
    signal[rng.random((rows, cols)) < 0.2] = np.nan
    ic = rank_ic(signal, returns, min_symbols=3)
    for i in range(rows):
        ok = np.isfinite(signal[i])
        if ok.sum() < 3 or np.unique(signal[i, ok]).size < 2:
            assert math.isnan(ic[i])
        else:
            assert ic[i] == pytest.approx(stats.spearmanr(signal[i, ok], returns[i, ok]).statistic, abs=1e-12)


def test_ic_statistics_of_a_hand_series() -> None:
    out = ic_statistics([0.1, math.nan, 0.3, -0.1])
    assert out["n_periods"] == 3
    assert out["mean_ic"] == pytest.approx(0.1)
    assert out["ic_std"] == pytest.approx(0.2)
    assert out["t_stat"] == pytest.approx(0.1 / 0.2 * math.sqrt(3))
    assert out["share_positive"] == pytest.approx(2 / 3)


@settings(max_examples=40, deadline=None)
@given(
    cols=st.integers(min_value=3, max_value=15),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_rank_ic_depends_only_on_the_order_of_the_signal(cols: int, seed: int) -> None:
    """A strictly increasing transform of the signal keeps every IC; negating it flips the sign."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(0, 1, (4, cols))
    returns = rng.normal(0, 0.05, (4, cols))
    ic = rank_ic(signal, returns)
    np.testing.assert_allclose(rank_ic(np.exp(3 * signal) + 7, returns), ic, atol=1e-12)
    np.testing.assert_allclose(rank_ic(-signal, returns), -ic, atol=1e-12)


@pytest.mark.parametrize("quantiles", [2, 3, 5, 7])
def test_quantile_portfolios_partition_each_period(random_data: engine.MarketData, quantiles: int) -> None:
    """Every observation of an analysed period is in exactly one quantile, so the
    count-weighted mean of the quantile returns is the period's mean forward return."""
    analysis = analyze_signal(
        random_data, StrategyParams(rebalance="weekly"), settings=SignalAnalysisSettings(quantiles=quantiles)
    )
    obs = analysis.observations
    complete = obs["entry_date"].isin(analysis.periods.loc[analysis.periods["complete"], "entry_date"])
    assert not complete.all()  # the data end inside the last period (or on its entry)
    assert (obs.loc[complete, "signal_quantile"].between(1, quantiles)).all()
    assert (obs.loc[~complete, "signal_quantile"] == 0).all()  # incomplete: left out
    for entry, group in obs.groupby("entry_date"):
        if group["forward_return"].isna().all():  # incomplete: no forward return
            assert analysis.quantile_returns.loc[entry].isna().all()
            continue
        per_quantile = group.groupby("signal_quantile")["forward_return"].agg(["mean", "size"])
        weighted = (per_quantile["mean"] * per_quantile["size"]).sum() / per_quantile["size"].sum()
        assert weighted == pytest.approx(group["forward_return"].mean(), abs=1e-14)
        np.testing.assert_allclose(
            analysis.quantile_returns.loc[entry, per_quantile.index].to_numpy(),
            per_quantile["mean"].to_numpy(),
        )
        # Higher quantiles hold higher signals.
        bounds = group.groupby("signal_quantile")["signal"].agg(["min", "max"])
        assert (bounds["max"].to_numpy()[:-1] <= bounds["min"].to_numpy()[1:]).all()


def test_export_extras_name_the_analysis() -> None:
    data = _hand_market()
    analysis = analyze_signal(data, StrategyParams())
    extras = analysis.export_extras()
    assert analysis.manifest.fingerprint == data.fingerprint
    assert analysis.manifest.params == StrategyParams().to_dict()
    assert extras["quantiles"] == 0 and extras["quantiles_requested"] == 5  # 4 symbols a period
    assert extras["quantile_note"] == analysis.quantile_note
    assert "choose 4 quantiles or fewer" in extras["quantile_note"]
    assert extras["settings"]["quantiles"] == 5 and extras["settings"]["horizons"] == 3


def test_data_of_the_wrong_kind_is_refused_in_one_sentence() -> None:
    with pytest.raises(ParameterError, match="MarketData"):
        analyze_signal(pd.DataFrame(), StrategyParams())  # type: ignore[arg-type]


def test_periods_without_holdable_symbols_form_no_quantiles() -> None:
    # Every symbol's prices start after the first entry: nothing is holdable in April.
    prices = _prices()
    for symbol in "ABCD":
        prices.loc[: pd.Timestamp("2021-04-01"), symbol] = math.nan
    analysis = analyze_signal(
        market(_sentiment(), prices), StrategyParams(), settings=SignalAnalysisSettings(quantiles=4)
    )
    assert list(analysis.periods["n_observations"]) == [0, 4, 4]
    assert math.isnan(analysis.periods["ic"].iloc[0])
    assert analysis.quantiles == 4
    assert analysis.quantile_returns.iloc[0].isna().all()
    assert analysis.quantile_returns.iloc[1:].notna().all().all()
    assert analysis.quantile_note == (
        "1 of 3 period(s) have fewer than 4 eligible, holdable symbols (one a quantile) and are left "
        "out of the quantile statistics: no quantile returns, spread or top-quantile turnover for them."
    )


def test_a_signal_whose_entry_is_after_the_last_price_is_named_as_the_backtest_names_it() -> None:
    """Q1 2022 sentiment, prices to 2022-03-25: the quarter's entry close is not in the data.
    The analysis gives the backtest's reason (one rule), not 'no sentiment row passes'."""
    sentiment, prices = quarter_cut_short()
    analysis = analyze_signal(market(sentiment, prices), StrategyParams(top_n=1, rebalance="quarterly"))
    assert len(analysis.periods) == 0
    assert analysis.warnings == (UNTRADED_Q1,)


@pytest.mark.parametrize("cut", ["prices", "end"])
def test_an_incomplete_last_period_is_left_out_and_said(cut: str) -> None:
    """Breaker pass 12, F8: the prices (or ``end``) stop on 2021-06-01, one day into the
    period bought at the 2021-05-31 close (its next entry close is 2021-06-30). Its 1-day
    "forward return" was scored as a full period: IC [0.8, 0.4, -0.6] (mean 0.2 over 3), a
    one-day spread among monthly ones, no note, and ``next_entry_date`` 2021-06-01 where
    no entry happens. Now it has no forward return (as alphalens' compute_forward_returns
    leaves an incomplete horizon NaN), no IC, labels or spread, and a note says so."""
    prices = _prices()
    # The stub's returns: A -3%, B +1%, C -1%, D +2% (ranks 1 3 2 4 against May's signal
    # ranks 3 1 4 2: IC 1 - 16/10 = -0.6).
    prices.loc[pd.Timestamp("2021-06-01"), list("ABCD")] = prices.loc[
        pd.Timestamp("2021-05-31"), list("ABCD")
    ].to_numpy() * [0.97, 1.01, 0.99, 1.02]
    params = StrategyParams()
    if cut == "prices":
        prices = prices.loc[: pd.Timestamp("2021-06-01")]
        which = "the last price day"
    else:
        params = StrategyParams(end=pd.Timestamp("2021-06-01").date())
        which = "the chosen end"
    analysis = analyze_signal(
        market(_sentiment(), prices), params, settings=SignalAnalysisSettings(quantiles=2, horizons=2)
    )
    periods = analysis.periods
    np.testing.assert_allclose(periods["ic"], [0.8, 0.4, math.nan], atol=1e-12)
    assert analysis.ic_summary["n_periods"] == 2
    assert analysis.ic_summary["mean_ic"] == pytest.approx(0.6)
    # Horizon 2: April's signal against May's returns only (May's against June's stub is left out).
    decay = analysis.ic_decay.set_index("horizon")
    assert decay.loc[2, "n_periods"] == 1 and decay.loc[2, "mean_ic"] == pytest.approx(-0.4)
    assert analysis.spread_summary["n_periods"] == 2
    assert analysis.quantile_summary["n_periods"].tolist() == [2, 2]
    assert analysis.quantile_returns.iloc[-1].isna().all()
    assert periods["complete"].tolist() == [True, True, False]
    assert periods["next_entry_date"].dt.strftime("%Y-%m-%d").tolist()[:2] == ["2021-04-30", "2021-05-31"]
    assert pd.isna(periods["next_entry_date"].iloc[-1])
    assert periods["n_observations"].tolist() == [4, 4, 4]  # its symbols are known
    last = analysis.observations[analysis.observations["entry_date"] == pd.Timestamp("2021-05-31")]
    assert last["forward_return"].isna().all() and (last["signal_quantile"] == 0).all()
    assert math.isnan(periods["spread"].iloc[-1]) and math.isnan(periods["top_turnover"].iloc[-1])
    assert analysis.horizon_note == (
        f"The period bought at the 2021-05-31 close has 1 of its return days in the data (to 2021-06-01, "
        f"{which}; its next entry close is after it): its forward return is not a full holding period, "
        "so it is left out of the IC, the IC decay and the quantiles (no labels, quantile returns, "
        "spread or top-quantile turnover)."
    )
    assert analysis.horizon_note in analysis.warnings
    assert analysis.export_extras()["horizon_note"] == analysis.horizon_note
    assert analysis.quantile_note is None  # the incomplete period is not a quantile left-out


def test_complete_periods_have_no_horizon_note() -> None:
    analysis = analyze_signal(_hand_market(), StrategyParams())
    assert analysis.periods["complete"].all() and analysis.horizon_note is None
    assert "horizon_note" not in analysis.export_extras()


def test_an_entry_at_the_last_day_has_no_forward_return_yet() -> None:
    """Calendar edge: the prices end on Thursday 2022-03-31, the March entry close. That
    period is planned (the backtest reports it) but has no holding day: its forward returns
    are missing, not 0, so the quantile and spread statistics use the two real periods
    (Feb, Mar). Before, a third spread of 0.0 entered the mean and the t-statistic."""
    days = [d.date().isoformat() for d in pd.bdate_range("2022-01-03", "2022-03-31")]
    n = len(days)
    prices = price_frame(
        days,
        {
            "AAA": np.linspace(10, 13, n),
            "BBB": np.linspace(20, 21, n),
            "CCC": np.linspace(30, 27, n),
            "QQQ": np.full(n, 100.0),
        },
    )
    rows = [
        (d.date().isoformat(), s, c, 100)
        for d in pd.date_range("2022-01-01", "2022-03-31")
        for s, c in (("AAA", 60), ("BBB", 40), ("CCC", 20))
    ]
    analysis = analyze_signal(
        market(sentiment_frame(rows), prices),
        StrategyParams(top_n=1),
        settings=SignalAnalysisSettings(quantiles=3),
    )
    assert list(analysis.periods["entry_date"].dt.strftime("%Y-%m-%d")) == [
        "2022-01-31",
        "2022-02-28",
        "2022-03-31",
    ]
    assert analysis.periods["n_observations"].tolist() == [3, 3, 3]  # its symbols are known
    last = analysis.observations[analysis.observations["entry_date"] == pd.Timestamp("2022-03-31")]
    assert len(last) == 3 and last["forward_return"].isna().all()
    assert np.isnan(analysis.periods["spread"].iloc[-1])
    close = prices.loc[["2022-01-31", "2022-02-28", "2022-03-31"]].to_numpy()
    forward = close[1:] / close[:-1] - 1  # Feb and Mar holding periods
    spreads = forward[:, 0] - forward[:, 2]  # top quantile AAA minus bottom CCC
    assert analysis.spread_summary["n_periods"] == 2
    assert analysis.spread_summary["mean"] == pytest.approx(spreads.mean(), rel=1e-12)
    assert analysis.quantile_summary["n_periods"].tolist() == [2, 2, 2]
    assert analysis.quantile_summary["mean_return"].iloc[-1] == pytest.approx(forward[:, 0].mean(), rel=1e-12)
    assert analysis.periods["complete"].tolist() == [True, True, False]
    assert analysis.horizon_note is not None and analysis.horizon_note.startswith(
        "The period bought at the 2022-03-31 close has none of its return days in the data (it is "
        "bought at the last price day): its forward return is not a full holding period"
    )


def test_a_constant_spread_has_no_t_statistic() -> None:
    """constant-return-series kind in the signal analysis: AAA = 100 x 1.002^t, BBB =
    100 x 1.001^t, CCC = 100, ranked AAA > BBB > CCC every week. The weekly top-minus-
    bottom spread is 1.002^5 - 1 every week, up to rounding (0.010040080080031766 ..
    0.01004008008003221), so its std was 1.2e-16 and its t-statistic 2.4e14; now the std
    is 0 (negligible_dispersion) and the t-statistic undefined. The IC is 1 every week:
    std 0, IC IR undefined."""
    days = pd.bdate_range("2022-01-07", "2022-03-04")
    t = np.arange(len(days))
    prices = price_frame(
        [d.date().isoformat() for d in days],
        {
            "AAA": 100 * 1.002**t,
            "BBB": 100 * 1.001**t,
            "CCC": np.full(len(days), 100.0),
            "QQQ": 100 * 1.001**t,
        },
    )
    rows = [
        (d.date().isoformat(), s, c, 100.0)
        for d in pd.date_range("2022-01-01", "2022-03-04")
        for s, c in (("AAA", 300), ("BBB", 200), ("CCC", 100))
    ]
    analysis = engine.analyze_signal(
        market(sentiment_frame(rows), prices),
        StrategyParams(rebalance="weekly", min_likes=0.0, min_comments=0.0),
        settings=SignalAnalysisSettings(quantiles=3),
    )
    spread = analysis.spread_summary
    assert spread["n_periods"] == 8
    assert spread["mean"] == pytest.approx(1.002**5 - 1, rel=1e-12)
    assert spread["std"] == 0.0 and math.isnan(spread["t_stat"])
    assert analysis.ic_summary["mean_ic"] == 1.0 and analysis.ic_summary["ic_std"] == 0.0
    assert math.isnan(analysis.ic_summary["ic_ir"]) and math.isnan(analysis.ic_summary["t_stat"])


def test_ic_statistics_of_ics_equal_up_to_rounding() -> None:
    """ICs 0.5, 0.5000000000000001, 0.5 (one Spearman value reached through different n):
    std 0, IC IR and t undefined (was 6.4e15 and 1.1e16)."""
    stats_ = ic_statistics([0.5, 0.5000000000000001, 0.5])
    assert stats_["ic_std"] == 0.0 and math.isnan(stats_["ic_ir"]) and math.isnan(stats_["t_stat"])
    real = ic_statistics([0.5, 0.4, 0.6])
    assert real["ic_ir"] == pytest.approx(0.5 / 0.1)


def test_forward_returns_equal_up_to_rounding_have_no_rank_ic() -> None:
    """constant-return-series kind, across symbols: six symbols growing exactly 0.1% a
    day, quoted at scales 1e-8 .. 1e8, have one forward return; read from the closes it
    is 0.02121133600540115 for five of them and 0.021211336005400927 for EEE (rounding).
    The rank IC ranked that residue: a mean IC of 0.18 over 8 monthly periods, an IC of
    a signal against returns that do not differ. Returns (and signals) equal up to
    rounding are one value (``engine.dispersion.TIE_RTOL``, as the ranking snaps
    signals), so the IC is undefined (NaN) in every period."""
    ret = np.array([[0.02121133600540115] * 4 + [0.021211336005400927, 0.02121133600540115]])
    assert math.isnan(rank_ic(np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]), ret)[0])
    # one symbol really apart: the others tie, the IC is the Spearman of the tied ranks
    ret2 = ret.copy()
    ret2[0, 5] = 0.03
    expected = stats.spearmanr([1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 0, 1]).statistic
    assert rank_ic(np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]), ret2)[0] == pytest.approx(expected, abs=1e-12)
    # signals equal up to rounding tie too
    sig = np.array([[0.2, 0.20000000000000004, 0.19999999999999998, 0.2]])
    assert math.isnan(rank_ic(sig, np.array([[0.01, 0.02, 0.03, 0.04]]))[0])

    days = pd.bdate_range("2021-01-01", "2021-12-31")
    t = np.arange(len(days))
    scales = {"AAA": 1e-8, "BBB": 3.7, "CCC": 100.0, "DDD": 1e8, "EEE": 0.37, "FFF": 12345.678}
    columns = {s: np.array([scale * 1.001**k for k in t]) for s, scale in scales.items()}
    columns["QQQ"] = 100.0 * 1.0005**t
    prices = price_frame([d.date().isoformat() for d in days], columns)
    rng = np.random.default_rng(3)
    rows = [
        (d.date().isoformat(), s, float(rng.integers(1, 300)), 1000.0)
        for d in pd.date_range("2021-01-01", "2021-12-31")
        for s in scales
    ]
    analysis = engine.analyze_signal(
        market(sentiment_frame(rows), prices),
        StrategyParams(min_likes=0.0, min_comments=0.0),
        settings=SignalAnalysisSettings(quantiles=3, horizons=2),
    )
    assert analysis.ic_summary["n_periods"] == 0.0
    assert math.isnan(analysis.ic_summary["mean_ic"]) and math.isnan(analysis.ic_summary["t_stat"])


def _late_listing_inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Breaker pass 10, F2: six symbols, monthly; EEE and FFF have sentiment only from May,
    so the periods bought 2021-02-01, 03-01, 03-31 and 04-30 have 4 observations, the later
    ones 6. Deterministic prices and engagement (comments 11..300, likes 21..2920)."""
    days = pd.bdate_range("2021-01-04", "2021-12-31")
    t = np.arange(len(days))
    symbols = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
    columns = {
        s: 20.0 * np.cumprod(1.0 + 0.015 * np.sin(0.37 * (j + 1) * t + j)) for j, s in enumerate(symbols)
    }
    columns["QQQ"] = 100.0 * 1.0003**t
    prices = price_frame([d.date().isoformat() for d in days], columns)
    rows = [
        (d.date().isoformat(), s, 11 + (i * 7 + j * 13) % 290, 21 + (i * 11 + j * 5) % 2900)
        for i, d in enumerate(pd.date_range("2021-01-01", "2021-11-30"))
        for j, s in enumerate(symbols)
        if s not in ("EEE", "FFF") or d >= pd.Timestamp("2021-05-01")
    ]
    return sentiment_frame(rows), prices


def test_quantiles_of_finished_periods_do_not_change_when_later_data_are_cut() -> None:
    """Breaker pass 10, F2 (look-ahead): Q was the requested 5 reduced to the median number
    of observations over ALL periods. Full data: median 6, Q = 5, and the three finished
    4-symbol periods were left out (spread NaN); cut after 2021-05-10: median 4, Q = 4, and
    the same finished periods got quantile labels, returns, spreads and turnover. Now Q = 5
    in every period and a period is left out by its own count: the same in both."""
    sentiment, prices = _late_listing_inputs()
    options = SignalAnalysisSettings(quantiles=5, horizons=1)
    full = analyze_signal(market(sentiment, prices), StrategyParams(), settings=options)
    day = pd.Timestamp("2021-05-10")
    part = analyze_signal(
        market(sentiment[sentiment["date"] <= day], prices.loc[:day]), StrategyParams(), settings=options
    )
    done = full.periods[full.periods["next_entry_date"] <= day]
    assert done["entry_date"].dt.strftime("%Y-%m-%d").tolist() == ["2021-02-01", "2021-03-01", "2021-03-31"]
    assert (done["n_observations"] == 4).all()
    mine = part.periods.iloc[: len(done)]
    for column in ("ic", "spread", "top_turnover"):
        np.testing.assert_array_equal(done[column].to_numpy(), mine[column].to_numpy())
    assert done["spread"].isna().all()  # 4 symbols, 5 quantiles: left out by their own count
    entries = done["entry_date"]
    q = list(range(1, 6))
    np.testing.assert_array_equal(
        full.quantile_returns.reindex(columns=q).loc[entries].to_numpy(),
        part.quantile_returns.reindex(columns=q).loc[entries].to_numpy(),
    )
    labels_full = full.observations[full.observations["entry_date"].isin(entries)]["signal_quantile"]
    labels_part = part.observations[part.observations["entry_date"].isin(entries)]["signal_quantile"]
    np.testing.assert_array_equal(labels_full.to_numpy(), labels_part.to_numpy())
    # The full data form 5 quantiles from June (6 symbols); the cut data none, and say why.
    assert full.quantiles == 5 and full.periods["spread"].iloc[4:].notna().sum() >= 6
    assert full.quantile_note is not None and full.quantile_note.startswith(
        "4 of 11 period(s) have fewer than 5"
    )
    assert part.quantiles == 0
    assert part.quantile_note == (
        "5 quantiles requested, none formed: no period has 5 eligible, holdable symbols "
        "(the most is 4); choose 4 quantiles or fewer."
    )


@pytest.mark.parametrize(
    ("n_obs", "requested", "formed", "analysed", "note"),
    [
        ([4, 6, 3], 4, 4, [True, True, False], "1 of 3 period(s) have fewer than 4 eligible"),
        ([4, 6, 6], 4, 4, [True, True, True], None),
        (
            [3, 2, 0],
            5,
            0,
            [False] * 3,
            "no period has 5 eligible, holdable symbols (the most is 3); choose 3",
        ),
        ([1, 0], 2, 0, [False] * 2, "no period has more than 1 eligible, holdable symbol and quantiles need"),
        ([0, 0], 2, 0, [False] * 2, "No period has an eligible, holdable symbol"),
        ([], 5, 0, [], None),
        # Breaker pass 12, F6: a tie on a quantile edge leaves the period out by its own data.
        ([4, 6, 6], 4, 4, [True, False, True], "in 1 of 3 period(s) the signal's equal values leave no way"),
        ([4, 2, 6], 4, 4, [True, False, False], "1 of 3 period(s) have fewer than 4 eligible, holdable"),
        ([4, 4], 2, 0, [False, False], "2 quantiles requested, none formed: in each of the 2 period(s)"),
        ([4, 1], 2, 0, [False, False], "; the other 1 have fewer than 2 eligible"),
    ],
)
def test_quantile_plan_leaves_out_each_period_by_its_own_count(
    n_obs: list[int], requested: int, formed: int, analysed: list[bool], note: str | None
) -> None:
    from engine.research.signal_analysis import _quantile_plan

    counts = np.array(n_obs, dtype=np.int64)
    # The periods with enough symbols that are not analysed have a tie on an edge.
    ties = (counts >= requested) & ~np.array(analysed, dtype=bool)
    used, said, mask = _quantile_plan(counts, requested, ties)
    assert used == formed and mask.tolist() == analysed
    assert said is None if note is None else note in (said or "")
    # A period's verdict is its own: dropping the later periods keeps the earlier ones'.
    for k in range(len(n_obs)):
        assert _quantile_plan(counts[: k + 1], requested, ties[: k + 1])[2].tolist() == analysed[: k + 1]
