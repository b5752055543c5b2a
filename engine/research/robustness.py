"""Is the backtest's Sharpe ratio luck? Bootstrap intervals, random portfolios, deflated Sharpe.

Conventions (see docs/ray.md "Robustness statistics"):

- Stationary bootstrap (Politis & Romano 1994) of the backtest's *daily* returns: blocks
  start at uniformly random days, have geometric lengths with mean ``block_length`` days
  and wrap around the end of the sample. Portfolio and benchmark are resampled on the
  *same* days (paired), so the excess return keeps their correlation. Intervals are
  percentile intervals of the resampled statistics.
- Annualised Sharpe: ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(252)`` with
  ``rf = risk_free / 252`` (as ``engine.analytics.metrics``). Annualised excess return: the CAGR of
  the portfolio minus the CAGR of the benchmark over the same days.
- Random portfolios: each draw picks, every holding period, ``min(top_n, m)`` symbols
  uniformly without replacement from the ``m`` symbols the strategy could have picked
  that period (``eligible_symbols_by_period``: a signal and the strategy's holdability
  rule; ``periods.n_eligible`` counts them), weighted
  with the strategy's own weighting and lookback, and its calendar, drift and cost
  accounting (``selection_returns``), so the percentile isolates the selection. The strategy's percentile
  is the share of draws it beats (ties, equal up to rounding as ``engine.dispersion.tied``
  decides, count half); the p-value is
  ``(1 + #draws >= strategy) / (1 + n_draws)``. A period with at most ``top_n`` eligible
  symbols has one possible selection (all of them, the strategy's): with only such
  periods every draw is the strategy, so nothing is drawn and the percentile and p-values
  are NaN; the report's note says so, or counts such periods when only some are.
- Deflated Sharpe Ratio (Bailey & López de Prado 2014), with *per-period* (daily, not
  annualised) Sharpe ratios: ``SR0 = sqrt(V) * ((1 - g) * Z^-1(1 - 1/N) + g * Z^-1(1 - 1/(N e)))``
  (g: Euler-Mascheroni constant, V: variance of the N trials' Sharpe ratios) and
  ``DSR = PSR(SR0) = Z((SR - SR0) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1) / 4 SR^2))``
  with the skewness and (non-excess) kurtosis of the selected strategy's T returns.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from engine.analytics.metrics import total_return
from engine.analytics.statistics import (
    annual_growth,
    annual_sharpe,
    deflated_sharpe_of_returns,
    stationary_bootstrap_indices,
)
from engine.backtest.base import eligible_symbols_by_period, run_prepared, selection_returns
from engine.backtest.prepare import PreparedData, as_prepared
from engine.data.types import MarketData
from engine.dispersion import tied, zero_within_rounding
from engine.jobs import Executor
from engine.strategy.params import StrategyParams

RANDOM_DRAWS_PER_TASK = 50  # fixed (not per CPU) so that every executor draws the same portfolios
DEFAULT_BLOCK_LENGTH = 10.0  # mean block length in trading days (two weeks of autocorrelation)
MAX_DRAWS = 100_000  # bootstrap resamples or random portfolios of one report, at most
MAX_SEED = 2**63 - 1  # a seed is stored in the report (JSON, the dashboard's store) as an int64


def check_robustness_settings(
    *,
    n_boot: Any = 1000,
    n_random: Any = 500,
    seed: Any = 0,
    block_length: Any = DEFAULT_BLOCK_LENGTH,
    level: Any = 0.95,
    names: Mapping[str, str] | None = None,
) -> None:
    """``ParameterError`` in one sentence unless ``n_boot`` and ``n_random`` are whole
    numbers from 1 to ``MAX_DRAWS``, ``seed`` a whole number from 0 to ``MAX_SEED``,
    ``block_length`` a finite number of at least 1 (trading days) and ``level`` a number
    strictly between 0 and 1. ``names``: how the caller calls them (the CLI: ``--n-boot``).
    The one rule ``robustness_report`` and the CLI apply."""
    from engine.errors import ParameterError, short_repr

    def label(name: str) -> str:
        return (names or {}).get(name, name)

    def whole(value: Any) -> bool:
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))

    for name, value in (("n_boot", n_boot), ("n_random", n_random)):
        if not whole(value) or not 1 <= value <= MAX_DRAWS:
            raise ParameterError(
                f"{label(name)} must be a whole number from 1 to {MAX_DRAWS}; got {short_repr(value)}"
            )
    if not whole(seed) or not 0 <= seed <= MAX_SEED:
        raise ParameterError(
            f"{label('seed')} must be a whole number from 0 to {MAX_SEED}; got {short_repr(seed)}"
        )
    if not _finite_number(block_length) or not block_length >= 1:
        raise ParameterError(
            f"{label('block_length')} must be a number of at least 1 trading day; got {short_repr(block_length)}"
        )
    if not _finite_number(level) or not 0 < level < 1:
        raise ParameterError(f"{label('level')} must be a number between 0 and 1; got {short_repr(level)}")


def _finite_number(value: Any) -> bool:
    """A real number (not a bool) that is finite; an int beyond float range is not."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfidenceInterval:
    estimate: float  # the statistic on the actual sample
    low: float
    high: float
    level: float  # e.g. 0.95
    resamples: int = 0  # bootstrap resamples drawn
    undefined: int = 0  # of them, those without a value (a Sharpe ratio without dispersion: 0/0)

    def note(self, statistic: str, why: str) -> str:
        """The sentence for the report when resamples have no value of ``statistic``, ``why``
        saying what leaves it undefined; "" when every resample has one."""
        if not self.undefined:
            return ""
        share = (
            f"{self.undefined:,} of the {self.resamples:,} bootstrap resamples have no {statistic} ({why})"
        )
        if math.isnan(self.low):
            return f"{share}, more than {1.0 - self.level:.0%} of them, so its {self.level:.0%} interval is undefined"
        return f"{share}; its interval is taken over the other {self.resamples - self.undefined:,}"


