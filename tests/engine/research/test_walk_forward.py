"""Walk-forward validation: a 3-configuration, 3-fold case by hand, no look-ahead, the sweep's returns."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import (
    ParameterError,
    SerialExecutor,
    StrategyParams,
    compute_metrics,
    prepare,
    run_prepared,
    run_sweep,
)
from engine.analytics.metrics import short_window_warning
from engine.data.prices import ALIVE_DAYS
from engine.research.walk_forward import (
    WalkForwardSettings,
    check_fold_periods,
    fold_bounds,
    sweep_return_days,
    validate_sweep,
    walk_forward,
)
from tests.engine._frames import random_market

DAYS = pd.bdate_range("2024-01-01", periods=8, name="date")
# Days:       0     1     2      3     4      5     6      7
HAND = pd.DataFrame(
    {
        "c0": [0.01, 0.01, -0.02, 0.00, 0.03, 0.03, 0.01, 0.00],
        "c1": [0.02, 0.00, 0.01, 0.01, -0.05, 0.00, 0.02, 0.02],
        "c2": [0.00, 0.00, 0.00, 0.05, 0.00, 0.04, -0.01, 0.01],
    },
    index=DAYS,
)


def test_fold_layout() -> None:
    anchored = fold_bounds(8, WalkForwardSettings(n_folds=3, out_of_sample_days=2))
    assert [(f.in_sample, f.out_of_sample) for f in anchored] == [
        ((0, 2), (2, 4)),
        ((0, 4), (4, 6)),
        ((0, 6), (6, 8)),
    ]
    rolling = fold_bounds(8, WalkForwardSettings(n_folds=3, out_of_sample_days=2, scheme="rolling"))
    assert [f.in_sample for f in rolling] == [(0, 2), (2, 4), (4, 6)]
    default = fold_bounds(600, WalkForwardSettings())  # K = 5, L = 600 // 6 = 100, W = 100
    assert default[0].in_sample == (0, 100) and default[-1].out_of_sample == (500, 600)


def test_anchored_three_configurations_three_folds_by_hand() -> None:
    """Metric total return. Fold 1, IS days 0-1: c0 1.01^2 - 1 = 2.01% beats c1 2% and c2 0%.
    Fold 2, IS days 0-3: c0 1.0201 x 0.98 - 1 = -0.03%, c1 1.02 x 1.01^2 - 1 = 4.05%, c2 5%: c2.
    Fold 3, IS days 0-5: c0 6.06%, c1 -1.15%, c2 1.05 x 1.04 - 1 = 9.2%: c2.
    Stitched OOS: c0's days 2-3, then c2's days 4-7. Full history: c2 (9.19% vs c0 7.12%)."""
    result = walk_forward(HAND, WalkForwardSettings(n_folds=3, out_of_sample_days=2, metric="total_return"))
    folds = result.folds
    assert list(folds["winner"]) == ["c0", "c2", "c2"]
    np.testing.assert_allclose(folds["is_metric"], [1.01**2 - 1, 1.05 - 1, 1.05 * 1.04 - 1])
    np.testing.assert_allclose(folds["oos_metric"], [0.98 - 1, 1.04 - 1, 0.99 * 1.01 - 1])
    assert list(folds["winner_changed"]) == [False, True, False]
    assert result.n_winner_changes == 1
    assert list(folds["is_start"]) == [DAYS[0]] * 3
    assert list(folds["oos_start"]) == [DAYS[2], DAYS[4], DAYS[6]]
    assert list(folds["oos_end"]) == [DAYS[3], DAYS[5], DAYS[7]]
    np.testing.assert_allclose(result.oos_returns, [-0.02, 0.0, 0.0, 0.04, -0.01, 0.01])
    assert list(result.oos_returns.index) == list(DAYS[2:])
    assert result.full_history_winner == "c2"
    np.testing.assert_allclose(result.full_history_returns, HAND["c2"].iloc[2:])
    summary = result.summary
    assert summary.loc["total_return", "walk_forward"] == pytest.approx(0.98 * 1.04 * 0.99 * 1.01 - 1)
    assert summary.loc["total_return", "full_history_winner"] == pytest.approx(1.05 * 1.04 * 0.99 * 1.01 - 1)


def test_rolling_three_folds_by_hand() -> None:
    """Rolling 2-day IS windows: fold 2 on days 2-3 (c2 5% beats c1 2.01%), fold 3 on
    days 4-5 (c0 1.03^2 - 1 = 6.09% beats c2 4%): winners c0, c2, c0."""
    result = walk_forward(
        HAND, WalkForwardSettings(n_folds=3, out_of_sample_days=2, scheme="rolling", metric="total_return")
    )
    assert list(result.folds["winner"]) == ["c0", "c2", "c0"]
    assert result.n_winner_changes == 2
    np.testing.assert_allclose(result.oos_returns, [-0.02, 0.0, 0.0, 0.04, 0.01, 0.0])
    assert list(result.folds["is_start"]) == [DAYS[0], DAYS[2], DAYS[4]]


def test_sharpe_selection_and_parameters_of_the_winner() -> None:
    configs = pd.DataFrame({"top_n": [3, 5, 10]}, index=["c0", "c1", "c2"])
    result = walk_forward(HAND, WalkForwardSettings(n_folds=3, out_of_sample_days=2), configs=configs)
    for row in result.folds.itertuples():
        is_days = HAND.loc[row.is_start : row.is_end]
        sharpe = {c: compute_metrics(is_days[c].to_numpy())["sharpe"] for c in HAND.columns}
        finite = {c: v for c, v in sharpe.items() if not math.isnan(v)}
        assert row.winner == max(finite, key=finite.get)
        assert row.top_n == configs.loc[row.winner, "top_n"]


def test_benchmark_is_cut_to_the_oos_days() -> None:
    bench = pd.Series(np.linspace(0.001, 0.008, 8), index=DAYS)
    result = walk_forward(HAND, WalkForwardSettings(n_folds=3, out_of_sample_days=2), benchmark=bench)
    np.testing.assert_allclose(result.benchmark_returns, bench.iloc[2:])
    assert "benchmark" in result.summary.columns


def test_fold_without_defined_metric_holds_cash_and_warns() -> None:
    cash = pd.DataFrame(np.zeros((8, 2)), index=DAYS, columns=["a", "b"])
    cash.iloc[4:, 1] = [0.01, 0.02, -0.01, 0.03]
    result = walk_forward(cash, WalkForwardSettings(n_folds=3, out_of_sample_days=2))
    assert result.folds["winner"].iloc[0] is None
    assert any("fold 1" in w for w in result.warnings)
    np.testing.assert_allclose(result.oos_returns.iloc[:2], [0.0, 0.0])


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        (WalkForwardSettings(n_folds=5), "too few"),
        (WalkForwardSettings(n_folds=3, out_of_sample_days=2, in_sample_days=5), "first in-sample window"),
    ],
)
def test_windows_that_do_not_fit_are_refused(settings_: WalkForwardSettings, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        walk_forward(HAND, settings_)


def test_out_of_sample_windows_longer_than_the_data_are_said_so_without_a_negative_count() -> None:
    """Found by a new user: '... but 520 days leave -24480; shorten the windows'."""
    with pytest.raises(ParameterError) as caught:
        fold_bounds(520, WalkForwardSettings(n_folds=5, out_of_sample_days=5000))
    message = str(caught.value)
    assert message == (
        "5 out-of-sample windows of 5000 days need 25000 days, more than the 520 days of returns; "
        "shorten the windows or use fewer folds"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"n_folds": 0},
        {"scheme": "expanding"},
        {"in_sample_days": 1},
        {"out_of_sample_days": 2.5},
        {"metric": "beta"},
    ],
)
def test_settings_are_validated(changes: dict) -> None:
    with pytest.raises(ParameterError):
        WalkForwardSettings(**changes)


def test_missing_returns_are_refused() -> None:
    bad = HAND.copy()
    bad.iloc[3, 1] = np.nan
    with pytest.raises(ParameterError, match="fill the days"):
        walk_forward(bad, WalkForwardSettings(n_folds=3, out_of_sample_days=2))


# ----- no look-ahead ---------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    fold=st.integers(min_value=0, max_value=3),
    scheme=st.sampled_from(["anchored", "rolling"]),
    metric=st.sampled_from(["sharpe", "sortino", "cagr", "total_return"]),
)
def test_data_after_a_folds_in_sample_end_does_not_change_its_choice(
    seed: int, fold: int, scheme: str, metric: str
) -> None:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0003, 0.01, (300, 12))
    wf_settings = WalkForwardSettings(n_folds=4, scheme=scheme, metric=metric)
    before = walk_forward(matrix, wf_settings)
    end = fold_bounds(300, wf_settings)[fold].in_sample[1]
    changed = matrix.copy()
    changed[end:] = rng.normal(0.01, 0.05, changed[end:].shape)  # a different future
    after = walk_forward(changed, wf_settings)
    for i in range(fold + 1):
        assert after.folds["winner"].iloc[i] == before.folds["winner"].iloc[i]
        assert after.folds["is_metric"].iloc[i] == before.folds["is_metric"].iloc[i]


# ----- the sweep keeps the returns -------------------------------------------------------


@pytest.fixture(scope="module")
def data() -> engine.MarketData:
    return random_market(seed=4, n_symbols=20)


GRID = {"top_n": [2, 5], "rebalance": ["weekly", "monthly"], "min_likes": [10, 50]}


def test_sweep_keeps_every_configurations_daily_returns(data: engine.MarketData) -> None:
    plain = run_sweep(data, GRID, executor=SerialExecutor())
    kept = run_sweep(data, GRID, executor=SerialExecutor(), keep_returns=True)
    assert plain.returns is None and plain.benchmark_returns is None
    pd.testing.assert_frame_equal(plain.table, kept.table)
    assert kept.best == plain.best
    matrix = kept.returns
    assert list(matrix.columns) == list(range(8))
    assert matrix.index.is_monotonic_increasing and np.isfinite(matrix.to_numpy()).all()
    prepared = prepare(data)
    for row in (0, 5):
        combo = kept.table.loc[row, list(GRID)].to_dict()
        own = run_prepared(prepared, StrategyParams().replace(**combo)).returns
        column = matrix[row]
        pd.testing.assert_series_equal(column.loc[own.index], own["portfolio"], check_names=False)
        # Days before the configuration's first holding period: cash.
        assert (column[column.index < own.index[0]] == 0.0).all()
        pd.testing.assert_series_equal(
            kept.benchmark_returns.loc[own.index], own["benchmark"], check_names=False
        )


def test_sweep_returns_without_benchmark_when_it_is_swept(data: engine.MarketData) -> None:
    kept = run_sweep(
        data, {"benchmark": ["QQQ", "S001"], "top_n": [3]}, executor=SerialExecutor(), keep_returns=True
    )
    assert kept.benchmark_returns is None
    assert kept.returns.shape[1] == 2


def test_validate_sweep_runs_walk_forward_and_pbo_on_the_kept_returns(data: engine.MarketData) -> None:
    kept = run_sweep(data, GRID, executor=SerialExecutor(), keep_returns=True)
    validation = validate_sweep(kept, WalkForwardSettings(n_folds=4))
    wf = validation.walk_forward
    assert len(wf.folds) == 4
    assert set(GRID) <= set(wf.folds.columns)
    for row in wf.folds.itertuples():
        assert kept.table.loc[row.winner, "top_n"] == row.top_n
    assert validation.pbo is not None and 0.0 <= validation.pbo.pbo <= 1.0
    assert validation.pbo.n_configs == 8
    # The same as calling the two functions on the matrix.
    direct = walk_forward(kept.returns, WalkForwardSettings(n_folds=4))
    pd.testing.assert_series_equal(wf.oos_returns, direct.oos_returns)
    # A sweep without kept returns is refused in one sentence.
    with pytest.raises(ParameterError, match="keep_returns=True"):
        validate_sweep(run_sweep(data, {"top_n": [2, 3]}, executor=SerialExecutor()))


def test_validate_sweep_notes_when_pbo_cannot_be_computed(data: engine.MarketData) -> None:
    kept = run_sweep(data, {"top_n": [3]}, executor=SerialExecutor(), keep_returns=True)
    validation = validate_sweep(kept, WalkForwardSettings(n_folds=2))
    assert validation.pbo is None
    assert "at least 2 configurations" in (validation.pbo_note or "")


def test_configurations_equal_up_to_rounding_tie_and_the_first_wins() -> None:
    """constant-return-series kind (ties) in the walk-forward: columns 1 and 2 are
    column 0 in other bits ((r / 3) * 3, (r * 0.1) / 0.1: 3.5e-18 apart), as equal and
    inverse-volatility weights of symbols with one return series are. Their in-sample
    Sharpe ratios differ by rounding only, which picked the fold winners 0, 1, 0, 1, 0
    (4 winner changes) and column 2 as the full-history winner; now a tie goes to the
    first column (engine.dispersion.first_best): 0 in every fold, no change."""
    rng = np.random.default_rng(3)
    r = rng.normal(0.0005, 0.01, 300)
    matrix = pd.DataFrame(
        {"0": r, "1": (r / 3) * 3, "2": (r * 0.1) / 0.1, "3": rng.normal(-0.001, 0.01, 300)},
        index=pd.bdate_range("2022-01-03", periods=300),
    )
    assert not matrix["0"].equals(matrix["1"]) and not matrix["0"].equals(matrix["2"])
    result = walk_forward(matrix, WalkForwardSettings(n_folds=5))
    assert result.folds["winner"].tolist() == ["0"] * 5
    assert result.n_winner_changes == 0
    assert result.full_history_winner == "0"


def test_a_series_without_dispersion_never_wins_with_a_risk_free_rate() -> None:
    """A price growing exactly 0.1% a day quoted to 4 decimals has no volatility (README,
    Metrics), so no Sharpe ratio, whatever the risk-free rate: its in-sample Sharpe was
    9,853.87 with risk_free 0.2 (the rule judged on r - rf), so it won every fold over a
    configuration with a real Sharpe ratio."""
    prices = np.round(100.0 * 1.001 ** np.arange(401), 4)
    flat = prices[1:] / prices[:-1] - 1.0
    rng = np.random.default_rng(3)
    moving = rng.normal(0.002, 0.01, 400)
    frame = pd.DataFrame({"mmf": flat, "stock": moving}, index=pd.bdate_range("2022-01-03", periods=400))
    result = walk_forward(frame, WalkForwardSettings(n_folds=3, risk_free=0.2))
    assert list(result.folds["winner"]) == ["stock"] * 3
    assert result.full_history_winner == "stock"


def test_out_of_sample_days_under_a_year_warn_that_the_summary_is_annualised() -> None:
    """The walk-forward summary (CAGR, Sharpe, ... of the stitched out-of-sample days) is
    annualised like a backtest's: over 6 out-of-sample days it extrapolates, and says so
    with the backtest's one warning; over a year of them it does not."""
    short = walk_forward(HAND, WalkForwardSettings(n_folds=3, out_of_sample_days=2))
    assert short.warnings == (short_window_warning(6, "the walk-forward's out-of-sample window"),)
    assert short.warnings[0].startswith("The walk-forward's out-of-sample window covers 6 trading days")
    rng = np.random.default_rng(0)
    long = pd.DataFrame(rng.normal(0, 0.01, (600, 2)), index=pd.bdate_range("2020-01-01", periods=600))
    assert walk_forward(long, WalkForwardSettings(n_folds=2)).warnings == ()


