"""Where numba finds no writable cache directory (a read-only install without a writable
HOME) the engine still imports and computes: the kernels compile per process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

_PROBE = textwrap.dedent(
    """
    from numba.core import caching

    def unwritable(self):
        raise PermissionError("read-only")

    caching._CacheLocator.ensure_cache_path = unwritable  # every locator refuses
    import numpy as np
    from engine.backtest import nb

    assert nb._held_values._cache.__class__.__name__ == "NullCache", nb._held_values._cache
    nb.warm_up()
    prices = np.array([[1.0, 1.0, 1.0, 1.0, 1.0], [2.0, 1.0, 1.0, 1.0, 1.0]])
    sim = nb.simulate(prices, np.array([0]), np.array([1]), np.array([[0]]), np.array([[1.0]]), 0.0)
    print(sim.returns.tolist())
    """
)


def test_kernels_compile_without_a_writable_cache() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["[1.0]"]


_RUN = textwrap.dedent(
    """
    import numpy as np
    from engine.backtest import nb

    nb.warm_up()
    prices = np.array([[1.0, 2.0, 4.0, 1.0, 1.0], [1.5, 2.0, 5.0, 1.0, 1.0], [3.0, 1.0, 5.0, 1.0, 1.0]])
    entry, end = np.array([0, 1]), np.array([1, 2])
    held, weights = np.array([[0], [2]]), np.array([[1.0], [1.0]])
    sim = nb.simulate(prices, entry, end, held, weights, 0.0)
    print(sim.returns.tolist(), nb._held_values._cache.__class__.__name__)
    """
)


def test_kernels_loaded_from_the_disk_cache_give_the_compiled_answers(tmp_path) -> None:
    # The first process compiles and saves, the second loads (numba's cache has crashed
    # on loading some functions, e.g. recursive ones: none of the kernels is recursive).
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", _RUN], capture_output=True, text=True, timeout=300, check=False, env=env
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    assert any(tmp_path.rglob("*.nbc"))  # the second run had a cache to load
    expected = "[0.5, 0.0] FunctionCache"
    assert [run.stdout.strip() for run in runs] == [expected, expected]


_UNREADABLE = textwrap.dedent(
    """
    from numba.core import caching

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", "nb._held_values.nbi")

    # A cache directory the process may write but whose entries it cannot read or
    # replace (another user's 0600 files in a shared NUMBA_CACHE_DIR).
    caching.IndexDataCacheFile.load = refuse
    caching.IndexDataCacheFile.save = refuse
    import numpy as np
    from engine.backtest import nb

    nb.warm_up()
    prices = np.array([[1.0, 2.0, 4.0, 1.0, 1.0], [1.5, 2.0, 5.0, 1.0, 1.0], [3.0, 1.0, 5.0, 1.0, 1.0]])
    sim = nb.simulate(prices, np.array([0, 1]), np.array([1, 2]), np.array([[0], [2]]), np.array([[1.0], [1.0]]), 0.0)
    print(sim.returns.tolist())
    """
)


def test_an_unreadable_cache_entry_is_a_miss_not_an_error(tmp_path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-c", _UNREADABLE], capture_output=True, text=True, timeout=300, check=False, env=env
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["[0.5,", "0.0]"]


_GARBLED = textwrap.dedent(
    """
    import numpy as np
    import engine

    engine.warm_up_kernels()
    data = engine.load_market_data(engine.DemoProvider(n_symbols=12, years=2), benchmark="QQQ")
    result = engine.run_backtest(data, engine.StrategyParams(top_n=3))
    print(round(float(result.metrics["total_return"]), 12))
    """
)


def test_a_truncated_or_garbled_cache_is_a_miss_not_a_failure(tmp_path) -> None:
    """Cache files cut short (a full disk) or overwritten with garbage: every kernel is
    compiled again and the backtest gives the same number (reviewer's reproduction)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", _GARBLED],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env=env,
        )

    first = run()
    assert first.returncode == 0, first.stderr[-2000:]
    files = [*tmp_path.rglob("*.nbc"), *tmp_path.rglob("*.nbi")]
    assert files
    for i, path in enumerate(files):
        data = path.read_bytes()
        path.write_bytes(data[:50] if i % 2 else b"garbage" * 10)
    second = run()
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.stdout.split() == first.stdout.split()