def _interval(estimate: float, samples: np.ndarray, level: float) -> ConfidenceInterval:
    """The percentile interval of the bootstrap ``samples`` (Efron and Tibshirani 1993,
    ch. 13) around ``estimate``. Resamples without a value (NaN: a Sharpe ratio of a
    resample without dispersion) cannot be placed among the others: when they are more than
    ``1 - level`` of all, no interval at that level exists (NaN bounds); else the interval is
    taken over the others, and ``undefined`` counts them for the report (taking it silently
    over the others gave 2.45 [2.45, 4.35] for a series of one +2% day and 41 zeros, 311
    of 1,000 resamples leaving the +2% day out)."""
    finite = samples[np.isfinite(samples)]
    undefined = int(samples.size - finite.size)
    counts = {"resamples": int(samples.size), "undefined": undefined}
    if finite.size == 0 or undefined > (1.0 - level) * samples.size:
        return ConfidenceInterval(estimate=estimate, low=math.nan, high=math.nan, level=level, **counts)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return ConfidenceInterval(estimate=estimate, low=float(low), high=float(high), level=level, **counts)


def bootstrap_intervals(
    portfolio: np.ndarray,
    benchmark: np.ndarray,
    *,
    n_boot: int = 1000,
    block_length: float = DEFAULT_BLOCK_LENGTH,
    risk_free: float = 0.0,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[ConfidenceInterval, ConfidenceInterval]:
    """(Sharpe, annual excess return) intervals from stationary-bootstrap resamples.

    The Sharpe ratio is the portfolio's own, over its finite days (the days the
    backtest's Sharpe uses); the excess return (CAGR minus the benchmark's CAGR) is
    resampled in pairs over the days both series are finite. With no missing day the two
    resamples are one (same seed, same days)."""
    p_all = np.asarray(portfolio, dtype=np.float64)
    b_all = np.asarray(benchmark, dtype=np.float64)
    nan = ConfidenceInterval(estimate=math.nan, low=math.nan, high=math.nan, level=level)
    own = p_all[np.isfinite(p_all)]
    keep = np.isfinite(p_all) & np.isfinite(b_all)
    p, b = p_all[keep], b_all[keep]
    sharpe = nan
    if own.size >= 2:
        index = stationary_bootstrap_indices(own.size, n_boot, block_length, np.random.default_rng(seed))
        sharpe = _interval(float(annual_sharpe(own, risk_free)), annual_sharpe(own[index], risk_free), level)
    excess = nan
    if p.size >= 2:
        if p.size != own.size:  # else the same days: the Sharpe's resample (same seed) serves
            index = stationary_bootstrap_indices(p.size, n_boot, block_length, np.random.default_rng(seed))
        # A difference within rounding of 0 is 0 (zero_within_rounding): a strategy that
        # holds its benchmark has CAGRs 2.8e-16 apart along two paths, not "-0.00%".
        excess_samples = zero_within_rounding(annual_growth(p[index]) - annual_growth(b[index]))
        estimate = zero_within_rounding(float(annual_growth(p) - annual_growth(b)))
        excess = _interval(estimate, excess_samples, level)
    return sharpe, excess


# ----- random portfolios -----------------------------------------------------------------


def _random_draws(prepared: Any, item: tuple[StrategyParams, list[np.ndarray], int, int, int]) -> np.ndarray:
    """One task: ``n`` random portfolios -> (n, 2) array of [annual Sharpe, total return].
    The prepared data is the executor's shared payload (put in the object store once per
    data set); the parameters and the eligible sets travel with each task."""
    params, eligible, seed, spawn_key, n = item
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(spawn_key,)))
    # Per period, the n draws at once: the k smallest of uniform keys is a uniform k-subset.
    picks = []
    for members in eligible:
        k = min(params.top_n, members.size)
        if k == 0:
            picks.append(np.zeros((n, 0), dtype=np.int64))
            continue
        keys = rng.random((n, members.size))
        picks.append(
            members[np.argpartition(keys, k - 1, axis=1)[:, :k]]
            if k < members.size
            else np.tile(members, (n, 1))
        )
    out = np.empty((n, 2))
    for draw in range(n):
        _, returns, _ = selection_returns(prepared, params, [np.sort(p[draw]) for p in picks])
        out[draw, 0] = annual_sharpe(returns, params.risk_free) if returns.size > 1 else math.nan
        out[draw, 1] = total_return(returns)  # NaN without a day
    return out


