"""Robustness report: bootstrap intervals, the random-portfolio baseline and the report
(the statistics it uses are tested in tests/engine/analytics/test_statistics.py)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

import engine
from engine import DemoProvider, SerialExecutor, compute_metrics, load_market_data, prepare, run_prepared
from engine.research import robustness as rb
from tests.engine._frames import market, price_frame, sentiment_frame


@pytest.fixture(scope="module")
def data() -> engine.MarketData:
    return load_market_data(DemoProvider(seed=5, n_symbols=30, years=2), benchmark="QQQ")


def test_bootstrap_intervals_are_seeded_and_bracket_the_estimate() -> None:
    rng = np.random.default_rng(7)
    bench = rng.normal(0.0004, 0.01, 750)
    port = 0.8 * bench + rng.normal(0.0003, 0.006, 750)
    sharpe, excess = rb.bootstrap_intervals(port, bench, n_boot=400, seed=3)
    again = rb.bootstrap_intervals(port, bench, n_boot=400, seed=3)
    assert (sharpe, excess) == again
    assert sharpe.estimate == pytest.approx(compute_metrics(port)["sharpe"], rel=1e-12)

    def growth(r):
        return np.prod(1 + r) ** (252 / r.size) - 1

    assert excess.estimate == pytest.approx(growth(port) - growth(bench), rel=1e-10)
    assert sharpe.low < sharpe.estimate < sharpe.high and excess.low < excess.estimate < excess.high
    assert sharpe.level == 0.95


def test_paired_resampling_of_identical_series_has_no_excess() -> None:
    r = np.random.default_rng(0).normal(0.001, 0.01, 300)
    _, excess = rb.bootstrap_intervals(r, r.copy(), n_boot=200)
    assert (excess.estimate, excess.low, excess.high) == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)


# ----- random portfolios -----------------------------------------------------------------


class ReversedExecutor:
    """Runs the items last-first (like an out-of-order cluster) but returns them in order."""

    name = "reversed"
    parallelism = 1

    def for_work(self, serial_seconds: float) -> Any:
        return self

    def map(
        self, fn: Callable[[Any, Any], Any], items: Sequence[Any], *, shared: Any = None, **_: Any
    ) -> list[Any]:
        return [fn(shared, item) for item in reversed(items)][::-1]


def test_random_draws_do_not_depend_on_the_executor(data: engine.MarketData) -> None:
    prepared = prepare(data)
    params = engine.StrategyParams(top_n=3, min_likes=0.0)
    kwargs: dict[str, Any] = {
        "strategy_sharpe": 0.5,
        "strategy_total_return": 0.1,
        "n_random": 120,
        "seed": 4,
    }
    serial = rb.random_baseline(prepared, params, executor=SerialExecutor(), **kwargs)
    shuffled = rb.random_baseline(prepared, params, executor=ReversedExecutor(), **kwargs)
    assert shuffled.executor == "reversed" and serial.executor == "serial"
    assert serial == dataclasses.replace(shuffled, executor="serial")
    assert serial.n == 120 and len(set(serial.sharpes)) > 100  # really different portfolios


class ChosenByAuto(ReversedExecutor):
    """An executor chosen by ``auto``: ``for_work`` keeps cheap work in-process (as
    ``RayExecutor(may_run_inline=True)`` does before joining Ray), and records the ask."""

    name = "cluster"

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.mapped = 0

    def for_work(self, serial_seconds: float) -> Any:
        self.asked.append(serial_seconds)
        return SerialExecutor() if serial_seconds < 5.0 else self

    def map(self, fn: Callable[[Any, Any], Any], items: Sequence[Any], **kw: Any) -> list[Any]:
        self.mapped += 1
        return super().map(fn, items, **kw)


def test_a_small_baseline_under_auto_stays_in_process_with_the_same_draws(data: engine.MarketData) -> None:
    """The first task's draws are timed here and the rest asked of ``for_work``, as a
    sweep does: a report of half a second went to Ray under ``auto`` and took 6 s."""
    prepared = prepare(data)
    params = engine.StrategyParams(top_n=3, min_likes=0.0)
    kwargs: dict[str, Any] = {
        "strategy_sharpe": 0.5,
        "strategy_total_return": 0.1,
        "n_random": 120,
        "seed": 4,
    }
    auto = ChosenByAuto()
    chosen = rb.random_baseline(prepared, params, executor=auto, **kwargs)
    assert len(auto.asked) == 1 and 0.0 < auto.asked[0] < 5.0 and auto.mapped == 0
    assert chosen == rb.random_baseline(prepared, params, executor=SerialExecutor(), **kwargs)
    report = rb.robustness_report(prepared, params, n_boot=50, n_random=120, executor=ChosenByAuto())
    assert report.executor == "serial"


class RecordingExecutor(ReversedExecutor):
    """Keeps the ``shared`` payload of every map."""

    def __init__(self) -> None:
        self.shared: list[Any] = []

    def map(
        self, fn: Callable[[Any, Any], Any], items: Sequence[Any], *, shared: Any = None, **kw: Any
    ) -> list[Any]:
        self.shared.append(shared)
        return super().map(fn, items, shared=shared, **kw)


def test_the_draws_share_the_prepared_data_set_as_the_sweeps_do(data: engine.MarketData) -> None:
    """The shared payload is the data set's shipped copy itself (the same object every
    time, so a Ray executor puts it in the object store once), not a new tuple per report."""
    prepared = prepare(data)
    executor = RecordingExecutor()
    kwargs: dict[str, Any] = {"strategy_sharpe": 0.5, "strategy_total_return": 0.1, "n_random": 60}
    for top_n in (3, 4):
        rb.random_baseline(prepared, engine.StrategyParams(top_n=top_n), executor=executor, **kwargs)
    assert len(executor.shared) == 2
    assert executor.shared[0] is executor.shared[1] is prepared.for_tasks()


def test_drawing_every_eligible_symbol_is_the_universe_benchmark(data: engine.MarketData) -> None:
    """With top_n above the number of eligible symbols every draw holds all of them:
    exactly the backtest's equal-weight 'universe' series (same eligibility, same accounting).
    So the baseline draws nothing and ranks nothing (breaker pass 12, F3)."""
    prepared = prepare(data)
    params = engine.StrategyParams(top_n=500, min_likes=0.0, cost_bps=10.0)
    universe = run_prepared(prepared, params).universe_metrics
    eligible = [members for _, members in engine.eligible_symbols_by_period(prepared, params)]
    draws = rb._random_draws(prepared.for_tasks(), (params, eligible, 0, 0, 3))
    assert draws[:, 0] == pytest.approx([universe["sharpe"]] * 3, rel=1e-9)
    assert draws[:, 1] == pytest.approx([universe["total_return"]] * 3, rel=1e-9)
    baseline = rb.random_baseline(
        prepared, params, strategy_sharpe=0.0, strategy_total_return=0.0, n_random=3
    )
    assert baseline.n == 0 and baseline.sharpes == () and math.isnan(baseline.percentile)
    assert baseline.n_fixed_periods == baseline.n_periods > 0


def _three_symbols(skip: Sequence[tuple[str, str]] = ()) -> engine.MarketData:
    """AAA, BBB, CCC (seeded random closes) and QQQ, every weekday of 2022's first half;
    one sentiment row per symbol and month January-May, less the (month, symbol) in ``skip``."""
    days = pd.bdate_range("2022-01-03", "2022-06-30")
    rng = np.random.default_rng(12)
    closes = {
        s: 100.0 * np.cumprod(1.0 + rng.normal(0.0005, 0.02, len(days))) for s in ("AAA", "BBB", "CCC", "QQQ")
    }
    prices = price_frame([d.date().isoformat() for d in days], closes)
    rows = [
        (f"2022-{month:02d}-14", symbol, float(rng.integers(20, 200)), 400.0)
        for month in range(1, 6)
        for symbol in ("AAA", "BBB", "CCC")
        if (f"{month:02d}", symbol) not in skip
    ]
    return market(sentiment_frame(rows), prices)


def test_a_baseline_with_one_possible_selection_per_period_ranks_nothing() -> None:
    """Breaker pass 12, F3: top_n 3 of 3 eligible symbols in every period: every random
    draw holds the three, as the strategy does, so the report said 'percentile 50.0,
    p-value 1.000' (50 ties) as if the selection were no better than chance, with no note.
    Now nothing is drawn, the percentiles and p-values are NaN and the note says why."""
    report = engine.robustness_report(
        _three_symbols(), engine.StrategyParams(top_n=3), n_boot=50, n_random=20, seed=4
    )
    random = report.random_portfolios
    assert math.isnan(random.percentile) and math.isnan(random.p_value)
    assert math.isnan(random.total_return_percentile) and math.isnan(random.total_return_p_value)
    assert random.n == 0 and random.sharpes == () and random.total_returns == ()
    assert random.n_periods == 5 and random.n_fixed_periods == 5
    assert math.isfinite(random.strategy_sharpe)
    assert random.note is not None and random.note == report.notes[0]
    assert random.note.startswith("The random-portfolio baseline has one possible selection per period")
    assert "each of the 5 holding period(s) has at most top_n (3) eligible symbols" in random.note
    plain = report.to_dict()["random_portfolios"]
    assert plain["n_fixed_periods"] == 5 and plain["note"] == random.note
    json.dumps(plain)  # NaN stays float; the CLI writes it as null


def test_periods_with_one_possible_selection_are_counted() -> None:
    """Breaker pass 12, F3, in part: CCC has no sentiment in February and April, so two of
    the five periods have 2 eligible symbols for top_n 2 (one possible selection). The
    draws still rank the strategy, and the note counts those periods; with 3 eligible
    symbols in every period there is no note."""
    params = engine.StrategyParams(top_n=2)
    report = engine.robustness_report(
        _three_symbols(skip=[("02", "CCC"), ("04", "CCC")]), params, n_boot=50, n_random=20, seed=4
    )
    random = report.random_portfolios
    assert random.n == 20 and math.isfinite(random.percentile) and math.isfinite(random.p_value)
    assert (random.n_periods, random.n_fixed_periods) == (5, 2)
    assert random.note == (
        "2 of 5 holding period(s) have at most top_n (2) eligible symbols, so every random draw holds "
        "the strategy's own symbols in them; the percentile and p-value compare selections in the "
        "other 3 period(s) only."
    )
    assert report.notes[0] == random.note
    full = engine.robustness_report(_three_symbols(), params, n_boot=50, n_random=20, seed=4)
    assert full.random_portfolios.n_fixed_periods == 0 and full.random_portfolios.note is None
    assert not any("top_n" in note for note in full.notes)


@pytest.mark.parametrize(
    ("value", "draws", "percentile", "p_value"),
    [
        (2.0, [1.0, 3.0, 0.0, 5.0], 50.0, 3 / 5),
        (1.0, [1.0, 1.0, 0.0, 0.0], 75.0, 3 / 5),  # ties count half; ">=" in the p-value
        (9.0, [1.0, 2.0, math.nan], 100.0, 1 / 3),  # NaN draws are left out
    ],
)
def test_rank(value: float, draws: list[float], percentile: float, p_value: float) -> None:
    assert rb._rank(value, np.array(draws)) == pytest.approx((percentile, p_value))


def test_rank_counts_a_draw_equal_up_to_rounding_as_a_tie() -> None:
    """constant-return-series kind, variant ties: MMF = s x 1.001^t and CON = s held
    one at a time (top_n=1); the random draws that pick the strategy's own holdings have
    its Sharpe ratio in other bits (18.883832799441745 against 18.883832799441752), so the
    percentile was 65, 70 or 75 for s = 1e-12, 1, 1e6. Ties count half whatever the bits."""
    strategy = 18.883832799441752
    below, above = [15.661363813040783, 13.293224404870182, 9.07680326923293], [26.820906634088004]
    for twin in (18.883832799441745, 18.88383279944175, 18.883832799441752, 18.88383279944176):
        draws = np.array([*below, twin, twin, *above])
        assert rb._rank(strategy, draws) == pytest.approx((100.0 * 4 / 6, 4 / 7))
    # 1e-7 apart is a real difference
    assert rb._rank(strategy, np.array([strategy - 1e-7]))[0] == 100.0
    assert rb._rank(0.0, np.array([1e-17, -1e-17]))[0] == 50.0


def test_random_baseline_percentile_does_not_depend_on_the_price_scale() -> None:
    """The same market at price scales 1e-12, 1 and 1e6 (returns equal up to rounding):
    one percentile and p-value for the Sharpe ratio and for the total return."""
    days = pd.bdate_range("2022-01-03", "2022-12-30")
    calendar = pd.date_range("2021-11-24", "2022-12-30")
    rng = np.random.default_rng(0)
    n = 2 * len(calendar)
    sentiment = pd.DataFrame(
        {
            "date": np.repeat(calendar.to_numpy(), 2).astype("datetime64[ns]"),
            "symbol": np.tile(["MMF", "CON"], len(calendar)),
            "twitterPosts": rng.integers(1, 40, n).astype(float),
            "twitterComments": rng.integers(1, 300, n).astype(float),
            "twitterLikes": rng.integers(100, 3000, n).astype(float),
            "twitterImpressions": rng.integers(100, 100000, n).astype(float),
            "twitterSentiment": rng.normal(0, 1, n),
        }
    )
    seen = set()
    for scale in (1e-12, 1.0, 1e6):
        t = np.arange(len(days))
        prices = price_frame(
            [d.date().isoformat() for d in days],
            {
                "MMF": scale * 1.001**t,
                "CON": np.full(len(days), scale),
                "QQQ": scale * 1.001**t,
            },
        )
        params = engine.StrategyParams(top_n=1, min_likes=0.0, min_comments=0.0)
        prepared = prepare(market(sentiment, prices))
        result = run_prepared(prepared, params)
        baseline = rb.random_baseline(
            prepared,
            params,
            strategy_sharpe=result.metrics["sharpe"],
            strategy_total_return=result.metrics["total_return"],
            n_random=20,
        )
        seen.add((baseline.percentile, baseline.p_value, baseline.total_return_percentile))
    assert len(seen) == 1


# ----- the report ------------------------------------------------------------------------


def test_report_is_consistent_and_json_ready(data: engine.MarketData) -> None:
    params = engine.StrategyParams(top_n=4, min_likes=0.0)
    report = engine.robustness_report(data, params, n_boot=300, n_random=60, seed=1)
    metrics = engine.run_backtest(data, params).metrics
    assert report.sharpe_ci.estimate == pytest.approx(metrics["sharpe"], rel=1e-12)
    assert report.random_portfolios.strategy_sharpe == metrics["sharpe"]
    assert report.random_portfolios.n == 60 and 0 < report.random_portfolios.p_value <= 1
    assert 0.0 <= report.probabilistic_sharpe <= 1.0
    plain = json.loads(json.dumps(report.to_dict()))
    assert plain["sharpe_ci"].keys() == {"estimate", "low", "high", "level", "resamples", "undefined"}
    assert plain["sharpe_ci"]["resamples"] == 300 and plain["sharpe_ci"]["undefined"] == 0
    assert len(plain["random_portfolios"]["sharpes"]) == 60
    assert (
        engine.robustness_report(data, params, n_boot=300, n_random=60, seed=1).to_dict()["sharpe_ci"]
        == plain["sharpe_ci"]
    )


def test_random_portfolios_use_the_strategys_own_weighting_lookback_and_costs(
    data: engine.MarketData,
) -> None:
    # A "random" draw of exactly the strategy's holdings is the strategy, bit for bit:
    # same weighting (inverse volatility over the same lookback), calendar and costs.
    params = engine.StrategyParams(
        top_n=4, min_likes=0.0, weighting="inverse_volatility", lookback_days=40, cost_bps=25.0
    )
    prepared = prepare(data)
    result = run_prepared(prepared, params)
    index = {s: i for i, s in enumerate(prepared.symbols)}
    selections = [
        np.sort([index[s] for s in result.holdings.loc[result.holdings["period_start"] == start, "symbol"]])
        for start in result.periods["period_start"]
    ]
    _dates, returns, _turnover = engine.selection_returns(prepared, params, selections)
    np.testing.assert_allclose(returns, result.returns["portfolio"].to_numpy(), rtol=0, atol=1e-14)
    report = engine.robustness_report(data, params, n_boot=50, n_random=10)
    assert not any("equally weighted" in note for note in report.notes)


@pytest.mark.parametrize("kwargs", [{"n_boot": 0}, {"n_random": 0}, {"block_length": 0.5}])
def test_report_rejects_bad_sizes(data: engine.MarketData, kwargs: dict[str, Any]) -> None:
    with pytest.raises(engine.ParameterError):
        engine.robustness_report(data, engine.StrategyParams(), **kwargs)


# Each raised TypeError, ValueError or OverflowError (or ran: True, inf) before the one
# check_robustness_settings; a seed of -1 read "expected non-negative integer" (numpy's).
@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_boot": 1.5},
        {"n_boot": "3"},
        {"n_boot": None},
        {"n_random": True},
        {"n_random": 1.5},
        {"n_random": 10**5000},
        {"seed": -1},
        {"seed": 1.5},
        {"seed": "3"},
        {"seed": 2**64},
        {"block_length": "3"},
        {"block_length": math.inf},
        {"block_length": math.nan},
        {"block_length": 10**400},
        {"block_length": None},
        {"level": 1.5},
        {"level": 0},
        {"level": math.nan},
        {"level": "0.9"},
        {"level": 10**400},
    ],
    ids=lambda kwargs: "-".join(f"{k}={engine.short_repr(v, 12)}" for k, v in kwargs.items()),
)
def test_report_settings_of_any_value_are_one_sentence(
    data: engine.MarketData, kwargs: dict[str, Any]
) -> None:
    from tests.fuzz import assert_user_message

    with pytest.raises(engine.ParameterError, match=next(iter(kwargs))) as caught:
        engine.robustness_report(data, engine.StrategyParams(), **{"n_boot": 2, "n_random": 2, **kwargs})
    assert_user_message(str(caught.value))


def test_report_refuses_params_of_another_type(data: engine.MarketData) -> None:
    with pytest.raises(engine.ParameterError, match="params must be a StrategyParams"):
        engine.robustness_report(data, {"top_n": 3}, n_boot=2, n_random=2)  # type: ignore[arg-type]


def test_numpy_whole_numbers_are_accepted(data: engine.MarketData) -> None:
    report = engine.robustness_report(data, engine.StrategyParams(), n_boot=np.int64(5), n_random=np.int32(2))
    assert report.n_boot == 5 and type(report.n_boot) is int
    json.dumps(report.to_dict())  # plain numbers, as the CLI's robustness.json and the dashboard store them


def test_prepared_data_gives_the_same_report(data: engine.MarketData) -> None:
    """A caller that keeps the prepared arrays (the dashboard) gets the report of the data."""
    params = engine.StrategyParams(top_n=4, min_likes=0.0)
    from_data = engine.robustness_report(data, params, n_boot=50, n_random=20, seed=3).to_dict()
    from_prepared = engine.robustness_report(prepare(data), params, n_boot=50, n_random=20, seed=3).to_dict()
    from_data.pop("elapsed_s", None)
    from_prepared.pop("elapsed_s", None)
    assert json.dumps(from_prepared, sort_keys=True) == json.dumps(from_data, sort_keys=True)


def test_report_refuses_data_of_another_type(data: engine.MarketData) -> None:
    with pytest.raises(engine.ParameterError, match=r"MarketData .* or PreparedData"):
        engine.robustness_report(data.prices, engine.StrategyParams(), n_boot=10, n_random=10)  # type: ignore[arg-type]


def test_the_sharpe_interval_is_the_backtests_sharpe_when_the_benchmark_starts_late() -> None:
    """A benchmark listed 80 days after the first price day (its returns NaN there, as
    the backtest warns): the report's Sharpe ratio was the Sharpe of the 110 days both
    series share (2.99) while the backtest, the random-portfolio rank and n_obs (190) use
    the strategy's 190 days (2.14). The Sharpe interval is now resampled from the
    strategy's own days; only the excess return, a difference, is resampled in pairs."""
    from tests.engine.backtest.test_causality import _random_inputs

    sentiment, prices = _random_inputs(5, 200)
    prices.loc[prices.index[:80], "QQQ"] = np.nan
    prepared = prepare(market(sentiment, prices))
    params = engine.StrategyParams(top_n=2, min_likes=0.0, min_comments=0.0)
    result = run_prepared(prepared, params)
    report = rb.robustness_report(prepared, params, n_boot=300, n_random=10)
    days = result.returns["portfolio"].notna()
    both = days & result.returns["benchmark"].notna()
    assert report.n_obs == int(days.sum()) > int(both.sum())
    assert report.sharpe_ci.estimate == pytest.approx(result.metrics["sharpe"], rel=1e-12)
    assert report.sharpe_ci.low < report.sharpe_ci.estimate < report.sharpe_ci.high
    # the excess return stays paired: CAGR difference over the common days
    p = result.returns.loc[both, "portfolio"].to_numpy()
    b = result.returns.loc[both, "benchmark"].to_numpy()
    growth = np.prod(1 + p) ** (252 / p.size) - np.prod(1 + b) ** (252 / b.size)
    assert report.excess_return_ci.estimate == pytest.approx(growth, rel=1e-10)


