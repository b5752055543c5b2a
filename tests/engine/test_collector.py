"""``freeze_startup_objects``: the containers alive at a process's start leave the
collector's generations (full collections skip them), once per process, and every entry
point of the engine calls it (``create_app``'s check: tests/dashapp/test_app_factory.py).
Each check runs in a fresh interpreter: the setting is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

_PROBE = textwrap.dedent(
    """
    import gc, json, sys, weakref
    import engine

    class Node:
        pass

    def dead_cycle():
        a, b = Node(), Node()
        a.other, b.other = b, a  # freed only by a collection
        return weakref.ref(a)

    gc.disable()  # keep the cycle made before the freeze uncollected until the call
    dead_before = dead_cycle()
    gc.enable()
    tracked_before = len(gc.get_objects())
    frozen = engine.freeze_startup_objects()
    tracked_after = len(gc.get_objects())
    later = [[i] for i in range(1000)]  # containers made after the freeze
    again = engine.freeze_startup_objects()
    in_generations = {id(x) for x in gc.get_objects()}  # the permanent generation is not listed
    dead_after = dead_cycle()
    gc.collect()
    print(json.dumps({
        "before": tracked_before, "frozen": frozen, "after": tracked_after,
        "again": again, "count_now": gc.get_freeze_count(),
        "later_collectable": sum(id(x) in in_generations for x in later),
        "dead_before_freed": dead_before() is None,
        "dead_after_freed": dead_after() is None,
    }))
    """
)


def _run(code: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_start_up_objects_leave_the_collected_generations_once() -> None:
    seen = _run(_PROBE)
    before, frozen, after = int(seen["before"]), int(seen["frozen"]), int(seen["after"])
    # Importing the engine tracks tens of thousands of containers; all that are alive are
    # frozen (the call collects the garbage first), and a collection's generations hold
    # (about) nothing of them afterwards.
    assert before > 10_000 and frozen > before * 0.9
    assert after < before // 10
    # The second call freezes nothing more: later containers stay in the collected
    # generations, and a cycle made later is freed by a collection.
    assert seen["again"] == frozen and seen["count_now"] == frozen
    assert seen["later_collectable"] == 1000
    assert seen["dead_after_freed"] is True
    # Garbage already there at the call is collected, not frozen for the process's life.
    assert seen["dead_before_freed"] is True


_ENTRY_POINTS = textwrap.dedent(
    """
    import gc, io, json, sys
    which = sys.argv[1]
    if which == "cli":
        from engine.cli.main import main
        main(["--version"], stdout=io.StringIO(), stderr=io.StringIO())
    else:
        from engine.execution.executor import _call
        _call(lambda shared, item: item, None, 1)  # the body of every Ray task
    print(json.dumps({"frozen": gc.get_freeze_count()}))
    """
)


def _frozen_after(entry_point: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _ENTRY_POINTS, entry_point], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return int(json.loads(out.stdout.strip().splitlines()[-1])["frozen"])


def test_the_cli_freezes_its_start_up_objects() -> None:
    assert _frozen_after("cli") > 10_000


def test_a_ray_task_freezes_its_worker_start_up_objects() -> None:
    assert _frozen_after("ray_task") > 10_000
