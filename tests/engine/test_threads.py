"""``single_blas_thread``: a process with the default BLAS threads and the call gives the
bits of a process started with one BLAS thread (as Ray's workers are), for the
optimiser weightings whose last bits depend on the thread count (reviewer's case)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

_PROBE = textwrap.dedent(
    """
    import sys
    import engine
    if sys.argv[1] == "pin":
        engine.single_blas_thread()
    sys.path.insert(0, "tests/engine")
    from _frames import random_market

    data = random_market(seed=7, n_symbols=40)
    for weighting in ("min_variance", "max_sharpe"):
        params = engine.StrategyParams(
            signal="comments", weighting=weighting, rebalance="quarterly", lag_days=2
        )
        print(engine.run_backtest(data, params).metrics["total_return"].hex())
    """
)


def _run(mode: str, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**clean, **env},
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


def test_pinned_process_gives_the_one_thread_bits() -> None:
    one_thread = _run("free", OPENBLAS_NUM_THREADS="1")
    # The premise: with two BLAS threads these backtests end in other last bits (so the
    # check below would fail without the pin).
    assert _run("free", OPENBLAS_NUM_THREADS="2") != one_thread
    assert _run("pin", OPENBLAS_NUM_THREADS="2") == one_thread