# ----- folds must span several holding periods --------------------------------------------


@pytest.fixture(scope="module")
def short_sweep(data: engine.MarketData) -> engine.SweepResult:
    """A sweep over one month (2021-03-01 to 2021-03-31: 23 trading days)."""
    base = StrategyParams(start=dt.date(2021, 3, 1), end=dt.date(2021, 3, 31))
    return run_sweep(data, {"top_n": [2, 3, 5]}, base=base, executor=SerialExecutor(), keep_returns=True)


def test_a_sweep_of_one_month_is_refused_folds_of_a_few_days(short_sweep: engine.SweepResult) -> None:
    """5 folds over a month's sweep ran and reported winners and a PBO on test folds of 3
    days (less than one holding period of any frequency). Now validate_sweep refuses in one
    sentence, an EngineError that the CLI and the Sweep page show as is; the periods are
    the sweep's own frequency (``SweepResult.base``: monthly here), which the caller no
    longer passes beside the result."""
    assert len(short_sweep.returns) == 23 and short_sweep.base.rebalance == "monthly"
    for n_folds, test_days in ((5, 3), (1, 11)):
        with pytest.raises(ParameterError) as monthly:
            validate_sweep(short_sweep, WalkForwardSettings(n_folds=n_folds))
        assert str(monthly.value) == (
            f"each test fold would cover about {test_days} trading days; walk-forward needs at least 3 "
            "monthly holding periods (63 trading days) per fold: use fewer folds or a longer window"
        )
        assert isinstance(monthly.value, engine.EngineError)


