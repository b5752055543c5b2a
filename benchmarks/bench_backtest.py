"""Speed of the vectorised backtest against a straightforward per-period pandas loop.

One run on the same seeded synthetic market: 500 symbols x 10 years of daily prices and
daily sentiment rows (our own generator: the demo provider keeps two years of
sentiment), monthly rebalancing, top 50, equal weight. Prints:

- the reference loop's time and the engine's (``run_backtest`` from frames,
  ``run_prepared`` and the sweep path ``backtest_metrics`` on prepared data), and the
  ratio reference / engine (aim: >= 50x);
- the engine's time as a multiple of one numpy pass over the price matrix,
  ``np.diff(prices, axis=0) / prices[:-1]`` (aim: <= 10x).

Both implementations must agree on every daily return within 1e-10 before any timing.
Medians over interleaved rounds (the machine may be shared). Run: ``python benchmarks/bench_backtest.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import (
    MarketData,
    SourceInfo,
    StrategyParams,
    backtest_metrics,
    prepare,
    run_backtest,
    run_prepared,
)
from engine._backtest import clear_caches

N_SYMBOLS = 500
YEARS = 10
TOP_N = 50
ROUNDS = 5  # each round times every candidate a few times; medians over all rounds


def synthetic_market(seed: int = 42, n_symbols: int = N_SYMBOLS, years: int = YEARS) -> MarketData:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(end="2023-12-29", periods=years * 252, name="date")
    symbols = [f"S{i:04d}" for i in range(n_symbols)]
    n_days = len(days)
    market = rng.normal(0.0003, 0.011, (n_days, 1))
    log_r = market * rng.uniform(0.5, 1.5, n_symbols) + rng.normal(0, 0.015, (n_days, n_symbols))
    prices = 50.0 * np.exp(np.cumsum(log_r, axis=0))
    # Some symbols list late and some delist, as in real data.
    late = rng.choice(n_symbols, 25, replace=False)
    for s in late:
        prices[: rng.integers(50, n_days // 2), s] = np.nan
    gone = rng.choice(np.setdiff1d(np.arange(n_symbols), late), 15, replace=False)
    for s in gone:
        prices[rng.integers(n_days // 2, n_days - 50) :, s] = np.nan
    bench = 300.0 * np.exp(np.cumsum(market[:, 0] + rng.normal(0, 0.002, n_days)))
    price_frame = pd.DataFrame(prices, index=days, columns=symbols)
    price_frame["QQQ"] = bench
    price_frame = price_frame[sorted(price_frame.columns)]

    keep = rng.random((n_days, n_symbols)) > 0.2  # 20% symbol-days without a row
    day_idx, sym_idx = np.nonzero(keep)
    n = len(day_idx)
    likes = rng.lognormal(4.0, 1.2, n).round()
    comments = (likes * rng.beta(2, 8, n)).round()
    sentiment = pd.DataFrame(
        {
            "date": days.values[day_idx].astype("datetime64[ns]"),
            "symbol": np.asarray(symbols)[sym_idx],
            "twitterPosts": rng.integers(1, 50, n).astype(float),
            "twitterComments": comments,
            "twitterLikes": likes,
            "twitterImpressions": (likes * 300).astype(float),
            "twitterSentiment": rng.normal(0, 1, n),
        }
    )
    source = SourceInfo(kind="demo", label="benchmark market (SYNTHETIC)", synthetic=True)
    return MarketData.build(sentiment=sentiment, prices=price_frame, source=source)


def reference_backtest(data: MarketData, params: StrategyParams) -> pd.Series:
    """The strategy written plainly: a pandas loop over months (equal weight, no costs)."""
    sent = data.sentiment
    sent = sent[(sent["twitterLikes"] > params.min_likes) & (sent["twitterComments"] > params.min_comments)]
    sent = sent.assign(
        ratio=sent["twitterComments"] / sent["twitterLikes"], month=sent["date"].dt.to_period("M")
    )
    signal = sent.groupby(["month", "symbol"])["ratio"].mean()
    prices = data.prices
    filled = prices.ffill()
    first_valid = {s: prices[s].first_valid_index() for s in prices.columns}
    last_valid = {s: prices[s].last_valid_index() for s in prices.columns}
    dates = prices.index
    months = signal.index.get_level_values("month").unique().sort_values()
    pieces = []
    for month in pd.period_range(months[0], months[-1], freq="M"):
        entry_pos = dates.searchsorted(month.end_time.normalize(), side="right") - 1
        end_pos = dates.searchsorted((month + 1).end_time.normalize(), side="right") - 1
        if end_pos <= max(entry_pos, 0):
            continue
        entry_pos = max(entry_pos, 0)
        entry = dates[entry_pos]
        days = dates[entry_pos + 1 : end_pos + 1]
        ranked = signal.loc[month].reset_index().sort_values(["ratio", "symbol"], ascending=[False, True])
        top = ranked["symbol"].head(params.top_n)
        held = [s for s in top if first_valid.get(s) is not None and first_valid[s] <= entry <= last_valid[s]]
        if not held:
            pieces.append(pd.Series(0.0, index=days))
            continue
        relative = filled.loc[days, held] / filled.loc[entry, held]
        value = relative.mean(axis=1)
        previous = value.shift(1, fill_value=1.0)
        pieces.append(value / previous - 1.0)
    return pd.concat(pieces)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    print(f"building the synthetic market: {N_SYMBOLS} symbols x {YEARS} years ...", flush=True)
    data = synthetic_market()
    params = StrategyParams(top_n=TOP_N, rebalance="monthly", weighting="equal")
    print(
        f"prices {data.prices.shape[0]} days x {data.prices.shape[1]} columns, sentiment {len(data.sentiment):,} rows"
    )

    expected = reference_backtest(data, params)
    prepared = prepare(data)
    result = run_prepared(prepared, params)
    got = result.returns["portfolio"]
    assert got.index.equals(pd.DatetimeIndex(expected.index)), "the two implementations trade different days"
    worst = float(np.max(np.abs(got.to_numpy() - expected.to_numpy())))
    assert worst < 1e-10, f"engine and reference differ by {worst:g}"
    assert backtest_metrics(prepared, params) == dict(result.metrics)
    print(
        f"engine == reference loop on {len(got)} days, {len(result.periods)} periods (max |diff| {worst:.1e})"
    )

    matrix = data.prices.to_numpy()

    def uncached(fn: Callable[..., object]) -> object:
        clear_caches()  # measure the full work: no signal memoised from the previous call
        return fn(prepared, params)

    candidates: dict[str, tuple[Callable[[], object], int]] = {
        "reference": (lambda: reference_backtest(data, params), 1),
        "full": (lambda: run_backtest(data, params), 2),
        "prepare": (lambda: prepare(data), 2),
        "prepared": (lambda: uncached(run_prepared), 5),
        "metrics": (lambda: uncached(backtest_metrics), 10),
        "metrics_cached": (lambda: backtest_metrics(prepared, params), 10),
        "numpy": (lambda: np.diff(matrix, axis=0) / matrix[:-1], 20),
    }
    # Rounds interleave the candidates, so a busy machine slows them all alike.
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(ROUNDS):
        for name, (fn, per_round) in candidates.items():
            samples[name].extend(timed(fn) for _ in range(per_round))
    median = {name: statistics.median(values) for name, values in samples.items()}
    t_reference, t_full, t_prepare = median["reference"], median["full"], median["prepare"]
    t_prepared, t_metrics, t_numpy = median["prepared"], median["metrics"], median["numpy"]
    t_cached = median["metrics_cached"]

    rows = [
        ("reference pandas loop", t_reference),
        ("engine run_backtest (prepare + run)", t_full),
        ("  of which prepare(data)", t_prepare),
        ("engine run_prepared (full result)", t_prepared),
        ("engine backtest_metrics (sweep path)", t_metrics),
        ("  same, signal memoised (same thresholds)", t_cached),
        ("one numpy pass over the prices", t_numpy),
    ]
    print()
    print(f"{'':40s} {'median ms':>10s} {'x numpy pass':>13s}")
    for name, seconds in rows:
        print(f"{name:40s} {seconds * 1e3:10.2f} {seconds / t_numpy:13.1f}")
    print()
    print(
        f"speed-up vs reference loop: run_backtest {t_reference / t_full:6.1f}x, "
        f"run_prepared {t_reference / t_prepared:6.1f}x, backtest_metrics {t_reference / t_metrics:6.1f}x  (aim >= 50x)"
    )
    print(
        f"backtest_metrics = {t_metrics / t_numpy:.1f} numpy passes, run_prepared = {t_prepared / t_numpy:.1f}  (aim <= 10x)"
    )


if __name__ == "__main__":
    main()
