"""The W3 sweep against the first build's code, side by side on this machine.

Issue 12 asks for the serial W3 sweep (bench_peers: 256 configurations, top_n x min_likes
x min_comments, 500 symbols x 10 years, ~1M sentiment rows) to run at least 10x faster
than the code had it when the issue was filed. Absolute rates follow the host (the same
code ran W3 at 441 configurations/s on one 2-core host and 1,108/s on another), so this
script measures the ratio itself: the first build's engine (commit ``FIRST_BUILD``, the
last commit before the speed work, whose 96-configuration sweep ``test_golden.py`` pins)
and this checkout's engine each run the same sweep on the same frames, in alternating
rounds, each in its own fresh process: the first sweep of the process (the data prepared,
the kernels loaded: an analyst's first sweep of a data set), then the same sweep repeated
``REPEATS`` times (the steady state of a dashboard that keeps the prepared data; their
median). The two
tables must agree bit for bit (every metric column) before a ratio is printed. The first
build's scalar ``np.power`` is swapped for the C library's ``pow`` first
(``_portable_power``): on AVX-512 CPUs numpy's version gives other last bits.

The first build's sweep time depended on luck (issue 12): its chunk count followed the
time of its first configuration, and with 5 or 6 chunks its 8-slot signal cache
overflowed (4.4-4.6 s on the filing host), with 4 it did not (1.9-2.2 s). A fast host
gives it few chunks, so there it is always lucky. Each round therefore runs the first build
twice: as it chunks on this host, and in ``FILING_CHUNKS`` chunks, the count it chose on
the filing host (``--filing-chunks``; ``_force_chunks``). The second is the issue's
"today" measured on this host.

The first build is read from this repository's history (``git archive``), so the script
needs a clone with history, not an exported tree. Run::

    python benchmarks/bench_first_build.py [--rounds 3] [--quick]

Prints one line per round and the median ratios. ``--quick``: 100 symbols x 3 years.
"""

from __future__ import annotations

import argparse
import math
import pickle
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

FIRST_BUILD = "9b4f4bc"  # 2026-11-30 02:01 UTC: golden pins generated from it, before the speed work
REPO = Path(__file__).resolve().parents[1]
BASE = {"top_n": 50, "rebalance": "monthly", "weighting": "equal", "cost_bps": 10.0}
# The chunk count the first build chose on the host the issue was filed on (issue 12: "5
# or 6: 4.4-4.6 s"; its 4.5 s and 57 configurations/s); ``_force_chunks``.
FILING_CHUNKS = 5
REPEATS = 3  # repeated sweeps per process; their median is the round's repeated time (as bench_peers)


def _run(tree: str, frames: str, table_out: str, chunks: str = "0") -> None:
    """In a fresh process: the engine under ``tree`` sweeps the pickled frames, cold and
    then ``REPEATS`` times; prints the cold seconds and the repeats' median, writes the table.
    ``chunks`` > 0 (the first build only): its sweep split into that many chunks
    (``_force_chunks``)."""
    sys.path.insert(0, tree)
    import engine  # the tree's own engine (first on sys.path)
    from engine import MarketData, SerialExecutor, StrategyParams, run_sweep
    from engine.data.types import SourceInfo

    if hasattr(engine, "single_blas_thread"):  # the current engine's entry points do this
        engine.single_blas_thread()
    if hasattr(engine, "tune_allocator"):
        engine.tune_allocator()
    if hasattr(engine, "freeze_startup_objects"):
        engine.freeze_startup_objects()
    if Path(tree).resolve() != REPO:
        _portable_power(engine)
        if int(chunks) > 0:
            _force_chunks(engine, int(chunks))
    with open(frames, "rb") as handle:
        sentiment, prices, grid = pickle.load(handle)
    data = MarketData.build(
        sentiment=sentiment,
        prices=prices,
        source=SourceInfo(kind="demo", label="bench_first_build", synthetic=True),
    )
    base = StrategyParams(**BASE)
    seconds = []
    for _ in range(1 + REPEATS):  # the first sweep of the process (cold), then repeated ones
        started = time.perf_counter()
        result = run_sweep(data, grid, base=base, executor=SerialExecutor())
        seconds.append(time.perf_counter() - started)
    result.table.to_pickle(table_out)
    print(f"{seconds[0]:.6f} {statistics.median(seconds[1:]):.6f}")


def _portable_power(first_build: Any) -> None:
    """Give the first build's metrics the C library's ``pow`` (this checkout's ``_power``).

    The first build computed CAGR, Calmar and alpha with ``np.power`` on scalars. On a CPU
    with AVX-512, numpy routes that through Intel's SVML, whose last bits can differ from
    the C library's. b92d439 made the engine use ``math.pow`` for that reason. Without
    this patch, on such a CPU the two tables differ in up to 12 of 256 rows of those three
    columns (up to 5e-12 relative on a Xeon with AVX-512). The patch changes no other code, and it can only
    make the first build faster (two scalar calls per configuration), never slower."""
    import importlib
    import math

    import numpy as np

    metrics = importlib.import_module(f"{first_build.__name__}.analytics.metrics")

    def power(base: float, exponent: float) -> float:
        try:
            return math.pow(base, exponent)
        except (OverflowError, ValueError):  # inf or NaN: the same bits from any implementation
            with np.errstate(all="ignore"):
                return float(np.power(np.float64(base), np.float64(exponent)))

    if hasattr(metrics, "_power"):
        metrics._power = power