def test_a_complete_benchmark_keeps_the_paired_intervals_bit_for_bit() -> None:
    """With no missing day the Sharpe resamples are the paired ones (same seed, same days)."""
    rng = np.random.default_rng(11)
    bench = rng.normal(0.0004, 0.01, 400)
    port = 0.5 * bench + rng.normal(0.0002, 0.008, 400)
    sharpe, _ = rb.bootstrap_intervals(port, bench, n_boot=300, seed=4)
    index = rb.stationary_bootstrap_indices(400, 300, rb.DEFAULT_BLOCK_LENGTH, np.random.default_rng(4))
    samples = rb.annual_sharpe(port[index])
    tail = (1.0 - 0.95) / 2.0  # as _interval computes it
    low, high = np.quantile(samples[np.isfinite(samples)], [tail, 1.0 - tail])
    assert (sharpe.low, sharpe.high) == (float(low), float(high))


def test_an_excess_return_within_rounding_of_zero_is_zero_and_a_real_one_is_kept() -> None:
    """Breaker pass 9, F5: portfolio and benchmark equal up to the last bit of each day
    (the same prices along two paths) had an excess return of ~1e-16 and an interval of
    residue around it, printed "-0.00% [-0.00%, 0.00%]". Within 1e-10 of 0 it is 0
    (engine.dispersion.zero_within_rounding); a real excess of 1e-7 a day (~2.5e-5 a year)
    is not rounding and keeps its value."""
    rng = np.random.default_rng(11)
    bench = rng.normal(0.0004, 0.01, 300)
    port = bench * (1.0 + rng.choice([-1.0, 0.0, 1.0], 300) * 2.0**-52)  # one ulp apart
    _, excess = rb.bootstrap_intervals(port, bench, n_boot=300, seed=2)
    assert (excess.estimate, excess.low, excess.high) == (0.0, 0.0, 0.0)
    _, real = rb.bootstrap_intervals(bench + 1e-7, bench, n_boot=300, seed=2)
    assert real.estimate == pytest.approx(
        np.prod(1 + bench + 1e-7) ** (252 / 300) - np.prod(1 + bench) ** (252 / 300), rel=1e-6
    )
    assert 0.0 < real.low <= real.estimate <= real.high