def _rank(value: float, draws: np.ndarray) -> tuple[float, float]:
    """(percentile 0-100 with ties counted half, one-sided p-value) of value among draws."""
    finite = draws[np.isfinite(draws)]
    if finite.size == 0 or not math.isfinite(value):
        return math.nan, math.nan
    # Equal up to rounding is a tie (engine.dispersion.tied): a draw of the strategy's own
    # holdings has its Sharpe ratio in other bits, and the percentile must not depend on them.
    tie = tied(finite, value)
    below = float(np.sum(~tie & (finite < value))) + 0.5 * float(np.sum(tie))
    at_least = float(np.sum(tie | (finite > value)))
    return 100.0 * below / finite.size, (1.0 + at_least) / (1.0 + finite.size)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RandomBaseline:
    n: int
    strategy_sharpe: float
    percentile: float  # of the strategy's Sharpe among the draws, 0-100
    p_value: float
    strategy_total_return: float
    total_return_percentile: float
    total_return_p_value: float
    sharpes: tuple[float, ...]
    total_returns: tuple[float, ...]
    executor: str = "serial"  # where the draws after the first ran (``Executor.for_work``)
    n_periods: int = 0  # holding periods (with a holding day) the draws choose in
    n_fixed_periods: int = 0  # of them, those with at most top_n eligible symbols: one choice
    note: str | None = None  # what ``n_fixed_periods`` means for the test, when it is not 0


