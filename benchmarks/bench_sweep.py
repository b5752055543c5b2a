"""Sweep throughput on the serial executor vs Ray, object-store passing, cost growth.

Run: ``python benchmarks/bench_sweep.py`` (starts a private embedded Ray cluster with all
the machine's CPUs and stops it at the end). Prints, in one run:

1. configurations/second of the same multi-second sweep on SerialExecutor and on Ray,
   and their ratio (the cluster is warmed up first: its start is a one-off cost);
2. the cost of handing the prepared price matrix to tasks by reference (one ``ray.put``)
   versus by value (captured in every task's closure);
3. how a sweep's time grows when the number of configurations, then of symbols, doubles;
4./5. with ``--sentiment PATH`` (default: ``../shared/data/sentiment_data.csv`` when it is
   there), the same serial/Ray comparison on that file's universe: its real sentiment
   rows, with synthetic prices for its symbols (Yahoo is not reachable everywhere); 5. the
   issue's W3 grid (256 configurations, equal weight) on that universe, serial and Ray,
   and 5b. the same x 8 costs x 2 lags (4,096 configurations);
6. bench_peers.py's W3 sweep (500 symbols x 10 years, 1M sentiment rows), serial and
   Ray, from the ``MarketData`` (each run prepares it) and 6a. from its prepared data set
   (as the dashboard runs sweeps: it keeps one ``PreparedData`` per data set), and 6b. the machine's parallel ceiling for it: two copies in two forked processes
   at once (no Ray) against one alone; 6c. the bound on any two-CPU executor: the sweep's
   two chunks at once in two forked processes (no Ray) plus its serial driver work;
7. the trial clustering of the sweep's DSR at 256 to 3,392 distinct trials: the first
   build's loop against the shared sums, side by side.

Numbers depend on the machine's load; compare the ratios, not the absolute times. BLAS
runs single-threaded in both cases (Ray sets OMP_NUM_THREADS=1 in its workers; the serial
run gets the same here), so the ratio measures task parallelism, not BLAS threads.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # before numpy is imported

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import (
    MarketData,
    SourceInfo,
    freeze_startup_objects,
    load_sentiment_csv,
    single_blas_thread,
    tune_allocator,
    warm_up_kernels,
)
from engine.backtest.base import clear_caches
from engine.backtest.prepare import prepare
from engine.data.demo import DemoProvider
from engine.data.providers import load_market_data
from engine.jobs import SerialExecutor
from engine.research.sweep import grid_size, run_sweep
from engine.strategy.params import StrategyParams

SHARED_SENTIMENT = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentiment_data.csv"

GRID: dict[str, tuple[Any, ...]] = {
    "top_n": (3, 5, 8, 10, 15, 20),
    "min_likes": (0.0, 10.0, 20.0, 50.0),
    "weighting": ("equal", "inverse_volatility", "hrp"),
    "rebalance": ("weekly", "monthly"),
    "lookback_days": (21, 63, 126),
}


def _timed(fn: Any, repeat: int = 1) -> tuple[float, Any]:
    """Best of ``repeat`` wall-clock times (the machine is shared: the minimum is the least noisy)."""
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def _shape_of(shared: Any, item: int) -> int:
    return int(shared.prices.shape[0]) + item


def throughput(data: Any, ray_executor: Any, label: str, rounds: int = 5) -> None:
    """Serial and Ray runs alternate, so both see the same background load; the ratio is
    the median of the per-round ratios."""
    n = 1
    for values in GRID.values():
        n *= len(values)
    serial_times, ray_times, same = [], [], True
    for _ in range(rounds):
        serial_s, serial = _timed(lambda: run_sweep(data, GRID, executor=SerialExecutor()))
        ray_s, on_ray = _timed(lambda: run_sweep(data, GRID, executor=ray_executor))
        serial_times.append(serial_s)
        ray_times.append(ray_s)
        same = same and serial.table.equals(on_ray.table)
    ratios = sorted(s / r for s, r in zip(serial_times, ray_times, strict=False))
    print(f"{label}: sweep of {n} configurations (equal/inverse-vol/HRP weights, 3 lookbacks)")
    print(
        f"   serial: {min(serial_times):6.2f} s  {n / min(serial_times):7.1f} configurations/s  (best of {rounds})"
    )
    print(
        f"   ray:    {min(ray_times):6.2f} s  {n / min(ray_times):7.1f} configurations/s  "
        f"(best of {rounds}, {ray_executor.parallelism} CPUs)"
    )
    print(
        f"   ray / serial throughput: {ratios[len(ratios) // 2]:.2f}x median of rounds "
        f"({', '.join(f'{r:.2f}' for r in ratios)})   identical tables: {same}"
    )


# The W3 grid (bench_peers.py): top_n x min_likes x min_comments, equal weight, 10 bps.
W3_GRID: dict[str, tuple[Any, ...]] = {
    "top_n": (10, 20, 30, 40, 50, 60, 70, 80),
    "min_likes": (0.0, 10.0, 20.0, 50.0, 75.0, 100.0, 150.0, 200.0),
    "min_comments": (0.0, 5.0, 10.0, 20.0),
}


# bench_peers' W3 sweep takes ~0.4 s a round: 9 rounds, so that the median ratio is not
# one noisy round's (on a 2-vCPU VM whose neighbours' load changes from minute to minute).
W3_ROUNDS = 9


def w3_throughput(
    data: Any, ray_executor: Any, label: str, rounds: int = 5, grid: dict[str, tuple[Any, ...]] | None = None
) -> None:
    """The W3 grid (or ``grid``), serial and Ray interleaved; medians of the rounds."""
    grid = grid or W3_GRID
    n = grid_size(grid)
    base = StrategyParams(weighting="equal", cost_bps=10.0)
    serial_times, ray_times, same = [], [], True
    # One untimed run of each first: the Ray workers load the sweep's compiled kernels at
    # their first sweep task (a one-off per worker process, as the driver's at its first).
    run_sweep(data, grid, base=base, executor=SerialExecutor())
    run_sweep(data, grid, base=base, executor=ray_executor)
    for _ in range(rounds):
        # Every run pays its signal work: nothing memoised by the previous run (a sweep of
        # a prepared data set could otherwise reuse its signals in this process, which a
        # Ray worker's fresh copy of the data never does).
        clear_caches()
        serial_s, serial = _timed(lambda: run_sweep(data, grid, base=base, executor=SerialExecutor()))
        clear_caches()
        ray_s, on_ray = _timed(lambda: run_sweep(data, grid, base=base, executor=ray_executor))
        serial_times.append(serial_s)
        ray_times.append(ray_s)
        same = same and serial.table.equals(on_ray.table)
    serial_med, ray_med = statistics.median(serial_times), statistics.median(ray_times)
    ratios = sorted(s / r for s, r in zip(serial_times, ray_times, strict=False))
    print(f"{label}: {n} configurations ({' x '.join(grid)}, equal weight)")
    print(f"   serial: {serial_med:6.2f} s  {n / serial_med:7.1f} configurations/s  (median of {rounds})")
    print(
        f"   ray:    {ray_med:6.2f} s  {n / ray_med:7.1f} configurations/s  "
        f"(median of {rounds}, {ray_executor.parallelism} CPUs)"
    )
    print(
        f"   ray / serial throughput: {ratios[len(ratios) // 2]:.2f}x median of rounds "
        f"({', '.join(f'{r:.2f}' for r in ratios)})   identical tables: {same}"
    )


def _sweep_seconds(data: Any, grid: dict[str, tuple[Any, ...]], base: StrategyParams) -> float:
    start = time.perf_counter()
    run_sweep(data, grid, base=base, executor=SerialExecutor())
    return time.perf_counter() - start


def _sweep_at_the_signal(
    data: Any, grid: dict[str, tuple[Any, ...]], base: StrategyParams, go: Any, out: Any
) -> None:
    """In a forked process: one warm-up sweep, then one timed sweep when ``go`` opens."""
    _sweep_seconds(data, grid, base)
    go.wait()
    out.put(_sweep_seconds(data, grid, base))


def parallel_ceiling(data: Any, label: str, grid: dict[str, tuple[Any, ...]], rounds: int = 3) -> None:
    """What two CPUs give this work here, without Ray: the same sweep in one process
    alone against two copies of it in two forked processes started together; the
    throughput ratio is 2 x alone / together. Work that streams memory (a million
    sentiment rows per signal setting) shares the memory bus and caches, so two CPUs give
    less than 2x, and a parallel executor cannot beat this ratio on this sweep."""
    import multiprocessing as mp

    base = StrategyParams(weighting="equal", cost_bps=10.0)
    context = mp.get_context("fork")
    alone, together = [], []
    _sweep_seconds(data, grid, base)  # warm
    for _ in range(rounds):
        alone.append(_sweep_seconds(data, grid, base))
        go, out = context.Barrier(3), context.Queue()
        workers = [
            context.Process(target=_sweep_at_the_signal, args=(data, grid, base, go, out)) for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        go.wait()
        start = time.perf_counter()
        seconds = [out.get(), out.get()]
        together.append(time.perf_counter() - start)
        for worker in workers:
            worker.join()
        del seconds
    ratio = 2 * statistics.median(alone) / statistics.median(together)
    print(
        f"{label}: the machine's parallel ceiling for it: two copies in two processes at once (no Ray) give "
        f"{ratio:.2f}x the throughput of one ({statistics.median(together):.2f} s for both vs "
        f"{statistics.median(alone):.2f} s alone, medians of {rounds})"
    )


def _chunk_seconds(shipped: Any, chunk: Any) -> float:
    from engine.research.sweep import _run_chunk  # the body of every sweep task

    clear_caches()  # a task's worker has no signal memoised from an earlier run
    start = time.perf_counter()
    _run_chunk(shipped, chunk)  # (outcomes, seconds)
    return time.perf_counter() - start


def _chunk_at_the_signal(shipped: Any, chunk: Any, go: Any, out: Any) -> None:
    """In a forked process: one warm-up run of the chunk, then one timed when ``go`` opens."""
    _chunk_seconds(shipped, chunk)
    go.wait()
    out.put(_chunk_seconds(shipped, chunk))


def halves_ceiling(data: Any, label: str, grid: dict[str, tuple[Any, ...]], rounds: int = 3) -> None:
    """The bound on any two-CPU executor for this sweep, measured: a sweep's driver work
    (preparing the configurations, the table, the DSR) is serial, and its configurations
    are two chunks of whole signal groups (what ``run_sweep`` gives two CPUs). Per round:
    the serial sweep (S), each chunk alone in this process (A, B) and both at once in two
    forked processes (the slower one's time, M, no Ray). The bound is S / (S - A - B + M):
    an executor with no cost of its own, on this machine at that moment."""
    import multiprocessing as mp

    from engine.research import sweep as internals  # the sweep's own chunking, for the bound

    base = StrategyParams(weighting="equal", cost_bps=10.0)
    prepared = prepare(data) if isinstance(data, MarketData) else data
    checked = internals._check_grid(grid)
    _combos, configs, _invalid = internals._configurations(checked, base)
    internals._touch_rows(prepared, configs)
    shipped = prepared.for_tasks()
    groups = internals._grouped(configs)
    chunks = internals._group_chunks(groups, -(-len(configs) // 2))
    context = mp.get_context("fork")
    bounds, slowdowns = [], []
    _sweep_seconds(data, grid, base)  # warm
    for _ in range(rounds):
        clear_caches()
        whole = _sweep_seconds(data, grid, base)
        alone = [_chunk_seconds(shipped, chunk) for chunk in chunks]
        go, out = context.Barrier(len(chunks) + 1), context.Queue()
        workers = [context.Process(target=_chunk_at_the_signal, args=(shipped, c, go, out)) for c in chunks]
        for worker in workers:
            worker.start()
        go.wait()
        together = max(out.get() for _ in chunks)
        for worker in workers:
            worker.join()
        bounds.append(whole / (whole - sum(alone) + together))
        slowdowns.append(together / max(alone))
    bounds.sort()
    print(
        f"{label}: the bound on any executor with two CPUs for it: the two chunks of whole signal groups "
        f"({' + '.join(str(len(c)) for c in chunks)} configurations) run at once in two forked processes "
        f"(no Ray), plus the sweep's serial driver work, give {statistics.median(bounds):.2f}x the serial "
        f"throughput, median of rounds ({', '.join(f'{b:.2f}' for b in bounds)}); the slower chunk ran "
        f"{statistics.median(slowdowns):.2f}x its time alone (median)"
    )


def by_reference_vs_by_value(data: Any, ray_executor: Any, n_tasks: int = 64) -> None:
    prepared = prepare(data)

    def captured(_unused: Any, item: int) -> int:  # the closure carries the arrays
        return int(prepared.prices.shape[0]) + item

    items = list(range(n_tasks))
    ref_s, a = _timed(lambda: ray_executor.map(_shape_of, items, shared=prepared), repeat=3)
    val_s, b = _timed(lambda: ray_executor.map(captured, items, shared=None), repeat=3)
    size_mb = (prepared.prices.nbytes + prepared.returns.nbytes) / 1e6
    print(f"2. {n_tasks} tiny tasks reading the prepared data (~{size_mb:.1f} MB of price/return matrices)")
    print(f"   by reference (one ray.put): {ref_s * 1000:7.0f} ms")
    print(
        f"   by value (in every task):   {val_s * 1000:7.0f} ms   ({val_s / ref_s:.1f}x slower; same answers: {a == b})"
    )


def growth() -> None:
    """Sweep time as the configurations grow 64 -> 4,096 (100 symbols) and the symbols
    50 -> 2,000 (64 configurations); equal weight, so the signal work is what is shared."""
    print("3. cost growth (serial executor, seconds; equal weight)")
    base_data = load_market_data(DemoProvider(n_symbols=100, years=5), benchmark="QQQ")
    grid: dict[str, tuple[Any, ...]] = {
        "top_n": (3, 5, 8, 10),
        "min_likes": (0.0, 20.0),
        "rebalance": ("weekly", "monthly"),
        "lookback_days": (21, 63),
        "min_comments": (0.0, 5.0),
    }  # 64 configurations
    previous = None
    costs = (0.0, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 25.0)
    for extra in (
        {},
        {"cost_bps": costs[:4]},
        {"cost_bps": costs, "lag_days": (0, 1)},
        {
            "cost_bps": costs,
            "lag_days": (0, 1),
            "signal_transform": ("level", "change"),
            "aggregation": ("mean", "median"),
        },
    ):
        sized = {**grid, **extra}
        n = grid_size(sized)
        seconds, _ = _timed(lambda sized=sized: run_sweep(base_data, sized, executor=SerialExecutor()))
        ratio = f"  x{seconds / previous:.2f}" if previous else ""
        print(
            f"   {n:5d} configurations, 100 symbols: {seconds:6.2f} s  {n / seconds:7.1f} configurations/s{ratio}"
        )
        previous = seconds
    previous = None
    from bench_backtest import synthetic_market  # the demo generator stops at 625 symbols

    for n_symbols in (50, 200, 800, 2000):
        data = synthetic_market(n_symbols=n_symbols, years=3)
        seconds, _ = _timed(lambda data=data: run_sweep(data, grid, executor=SerialExecutor()))
        ratio = f"  x{seconds / previous:.2f}" if previous else ""
        print(f"   {n_symbols:5d} symbols (3 years), 64 configurations: {seconds:6.2f} s{ratio}")
        previous = seconds


def trial_clustering() -> None:
    """The DSR's effective number of trials (``trial_clusters``) of n distinct trials, as
    large sweeps have them: the first build's loop (one (n, n) x k product per cut, kept as
    the reference in tests/engine/analytics/test_trial_clusters.py) against the shared
    sums, on the same factor-structured returns; the chosen clusters are compared first."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from engine.analytics.statistics import trial_clusters
    from tests.engine.analytics.test_trial_clusters import _factor_returns, _reference_trial_clusters

    print("7. trial clustering (the sweep's DSR) of n distinct trials: first build's loop vs shared sums")
    for n_trials, n_days in ((256, 2520), (1000, 300), (2000, 300), (3392, 300)):
        returns = _factor_returns(1, n_days, n_trials, 10, 0.5)
        loop_s, expected = _timed(lambda r=returns: _reference_trial_clusters(r), repeat=3)
        shared_s, labels = _timed(lambda r=returns: trial_clusters(r), repeat=3)
        print(
            f"   {n_trials:5d} trials x {n_days} days: loop {loop_s * 1000:7.1f} ms, shared sums "
            f"{shared_s * 1000:7.1f} ms, {loop_s / shared_s:5.2f}x   same clusters: "
            f"{bool((expected == labels).all())} ({int(labels.max()) + 1} clusters)"
        )