def _force_chunks(first_build: Any, n_chunks: int) -> None:
    """Make the first build deal its sweep into ``n_chunks`` chunks, as it did on the host
    the issue was filed on.

    The first build chose its chunk size from the time of its first configuration,
    ``cost``: ``min(64, ceil(MAX_TASK_S / cost))`` of the 255 others (MAX_TASK_S = 1 s).
    Where that configuration took over ~16 ms (a slow host), the count was 5 or 6.
    Its round-robin chunks then cycled through the signal settings and overflowed its
    8-slot signal cache: 4.4-4.6 s, the issue's "today". On a host fast enough for 4 chunks
    or fewer, they did not: 1.9-2.2 s. This swaps its ``chunk_size`` for one that gives
    ``n_chunks`` chunks, so that "today" is measured on this host as the issue measured it.
    Nothing else changes, and the table is still checked bit for bit."""
    import importlib

    sweep = importlib.import_module(f"{first_build.__name__}.research.sweep")

    def chunk_size(n_configs: int, _seconds_per_config: float, _parallelism: int) -> int:
        return max(1, math.ceil(n_configs / n_chunks))

    sweep.chunk_size = chunk_size


def _timed(tree: Path, frames: Path, table: Path, chunks: int = 0) -> tuple[float, float]:
    """(seconds of the first sweep in a fresh process, median of the repeated sweeps)."""
    out = subprocess.run(
        [sys.executable, __file__, "--run", str(tree), str(frames), str(table), str(chunks)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # neither tree's package shadows the other through the cwd
    )
    cold, warm = (float(x) for x in out.stdout.strip().splitlines()[-1].split())
    return cold, warm


def _export_first_build(into: Path) -> Path:
    """The first build's ``engine`` package under ``into`` (``git archive``)."""
    archive = into / "first_build.tar"
    subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive), FIRST_BUILD, "engine"],
        check=True,
    )
    tree = into / "first_build"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def _same_tables(a: Any, b: Any) -> tuple[bool, str]:
    """Whether two sweep tables are the same bits: equal columns, every float column's
    bytes and every other column's values."""
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False, f"columns or rows differ ({list(a.columns)} vs {list(b.columns)})"
    for column in a.columns:
        x, y = a[column].to_numpy(), b[column].to_numpy()
        same = x.tobytes() == y.tobytes() if x.dtype.kind == "f" else list(x) == list(y)
        if not same:
            return False, f"column {column} differs"
    return True, ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100 symbols x 3 years")
    parser.add_argument(
        "--filing-chunks",
        type=int,
        default=FILING_CHUNKS,
        help="chunks the first build's sweep is also forced into (the filing host's count)",
    )
    parser.add_argument(
        "--run", nargs=4, metavar=("TREE", "FRAMES", "TABLE", "CHUNKS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.run:
        _run(*args.run)
        return

    import pandas as pd
    from bench_backtest import synthetic_market
    from bench_peers import W3_GRID

    n_symbols, years = (100, 3) if args.quick else (500, 10)
    data = synthetic_market(n_symbols=n_symbols, years=years)
    n_configs = 1
    for values in W3_GRID.values():
        n_configs *= len(values)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(
        f"# bench_first_build  {stamp}  ({n_symbols} symbols x {years} years, {len(data.sentiment):,} rows)"
    )
    print(f"W3 serial sweep of {n_configs} configurations: this checkout vs the first build ({FIRST_BUILD})")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        frames = work / "frames.pkl"
        with open(frames, "wb") as handle:
            pickle.dump((data.sentiment, data.prices, W3_GRID), handle)
        first = _export_first_build(work)
        cold_ratios, warm_ratios, filing_ratios = [], [], []
        for round_ in range(1, args.rounds + 1):
            old_cold, old = _timed(first, frames, work / "first.pkl")
            _, filing = _timed(first, frames, work / "filing.pkl", chunks=args.filing_chunks)
            new_cold, new = _timed(REPO, frames, work / "new.pkl")
            ours = pd.read_pickle(work / "new.pkl")
            for name in ("first.pkl", "filing.pkl"):
                same, why = _same_tables(pd.read_pickle(work / name), ours)
                if not same:
                    print(f"round {round_}: the tables disagree ({name}: {why}): no ratio printed")
                    return
            cold_ratios.append(old_cold / new_cold)
            warm_ratios.append(old / new)
            filing_ratios.append(filing / new)
            print(
                f"round {round_}: repeated sweep: first build {old:.2f} s ({n_configs / old:.1f} configurations/s), "
                f"this checkout {new:.3f} s ({n_configs / new:.1f}/s), {old / new:.2f}x; "
                f"first build in {args.filing_chunks} chunks (as on the filing host) {filing:.2f} s "
                f"({n_configs / filing:.1f}/s), {filing / new:.2f}x; "
                f"first sweep of a fresh process (data prepared, kernels loaded): {old_cold:.2f} s vs "
                f"{new_cold:.2f} s, {old_cold / new_cold:.2f}x   identical tables: True"
            )
    print(
        f"W3 this checkout vs the first build, repeated sweep: {statistics.median(warm_ratios):.2f}x the "
        f"configurations/s (the first build chunking as it does on this host); "
        f"{statistics.median(filing_ratios):.2f}x against it in {args.filing_chunks} chunks, as it ran "
        f"when the issue was filed; first sweep of a process: {statistics.median(cold_ratios):.2f}x "
        f"(medians of {len(warm_ratios)} rounds)"
    )


if __name__ == "__main__":
    main()
