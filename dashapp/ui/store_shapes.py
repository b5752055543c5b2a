"""Is this browser-held value the shape this app wrote? One check for every page.

A ``dcc.Store`` (or a component property such as a table's ``active_cell``) lives in the
browser, and a client can post any JSON back to ``/_dash-update-component``. A page that
reads such a value back declares the shape it wrote, and ``read_store`` hands it the value
only when it conforms; anything else becomes ``None`` (as if nothing were stored), with a
warning in the log, so a tampered Store never reaches page code as an AttributeError.

A shape is one of:

- ``ANY``: any value;
- a type (``str``, ``int``, ``float``, ``bool``, ``type(None)``): ``isinstance``, except
  that ``True`` is not an ``int`` unless ``bool`` is named, and an ``int`` is a ``float``;
- a tuple of shapes: any one of them;
- ``ListOf(item)``, ``MapOf(value)`` (text keys) and ``Record(fields, required=...)``
  (a dict whose listed keys, when present, have their shapes; other keys are allowed).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

NONE = type(None)
ANY: Any = object()


@dataclasses.dataclass(frozen=True)
class ListOf:
    item: Any


@dataclasses.dataclass(frozen=True)
class MapOf:
    value: Any


@dataclasses.dataclass(frozen=True)
class Record:
    fields: Mapping[str, Any]
    required: frozenset[str] = frozenset()


SCALAR = (str, int, float, bool, NONE)
NUMBER = (int, float)


def conforms(value: Any, shape: Any) -> bool:
    """True when ``value`` has ``shape`` (see the module docstring)."""
    if shape is ANY:
        return True
    if isinstance(shape, tuple):
        return any(conforms(value, option) for option in shape)
    if isinstance(shape, type):
        return _is_instance(value, shape)
    if isinstance(shape, ListOf):
        return isinstance(value, list) and all(conforms(item, shape.item) for item in value)
    if isinstance(shape, MapOf):
        return isinstance(value, dict) and all(
            isinstance(key, str) and conforms(item, shape.value) for key, item in value.items()
        )
    if isinstance(shape, Record):
        return (
            isinstance(value, dict)
            and shape.required <= value.keys()
            and all(conforms(value[key], field) for key, field in shape.fields.items() if key in value)
        )
    raise TypeError(f"not a shape: {shape!r}")


def _is_instance(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


def read_store(value: Any, shape: Any, *, name: str) -> Any:
    """``value`` when it has ``shape``, else None (a warning names the Store ``name``)."""
    if value is None or conforms(value, shape):
        return value
    log.warning(
        "ignored a %s value of an unexpected shape (%s) sent by the browser", name, type(value).__name__
    )
    return None


# ----- the shapes the pages write -----------------------------------------------------------

ACTIVE_CELL = Record(
    {"row": int, "column": int, "column_id": str, "row_id": int}, required=frozenset({"row_id"})
)

SWEEP_RESULT = Record(
    {
        "records": ListOf(MapOf(SCALAR)),
        "columns": ListOf(str),
        "grid": MapOf(ListOf(SCALAR)),
        "base": MapOf(SCALAR),
        "best": (int, NONE),
        "n_runs": (int, NONE),
        "n_failed": (int, NONE),
        "n_trials": (int, NONE),
        "n_distinct_trials": (int, NONE),
        "n_effective_trials": (int, NONE),
        "trials": (MapOf(ListOf(int)), NONE),
        "elapsed_s": (float, NONE),
        "executor": (str, NONE),
        "deflated_sharpe": (SCALAR, MapOf(SCALAR)),
        "source": MapOf(SCALAR),
        "warnings": ListOf(str),
    },
    required=frozenset({"records", "grid"}),
)

BACKTEST_RUN = Record(
    {"source": MapOf(SCALAR), "params": MapOf(SCALAR)}, required=frozenset({"source", "params"})
)

STOCKS_RUN = Record(
    {"source": MapOf(SCALAR), "symbols": ListOf(str), "start": (str, NONE), "end": (str, NONE)},
    required=frozenset({"source", "symbols"}),
)
