"""``tune_allocator``: large numpy temporaries come from the heap (no fresh mmap per
call) once it ran. Each check runs in a fresh interpreter: the setting is process-wide."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")

# mallinfo2().hblkhd: bytes currently held in mmap'd blocks (glibc >= 2.33).
_PROBE = textwrap.dedent(
    """
    import ctypes, sys
    import numpy as np
    from engine import tune_allocator

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    tuned = tune_allocator() if sys.argv[1] == "tune" else None
    before = libc.mallinfo2().hblkhd
    block = np.ones(4 * 2**20 // 8)  # a 4 MiB temporary, as a 1M-row gather makes
    during = libc.mallinfo2().hblkhd
    print(tuned, during - before)
    """
)


def _mmapped_growth(mode: str) -> tuple[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    return out[0], int(out[1])


def test_untuned_process_maps_a_large_temporary() -> None:
    # The control: glibc's default serves 4 MiB with a fresh mapping (the cost removed).
    tuned, growth = _mmapped_growth("plain")
    assert tuned == "None"
    assert growth >= 4 * 2**20


def test_tuned_process_serves_it_from_the_heap() -> None:
    tuned, growth = _mmapped_growth("tune")
    assert tuned == "True"
    assert growth == 0


def test_tune_allocator_is_idempotent() -> None:
    from engine import tune_allocator

    assert tune_allocator() is tune_allocator()
