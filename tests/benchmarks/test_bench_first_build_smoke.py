"""Smoke test of benchmarks/bench_first_build.py: the first build's engine, exported from the
history, sweeps the same frames as this checkout's and the tables are compared bit for bit
before any ratio is printed. No timing is asserted. Skipped where the history lacks the
first build's commit (an exported tree or a shallow clone)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from benchmarks import bench_first_build as bfb


def _has_first_build() -> bool:
    probe = subprocess.run(
        ["git", "-C", str(bfb.REPO), "cat-file", "-e", f"{bfb.FIRST_BUILD}^{{commit}}"],
        capture_output=True,
    )
    return probe.returncode == 0


def test_tables_that_differ_in_one_bit_are_not_the_same() -> None:
    a = pd.DataFrame({"top_n": [10, 20], "sharpe": [1.0, 0.5], "error": [None, None]})
    assert bfb._same_tables(a, a.copy()) == (True, "")
    b = a.copy()
    b.loc[1, "sharpe"] = np.nextafter(0.5, 1.0)  # one ulp
    assert bfb._same_tables(a, b) == (False, "column sharpe differs")
    assert not bfb._same_tables(a, a.drop(columns="error"))[0]


@pytest.mark.skipif(not _has_first_build(), reason=f"commit {bfb.FIRST_BUILD} is not in this clone's history")
def test_the_first_build_and_this_checkout_give_the_same_table() -> None:
    out = subprocess.run(
        [sys.executable, str(bfb.REPO / "benchmarks" / "bench_first_build.py"), "--quick", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    ).stdout
    assert "round 1: repeated sweep" in out and "identical tables: True" in out, out
    assert "W3 this checkout vs the first build" in out, out
    assert f"first build in {bfb.FILING_CHUNKS} chunks (as on the filing host)" in out, out


def test_the_first_builds_power_is_swapped_for_the_c_librarys(monkeypatch: pytest.MonkeyPatch) -> None:
    import math
    import types

    def svml_like(base: float, exponent: float) -> float:  # stands for np.power's other last bit
        return math.nextafter(math.pow(base, exponent), math.inf)

    package = types.ModuleType("old_engine")
    metrics = types.ModuleType("old_engine.analytics.metrics")
    metrics._power = svml_like  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "old_engine", package)
    monkeypatch.setitem(sys.modules, "old_engine.analytics", types.ModuleType("old_engine.analytics"))
    monkeypatch.setitem(sys.modules, "old_engine.analytics.metrics", metrics)
    bfb._portable_power(package)
    assert metrics._power(0.987, 252 / 2520) == math.pow(0.987, 252 / 2520)  # type: ignore[attr-defined]
    assert math.isinf(metrics._power(1e300, 2.0))  # type: ignore[attr-defined]  # overflow: numpy's inf
    assert math.isnan(metrics._power(-0.5, 0.5))  # type: ignore[attr-defined]  # undefined: NaN


def test_the_first_build_is_dealt_into_the_filing_hosts_chunk_count(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    package = types.ModuleType("old_engine")
    sweep = types.ModuleType("old_engine.research.sweep")
    sweep.chunk_size = lambda n, cost, cpus: 64  # type: ignore[attr-defined]  # a fast host's: 4 chunks
    monkeypatch.setitem(sys.modules, "old_engine", package)
    monkeypatch.setitem(sys.modules, "old_engine.research", types.ModuleType("old_engine.research"))
    monkeypatch.setitem(sys.modules, "old_engine.research.sweep", sweep)
    bfb._force_chunks(package, 5)
    size = sweep.chunk_size(255, 0.002, 1)  # type: ignore[attr-defined]
    assert size == 51 and -(-255 // size) == 5  # the first build's n_chunks = ceil(rest / size)
    bfb._force_chunks(package, 6)
    assert -(-255 // sweep.chunk_size(255, 0.002, 1)) == 6  # type: ignore[attr-defined]