def test_check_fold_periods_of_an_unknown_frequency_uses_the_weekly_bound() -> None:
    with pytest.raises(ParameterError) as unknown:
        check_fold_periods(fold_bounds(23, WalkForwardSettings(n_folds=5)), None)
    assert str(unknown.value) == (
        "each test fold would cover about 3 trading days; walk-forward needs at least 3 holding "
        "periods (15 trading days even when rebalancing weekly) per fold: use fewer folds or a longer window"
    )


def test_the_slowest_swept_frequency_sets_the_fold_minimum(data: engine.MarketData) -> None:
    """A grid over weekly and quarterly: every configuration needs 3 of its own periods, so
    the quarterly one decides (189 days), whatever the base parameters' frequency."""
    kept = run_sweep(
        data,
        {"rebalance": ["weekly", "quarterly"]},
        base=StrategyParams(rebalance="weekly"),
        executor=SerialExecutor(),
        keep_returns=True,
    )
    with pytest.raises(
        ParameterError, match=r"3 quarterly holding periods \(the slowest rebalance of the sweep\)"
    ):
        validate_sweep(kept, WalkForwardSettings(n_folds=4))
    assert len(validate_sweep(kept, WalkForwardSettings(n_folds=1)).walk_forward.folds) == 1


def test_fold_minimum_boundary_and_the_in_sample_window() -> None:
    month = fold_bounds(126, WalkForwardSettings(n_folds=1))  # 63 + 63 days
    check_fold_periods(month, "monthly")  # exactly 3 months: accepted
    with pytest.raises(ParameterError, match="about 62 trading days"):
        check_fold_periods(fold_bounds(124, WalkForwardSettings(n_folds=1)), "monthly")
    rolling = fold_bounds(300, WalkForwardSettings(n_folds=2, scheme="rolling", in_sample_days=10))
    with pytest.raises(ParameterError, match="the in-sample window would cover 10 trading days"):
        check_fold_periods(rolling, "weekly")
    with pytest.raises(ParameterError, match="rebalance must be one of"):
        check_fold_periods(month, "daily")
    # A returns matrix of unknown origin keeps the plain two-day minimum (the hand cases above).
    assert len(walk_forward(HAND, WalkForwardSettings(n_folds=3, out_of_sample_days=2)).folds) == 3
    with pytest.raises(ParameterError, match="about 2 trading days"):
        walk_forward(HAND, WalkForwardSettings(n_folds=3, out_of_sample_days=2), rebalance="weekly")


