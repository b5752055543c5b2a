"""Cost of signal analysis, walk-forward validation and PBO next to the plain sweep.

Run: ``python benchmarks/bench_research.py [--symbols 100] [--years 4] [--rounds 3]``.
Serial executor only (no Ray): the point is the *extra* work over the sweep, measured
side by side in one run on the same synthetic demo data. Prints, per step, the best of
``--rounds`` wall-clock times and its ratio to the plain sweep (``run_sweep``):

1. the plain sweep (metrics only);
2. the sweep that keeps every configuration's daily returns (``keep_returns=True``: one
   full backtest per configuration instead of the metrics-only path);
3. walk-forward selection on the kept returns matrix (slicing, no backtest rerun);
4. the probability of backtest overfitting (CSCV, S = 16: 12,870 combinations);
5. signal analysis of the base configuration (IC, decay, quantiles), and of every
   distinct signal setting of the grid;
6. one backtest (``run_prepared``) for scale.

No assertions: numbers depend on the machine's load; compare the ratios.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # before numpy is imported

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import freeze_startup_objects, single_blas_thread, tune_allocator
from engine.analytics.pbo import PBOSettings, probability_of_backtest_overfitting
from engine.backtest.base import clear_caches, run_prepared
from engine.backtest.prepare import prepare
from engine.data.demo import DemoProvider
from engine.data.providers import load_market_data
from engine.jobs import SerialExecutor
from engine.research.signal_analysis import analyze_signal
from engine.research.sweep import run_sweep
from engine.research.walk_forward import WalkForwardSettings, walk_forward
from engine.strategy.params import StrategyParams

GRID: dict[str, tuple[Any, ...]] = {
    "top_n": (3, 5, 10, 20),
    "min_likes": (0.0, 20.0, 50.0),
    "rebalance": ("weekly", "monthly"),
    "lag_days": (0, 2),
    "weighting": ("equal", "inverse_volatility"),
}


def _best_of(fn: Any, rounds: int) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(rounds):
        clear_caches()  # every round pays the signal aggregation, as a fresh request does
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    # As every engine entry point does (the CLI, the app, Ray tasks); all candidates share
    # them: the allocator's settings, and one BLAS thread (the product's driver never runs
    # more: its numbers do not depend on the thread count, engine.threads).
    tune_allocator()
    freeze_startup_objects()  # as the CLI, the app and Ray tasks do
    single_blas_thread()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    data = load_market_data(DemoProvider(seed=7, n_symbols=args.symbols, years=args.years), benchmark="QQQ")
    prepared = prepare(data)
    n_configs = 1
    for values in GRID.values():
        n_configs *= len(values)
    print(
        f"demo data: {args.symbols} symbols, {len(prepared.dates)} trading days, "
        f"{len(data.sentiment):,} sentiment rows; grid of {n_configs} configurations; best of {args.rounds}"
    )
    serial = SerialExecutor()
    rows: list[tuple[str, float]] = []
    sweep_s, _ = _best_of(lambda: run_sweep(data, GRID, executor=serial), args.rounds)
    rows.append(("plain sweep (metrics only)", sweep_s))
    keep_s, kept = _best_of(lambda: run_sweep(data, GRID, executor=serial, keep_returns=True), args.rounds)
    rows.append(("sweep keeping daily returns", keep_s))
    matrix = kept.returns
    wf_s, _ = _best_of(lambda: walk_forward(matrix, WalkForwardSettings()), args.rounds)
    rows.append((f"walk-forward, 5 folds on {matrix.shape[0]} x {matrix.shape[1]} returns", wf_s))
    pbo_s, pbo = _best_of(lambda: probability_of_backtest_overfitting(matrix, PBOSettings()), args.rounds)
    rows.append((f"PBO, S = 16 ({pbo.n_combinations:,} combinations)", pbo_s))
    rows.append(("keep returns + walk-forward + PBO", keep_s + wf_s + pbo_s))
    base = StrategyParams()
    sig_s, _ = _best_of(lambda: analyze_signal(prepared, base), args.rounds)
    rows.append(("signal analysis, one setting (prepared data)", sig_s))
    settings = sorted(
        {(r, m, lag) for r in GRID["rebalance"] for m in GRID["min_likes"] for lag in GRID["lag_days"]}
    )
    all_sig_s, _ = _best_of(
        lambda: [
            analyze_signal(prepared, base.replace(rebalance=r, min_likes=m, lag_days=lag))
            for r, m, lag in settings
        ],
        args.rounds,
    )
    rows.append((f"signal analysis, the grid's {len(settings)} signal settings", all_sig_s))
    one_s, _ = _best_of(lambda: run_prepared(prepared, base), args.rounds)
    rows.append(("one backtest (run_prepared)", one_s))

    width = max(len(name) for name, _ in rows)
    print(f"{'step'.ljust(width)}  {'seconds':>9}  {'x plain sweep':>13}")
    for name, seconds in rows:
        print(f"{name.ljust(width)}  {seconds:9.3f}  {seconds / sweep_s:13.2f}")
    print(
        f"(PBO of this grid on demo data: {pbo.pbo:.2f}; extra over the plain sweep for walk-forward + PBO: "
        f"{(keep_s + wf_s + pbo_s) / sweep_s - 1:+.0%})"
    )


if __name__ == "__main__":
    main()