def fixed_periods_note(n_fixed: int, n_periods: int, top_n: int) -> str | None:
    """The note on holding periods whose random selection is not random: at most ``top_n``
    eligible symbols, so every draw holds all of them, as the strategy does. Every period:
    the baseline is void (every draw is the strategy; no percentile or p-value). None when
    no period is so."""
    if n_fixed == 0 or n_periods == 0:
        return None
    if n_fixed == n_periods:
        return (
            f"The random-portfolio baseline has one possible selection per period: each of the "
            f"{n_periods} holding period(s) has at most top_n ({top_n}) eligible symbols, so every "
            "random draw would hold exactly the strategy's symbols; no percentile or p-value "
            "(choose a top_n below the number of eligible symbols to test the selection)."
        )
    return (
        f"{n_fixed} of {n_periods} holding period(s) have at most top_n ({top_n}) eligible symbols, so "
        "every random draw holds the strategy's own symbols in them; the percentile and p-value "
        f"compare selections in the other {n_periods - n_fixed} period(s) only."
    )


def random_baseline(
    prepared: Any,
    params: StrategyParams,
    *,
    strategy_sharpe: float,
    strategy_total_return: float,
    n_random: int = 500,
    seed: int = 0,
    executor: Executor | None = None,
) -> RandomBaseline:
    from engine.jobs import SerialExecutor

    segments = eligible_symbols_by_period(prepared, params)
    eligible = [members for _, members in segments]
    # Periods with a holding day (a last entry with none, period_start NaT, has no return)
    # and among them those with one possible selection: at most top_n eligible symbols.
    held = [members.size for start, members in segments if not pd.isna(start)]
    n_fixed = sum(size <= params.top_n for size in held)
    note = fixed_periods_note(n_fixed, len(held), params.top_n)
    if held and n_fixed == len(held):  # every draw is the strategy: nothing to rank it against
        return RandomBaseline(
            n=0,
            strategy_sharpe=strategy_sharpe,
            percentile=math.nan,
            p_value=math.nan,
            strategy_total_return=strategy_total_return,
            total_return_percentile=math.nan,
            total_return_p_value=math.nan,
            sharpes=(),
            total_returns=(),
            n_periods=len(held),
            n_fixed_periods=n_fixed,
            note=note,
        )
    sizes = [RANDOM_DRAWS_PER_TASK] * (n_random // RANDOM_DRAWS_PER_TASK)
    if n_random % RANDOM_DRAWS_PER_TASK:
        sizes.append(n_random % RANDOM_DRAWS_PER_TASK)
    items = [(params, eligible, seed, k, n) for k, n in enumerate(sizes)]
    shipped = prepared.for_tasks()
    chunks: list[np.ndarray] = []
    executor = executor or SerialExecutor()
    if items:
        # The first task's draws here, timed (the sweep's rule): under ``auto`` a job that
        # costs less in-process than joining Ray stays here (``Executor.for_work``); a
        # half-second report went to Ray and took 6 s. Every executor draws the same
        # portfolios (each task's generator is spawned from (seed, task number)).
        timer = time.perf_counter()
        chunks.append(_random_draws(shipped, items[0]))
        executor = executor.for_work((time.perf_counter() - timer) * (len(items) - 1))
        chunks.extend(executor.map(_random_draws, items[1:], shared=shipped))
    draws = np.concatenate(chunks) if chunks else np.zeros((0, 2))
    pct, p_value = _rank(strategy_sharpe, draws[:, 0])
    tr_pct, tr_p = _rank(strategy_total_return, draws[:, 1])
    return RandomBaseline(
        n=int(draws.shape[0]),
        strategy_sharpe=strategy_sharpe,
        percentile=pct,
        p_value=p_value,
        strategy_total_return=strategy_total_return,
        total_return_percentile=tr_pct,
        total_return_p_value=tr_p,
        sharpes=tuple(float(v) for v in draws[:, 0]),
        total_returns=tuple(float(v) for v in draws[:, 1]),
        executor=executor.name,
        n_periods=len(held),
        n_fixed_periods=n_fixed,
        note=note,
    )


# ----- the report ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class RobustnessReport:
    params: dict[str, Any]
    n_obs: int
    block_length: float
    n_boot: int
    seed: int
    sharpe_ci: ConfidenceInterval
    excess_return_ci: ConfidenceInterval
    random_portfolios: RandomBaseline
    probabilistic_sharpe: float  # PSR against a true Sharpe of 0 (one trial, so DSR = PSR)
    executor: str
    elapsed_s: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (NaN stays float NaN; lists for tuples)."""
        out = dataclasses.asdict(self)
        out["random_portfolios"]["sharpes"] = list(self.random_portfolios.sharpes)
        out["random_portfolios"]["total_returns"] = list(self.random_portfolios.total_returns)
        out["notes"] = list(self.notes)
        return out


def _undefined_sharpe_note(sharpe: float) -> str:
    """Why the Sharpe ratio's percentile and p-value are n/a: the strategy has none (its
    returns have no dispersion: a flat or cash-only strategy); "" when it has one."""
    if math.isfinite(sharpe):
        return ""
    return (
        "The strategy has no Sharpe ratio (its daily returns have no dispersion), so its percentile and "
        "p-value among the random portfolios' Sharpe ratios are n/a."
    )


def robustness_report(
    data: MarketData | PreparedData,
    params: StrategyParams,
    *,
    n_boot: int = 1000,
    n_random: int = 500,
    seed: int = 0,
    executor: Executor | None = None,
    block_length: float = DEFAULT_BLOCK_LENGTH,
    level: float = 0.95,
) -> RobustnessReport:
    """Bootstrap intervals, random-portfolio rank and PSR of one configuration. ``data``:
    validated ``MarketData`` or its ``prepare``d arrays (``ParameterError`` otherwise)."""
    from engine.errors import ParameterError
    from engine.jobs import SerialExecutor

    if not isinstance(params, StrategyParams):
        raise ParameterError("params must be a StrategyParams")
    check_robustness_settings(
        n_boot=n_boot, n_random=n_random, seed=seed, block_length=block_length, level=level
    )
    # numpy's integers pass the check; the report (JSON, the dashboard's store) keeps plain ones.
    n_boot, n_random, seed = int(n_boot), int(n_random), int(seed)
    block_length, level = float(block_length), float(level)
    started = time.perf_counter()
    executor = executor or SerialExecutor()
    prepared = as_prepared(data)
    result = run_prepared(prepared, params)
    portfolio = result.returns["portfolio"].to_numpy(dtype=np.float64)
    benchmark = result.returns["benchmark"].to_numpy(dtype=np.float64)
    sharpe_ci, excess_ci = bootstrap_intervals(
        portfolio,
        benchmark,
        n_boot=n_boot,
        block_length=block_length,
        risk_free=params.risk_free,
        level=level,
        seed=seed,
    )
    baseline = random_baseline(
        prepared,
        params,
        strategy_sharpe=float(result.metrics["sharpe"]),
        strategy_total_return=float(result.metrics["total_return"]),
        n_random=n_random,
        seed=seed,
        executor=executor,
    )
    psr = deflated_sharpe_of_returns(portfolio, [float(result.metrics["sharpe"])], params.risk_free)
    return RobustnessReport(
        params=params.to_dict(),
        n_obs=int(np.isfinite(portfolio).sum()),
        block_length=float(block_length),
        n_boot=n_boot,
        seed=seed,
        sharpe_ci=sharpe_ci,
        excess_return_ci=excess_ci,
        random_portfolios=baseline,
        probabilistic_sharpe=psr,
        executor=baseline.executor,
        elapsed_s=time.perf_counter() - started,
        notes=tuple(
            note
            for note in (
                baseline.note,
                _undefined_sharpe_note(float(result.metrics["sharpe"])),
                sharpe_ci.note("Sharpe ratio", "no dispersion: every return of the resample equal"),
                excess_ci.note("annual excess return", "a growth that overflows or is undefined"),
                *result.warnings[:5],
            )
            if note
        ),
    )
