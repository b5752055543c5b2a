"""Where numba finds no writable cache directory (a read-only install without a writable
HOME) the engine still imports and computes: the kernels compile per process."""

from __future__ import annotations

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