def real_universe(path: Path) -> MarketData:
    """The file's real sentiment rows; synthetic (demo factor-model) prices renamed to its symbols."""
    sentiment, report = load_sentiment_csv(path)
    symbols = sorted(sentiment["symbol"].unique())
    demo = load_market_data(DemoProvider(n_symbols=len(symbols) + 1, years=5), benchmark="QQQ")
    stand_ins = [c for c in demo.prices.columns if c != "QQQ"][: len(symbols)]
    prices = demo.prices.rename(columns=dict(zip(stand_ins, symbols, strict=False)))[[*symbols, "QQQ"]]
    source = SourceInfo(kind="files", label=f"{path.name} + synthetic prices", synthetic=True)
    return MarketData.build(sentiment=sentiment, prices=prices, source=source, report=report)


def main() -> None:
    # As every engine entry point does (the CLI, the app, Ray tasks); all candidates share
    # them: the allocator's settings, and one BLAS thread (the product's driver never runs
    # more: its numbers do not depend on the thread count, engine.threads).
    tune_allocator()
    # Every kernel compiled (or loaded from numba's disk cache) before any timing, as the
    # dashboard's compute processes do: after the cache was rebuilt, the first 64-configuration
    # sweep of section 3 once measured 2.38 s, a compilation, instead of 0.02 s.
    warm_up_kernels()
    freeze_startup_objects()  # as the CLI, the app and Ray tasks do
    single_blas_thread()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sentiment", type=Path, default=SHARED_SENTIMENT if SHARED_SENTIMENT.is_file() else None
    )
    parser.add_argument(
        "--only", default="1,2,3,4,5,6,7", help="comma-separated sections to run (default: all, 1-7)"
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    runtime = tempfile.mkdtemp(prefix="spl-b", dir="/tmp")
    os.environ["SPL_RUNTIME_DIR"] = runtime
    # Ray niceness 15 by default for its workers; the serial run is at nice 0. Equal priority
    # makes the comparison fair on a machine shared with other processes.
    os.environ.setdefault("SPL_RAY_WORKER_NICENESS", "0")
    os.environ.pop("RAY_ADDRESS", None)
    import engine as _ray  # RayExecutor, shutdown_embedded_cluster

    try:
        data = load_market_data(DemoProvider(), benchmark="QQQ")
        ray_executor = _ray.RayExecutor()
        start_s, _ = _timed(lambda: ray_executor.map(_shape_of, list(range(8)), shared=prepare(data)))
        print(
            f"0. embedded Ray cluster start + first tasks (one-off): {start_s:.1f} s; load average {os.getloadavg()[0]:.1f}"
        )
        if "1" in only:
            throughput(data, ray_executor, "1. demo data (100 symbols, 5 years)")
        if "2" in only:
            by_reference_vs_by_value(data, ray_executor)
        if "3" in only:
            growth()
        if args.sentiment is not None and only & {"4", "5"}:
            real = real_universe(args.sentiment)
            n_symbols = real.sentiment["symbol"].nunique()
            if "4" in only:
                throughput(
                    real,
                    ray_executor,
                    f"4. {args.sentiment.name}: {len(real.sentiment):,} real rows, "
                    f"{n_symbols} symbols, synthetic prices",
                )
        if args.sentiment is not None and "5" in only:
            w3_throughput(real, ray_executor, f"5. {args.sentiment.name} ({n_symbols} symbols), the W3 grid")
            w3_throughput(
                real,
                ray_executor,
                f"5b. {args.sentiment.name} ({n_symbols} symbols), the W3 grid x 8 costs x 2 lags",
                rounds=3,
                grid={
                    **W3_GRID,
                    "cost_bps": (0.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 50.0),
                    "lag_days": (0, 1),
                },
            )
        if args.sentiment is None:
            print("4./5. real data universe: skipped (no --sentiment file and ../shared is absent)")
        if "6" in only:
            from bench_backtest import synthetic_market
            from bench_peers import W3_GRID as PEERS_W3_GRID

            w3_data = synthetic_market(n_symbols=500, years=10)
            w3_throughput(
                w3_data,
                ray_executor,
                "6. bench_peers' W3 sweep (500 symbols x 10 years, 1,008,186 rows)",
                rounds=W3_ROUNDS,
                grid=PEERS_W3_GRID,
            )
            w3_throughput(
                prepare(w3_data),
                ray_executor,
                "6a. the same sweep of the prepared data set, as the dashboard runs its sweeps "
                "(it keeps one PreparedData per data set)",
                rounds=W3_ROUNDS,
                grid=PEERS_W3_GRID,
            )
            parallel_ceiling(w3_data, "6b. the same sweep", PEERS_W3_GRID, rounds=W3_ROUNDS)
            halves_ceiling(
                prepare(w3_data),
                "6c. the same sweep of the prepared data set",
                PEERS_W3_GRID,
                rounds=W3_ROUNDS,
            )
        if "7" in only:
            trial_clustering()
        print(f"   (load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    finally:
        _ray.shutdown_embedded_cluster()
        shutil.rmtree(runtime, ignore_errors=True)


if __name__ == "__main__":
    main()
