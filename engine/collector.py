"""Process-wide garbage-collector setting: ``freeze_startup_objects()``.

Why: CPython's cyclic collector walks every tracked container of its oldest generation
in a full collection, and runs one when the containers that survived two collections
since the last have grown by a quarter of that generation. A process that has imported
the engine, Ray, pandas and Dash holds ~230,000 of them, so a full collection took 65-68
ms on the 2-core VM we measure on. A sweep of 4,096 configurations leaves enough
long-lived containers (its outcomes: tuples, dicts) to set one off every other sweep,
in the driver and in the Ray task that builds them: 65 ms of a 0.55 s sweep, at random
(docs/performance.md, "Nineteenth pass").

``gc.freeze()`` moves every container alive when it is called (modules, classes,
functions, the app's layout and callbacks) to a permanent generation that collections
skip. They are still freed by reference counting; only a reference cycle among them
would never be collected, and the start-up objects live as long as the process anyway.
What is created later is collected as before. (CPython's documentation of
``gc.freeze`` gives the same use before a fork: the forked job processes inherit it.)

Entry points call it once per process, after their imports and next to
``tune_allocator``: the CLI, ``create_app`` (at its end: the app is built) and every Ray
task's worker process (``engine.execution``). Once: a later call would also freeze the
objects of the work in flight, whose cycles would then never be collected (a test run
builds hundreds of apps in one process).

Imports nothing from the engine's layers.
"""

from __future__ import annotations

import functools
import gc


@functools.cache
def freeze_startup_objects() -> int:
    """Collect the garbage there is, then move the containers the collector tracks to its
    permanent generation (the first call does both; later calls change nothing). Returns
    how many are frozen.

    The collection first: a cycle already unreachable at the call (the CLI's
    start-up left ~400 such objects) would otherwise be frozen and never freed. It is
    one full collection per process, at its start (a Ray worker's: in its first task).
    Whatever is alive is kept for the process's life, as are the objects it references:
    in a process that builds more than one app (the tests), the first app stays."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