# ----- constant-return series: resamples without dispersion ------------------------------


def _without_the_moves(returns: np.ndarray, n_boot: int, seed: int) -> int:
    """Resamples (the report's own indices, same seed) that draw none of the non-zero days:
    all zeros, no dispersion, no Sharpe ratio."""
    index = rb.stationary_bootstrap_indices(
        returns.size, n_boot, rb.DEFAULT_BLOCK_LENGTH, np.random.default_rng(seed)
    )
    return int((returns[index] == 0.0).all(axis=1).sum())


def test_an_interval_whose_resamples_mostly_lack_dispersion_is_undefined_and_said() -> None:
    """One +2% day among 41 zeros (a holding that moved once): the Sharpe is sqrt(252 / 42)
    = 2.449, but 276 of 1,000 resamples leave the +2% day out (0 / 0). Taken over the others
    the interval was [2.45, 4.35], its lower bound the estimate, and nothing said why."""
    returns = np.zeros(42)
    returns[21] = 0.02
    sharpe, _ = rb.bootstrap_intervals(returns, np.full(42, 0.001), n_boot=1000, seed=0)
    assert sharpe.estimate == pytest.approx(math.sqrt(252 / 42), rel=1e-12)
    assert sharpe.undefined == _without_the_moves(returns, 1000, 0) > 50 and sharpe.resamples == 1000
    assert math.isnan(sharpe.low) and math.isnan(sharpe.high)
    assert sharpe.note("Sharpe ratio", "no dispersion: every return of the resample equal") == (
        f"{sharpe.undefined} of the 1,000 bootstrap resamples have no Sharpe ratio (no dispersion: every "
        "return of the resample equal), more than 5% of them, so its 95% interval is undefined"
    )


