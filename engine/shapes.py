"""Shaped array aliases used in signatures (the shape is in the comment; numpy's typing
does not check shapes)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatVector = npt.NDArray[np.float64]  # (n,)
FloatMatrix = npt.NDArray[np.float64]  # (days, symbols) or (segments, columns)
IntVector = npt.NDArray[np.int64]  # (n,) indices
IntMatrix = npt.NDArray[np.int64]  # (segments, top_n) column indices
BoolVector = npt.NDArray[np.bool_]  # (n,)
BoolMatrix = npt.NDArray[np.bool_]  # (days, symbols) or (segments, columns)
DayVector = npt.NDArray[np.datetime64]  # (days,) datetime64[D]

__all__ = ["BoolMatrix", "BoolVector", "DayVector", "FloatMatrix", "FloatVector", "IntMatrix", "IntVector"]