def test_the_kept_benchmark_is_missing_after_its_last_close_as_in_the_backtest(
    data: engine.MarketData,
) -> None:
    """Breaker pass 8, F1: the sweep's kept benchmark series read the forward-filled
    closes, 0 after the benchmark's last close where the backtest has NaN, so the
    walk-forward's benchmark column and its alpha, IR and tracking error counted invented
    flat days (OOS alpha 0.223 where 0.142 is right). It is now the backtest's series."""
    prices = data.prices.copy()
    last = prices.index[len(prices) * 3 // 4]
    prices.loc[prices.index > last, "QQQ"] = np.nan  # the benchmark ends early
    cut = engine.MarketData.build(sentiment=data.sentiment, prices=prices, source=data.source)
    kept = run_sweep(cut, {"top_n": [2, 5]}, executor=SerialExecutor(), keep_returns=True)
    own = run_prepared(prepare(cut), StrategyParams(top_n=2)).returns
    after = kept.benchmark_returns.index > last
    # Its last close is carried ALIVE_DAYS calendar days (returns of 0), then it is missing
    # (breaker pass 10, F3: the causal rule; before, missing from the first session after
    # its last close: 129 of these 130 days NaN, now 124, the 6 days to last + 10 are 0).
    carried = after & (kept.benchmark_returns.index <= last + pd.Timedelta(days=ALIVE_DAYS))
    assert kept.benchmark_returns[carried].eq(0.0).all() and carried.sum() == 6
    assert kept.benchmark_returns[after & ~carried].isna().all() and (after & ~carried).sum() == 124
    pd.testing.assert_series_equal(kept.benchmark_returns.loc[own.index], own["benchmark"], check_names=False)


def test_a_sweep_over_dates_chooses_the_full_history_winner_on_own_days_and_warns_of_the_cash(
    data: engine.MarketData,
) -> None:
    """Breaker pass 8, F2: the returns matrix holds 0 (cash) on the days a configuration has
    no return of its own, after its ``end`` as before its start. A grid sweeping ``start``
    and ``end`` made the full-history winner the best of those padded series (row 4 here,
    not the table's best row 6: padding shrinks a negative mean), silently. It is now the
    best on each configuration's own days, and a warning says how much is padding."""
    days = data.prices.index
    start, end = days[len(days) * 3 // 10].date(), days[len(days) * 6 // 10].date()
    grid = {"top_n": [2, 5], "start": [None, start], "end": [None, end]}
    kept = run_sweep(data, grid, executor=SerialExecutor(), keep_returns=True)
    matrix = kept.returns
    padded_best = int(np.nanargmax(engine.column_metric(matrix.to_numpy(), "sharpe")))
    assert (padded_best, kept.best) == (4, 6)
    wf = validate_sweep(kept, WalkForwardSettings(n_folds=3)).walk_forward
    assert wf.full_history_winner == kept.best
    pd.testing.assert_series_equal(
        wf.full_history_returns, matrix[6].loc[wf.oos_returns.index], check_names=False
    )
    span = kept.returns_span
    prepared = prepare(data)
    for row in (1, 6, 7):
        combo = kept.table.loc[row, list(grid)].to_dict()
        own = run_prepared(prepared, StrategyParams().replace(**combo)).returns
        assert (span.at[row, "first"], span.at[row, "last"]) == (own.index[0], own.index[-1])
        assert span.at[row, "days"] == len(own)
        column = matrix[row]
        pd.testing.assert_series_equal(column.loc[own.index], own["portfolio"], check_names=False)
        outside = (column.index < own.index[0]) | (column.index > own.index[-1])
        assert (column[outside] == 0.0).all()  # cash before its start and after its end
    padded = len(matrix) - span["days"]
    lo, hi = int(padded[padded > 0].min()), int(padded.max())
    assert wf.warnings[-1].startswith(
        f"6 of 8 configurations have no return of their own on {lo} to {hi} days of the "
        f"{len(matrix)} days of the walk-forward and PBO (before their start or after their end, "
        "as the grid sweeps start or end); they count as cash (0) there"
    )
    # A sweep over other parameters: no such warning, the same winner as on the matrix.
    other = run_sweep(data, {"top_n": [2, 5]}, executor=SerialExecutor(), keep_returns=True)
    assert (other.returns_span["days"] == len(other.returns)).all()
    plain = validate_sweep(other, WalkForwardSettings(n_folds=3)).walk_forward
    assert not any("no return of their own" in w for w in plain.warnings)
    assert (
        plain.full_history_winner
        == walk_forward(other.returns, WalkForwardSettings(n_folds=3)).full_history_winner
    )


def test_the_full_history_winner_stopped_before_the_oos_end_is_said_to_hold_cash() -> None:
    """``padding_warning`` names the out-of-sample days on which the full-history winner
    holds cash after its end."""
    from engine.research.walk_forward import padding_warning

    index = pd.bdate_range("2022-01-03", periods=10)
    returns = pd.DataFrame({0: np.linspace(0.01, 0.02, 10), 1: [0.02] * 6 + [0.0] * 4}, index=index)
    span = pd.DataFrame(
        {"first": [index[0], index[0]], "last": [index[-1], index[5]], "days": [10, 6]}, index=[0, 1]
    )
    text = padding_warning(returns, span, {"end": (None,)}, winner=1, oos_index=index[4:])
    assert text is not None and text.startswith("1 of 2 configurations have no return of their own on 4 days")
    assert text.endswith("the full-history winner (row 1) holds such cash on 4 of the 6 out-of-sample days")
    assert padding_warning(returns, span.assign(days=10, last=index[-1]), {"end": (None,)}) is None
    assert padding_warning(returns, None, {"end": (None,)}) is None


def _late_sentiment_market() -> engine.MarketData:
    """Prices from 2019 (the weights' lookback history), sentiment from 2020-07-01 only."""
    whole = random_market(seed=7, n_symbols=12, start="2019-01-01", end="2021-06-30")
    sentiment = whole.sentiment[whole.sentiment["date"] >= pd.Timestamp("2020-07-01")]
    return engine.MarketData.build(
        sentiment=sentiment.reset_index(drop=True), prices=whole.prices, source=whole.source
    )


@pytest.mark.parametrize(
    "grid",
    [
        {"top_n": (3, 5), "weighting": ("equal", "inverse_volatility")},
        {"top_n": (3,), "rebalance": ("weekly", "monthly"), "lag_days": (0, 2)},
        {"top_n": (3,), "start": (dt.date(2020, 9, 1), dt.date(2021, 1, 4)), "end": (dt.date(2021, 3, 31),)},
    ],
)
def test_the_early_check_counts_the_days_the_sweeps_returns_cover(grid: dict) -> None:
    """Breaker pass 11, F1: check_walk_forward_fits counted every price day (here 652,
    including the 18 months before the first sentiment date that no return can cover)
    while validate_sweep counts the rows of the sweep's returns matrix, so the same sweep
    was refused with two day counts. Now the early count is the matrix's (its days:
    sweep_return_days), and both refuse with the same sentence."""
    data = _late_sentiment_market()
    prepared = prepare(data)
    sweep = run_sweep(prepared, grid, keep_returns=True)
    rows = sweep.returns.shape[0]
    assert sweep_return_days(prepared, grid, base=StrategyParams()) == rows
    assert sweep_return_days(data, grid, base=StrategyParams()) == rows  # MarketData too
    assert rows < len(data.prices.index) == 652
    too_long = WalkForwardSettings(n_folds=5, out_of_sample_days=rows // 5 + 1)
    with pytest.raises(ParameterError) as early:
        engine.check_walk_forward_fits(data, grid, too_long, base=StrategyParams())
    with pytest.raises(ParameterError) as late:
        validate_sweep(sweep, too_long)
    assert str(early.value) == str(late.value)
    assert f"more than the {rows} days of returns" in str(early.value)