def test_a_few_resamples_without_dispersion_leave_an_interval_over_the_others_and_a_note() -> None:
    returns = np.zeros(60)
    returns[[5, 30, 55]] = 0.02
    sharpe, excess = rb.bootstrap_intervals(returns, np.full(60, 0.001), n_boot=1000, seed=0)
    undefined = _without_the_moves(returns, 1000, 0)
    assert sharpe.undefined == undefined and 0 < undefined <= 50 and excess.undefined == 0
    index = rb.stationary_bootstrap_indices(60, 1000, rb.DEFAULT_BLOCK_LENGTH, np.random.default_rng(0))
    defined = rb.annual_sharpe(returns[index])
    low, high = np.quantile(defined[np.isfinite(defined)], [0.025, 0.975])
    assert (sharpe.low, sharpe.high) == (low, high)
    said = sharpe.note("Sharpe ratio", "no dispersion")
    assert said.endswith(f"(no dispersion); its interval is taken over the other {1000 - undefined}")
    assert excess.note("annual excess return", "overflow") == ""


def test_a_strategy_without_a_sharpe_ratio_says_why_its_percentile_is_n_a() -> None:
    """A flat strategy (every holding's close constant): the Sharpe percentile and p-value
    were shown as '-' with no reason given."""
    days = pd.bdate_range("2022-01-03", "2022-04-29").strftime("%Y-%m-%d").tolist()
    flat = {"AAA": [50.0] * len(days), "BBB": [20.0] * len(days), "CCC": [10.0] * len(days)}
    flat["QQQ"] = [100.0 + i for i in range(len(days))]
    rows = [(d, s, 60.0, 200.0) for d in days[:40] for s in ("AAA", "BBB", "CCC")]
    data = market(sentiment_frame(rows), price_frame(days, flat))
    report = engine.robustness_report(data, engine.StrategyParams(top_n=1), n_boot=100, n_random=20, seed=0)
    assert math.isnan(report.random_portfolios.percentile)
    assert any(
        n.startswith("The strategy has no Sharpe ratio (its daily returns have no dispersion)")
        for n in report.notes
    )
