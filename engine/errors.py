"""Exception types raised by the engine.

Every error a user can cause (bad file, bad parameter, unreachable cluster) is an
``EngineError`` subclass whose ``str()`` is one clear sentence meant to be shown as is.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class: the message is safe and meant for the end user."""


class ParameterError(EngineError, ValueError):
    """A strategy, sweep or CLI parameter is out of range or of the wrong type."""


class DataValidationError(EngineError, ValueError):
    """An input file or table cannot be used (missing columns, no rows left, ...)."""


class DataUnavailableError(EngineError):
    """A data provider could not deliver (network, rate limit, missing file)."""


class ClusterUnavailableError(EngineError):
    """The configured Ray cluster cannot be reached."""


class Cancelled(EngineError):
    """The user cancelled a long job (sweep, robustness run) before it finished."""
