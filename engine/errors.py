"""Exception types raised by the engine.

Every error a user can cause (bad file, bad parameter, unreachable cluster) is an
``EngineError`` subclass whose ``str()`` is one clear sentence meant to be shown as is.
The rules every such sentence shares live here too, below every layer: how a value is
echoed (``short_repr``) and how a number typed as text is read (``whole_number_text``,
``number_text``: parameters, the CLI's flags, the settings read from the environment).
"""

from __future__ import annotations

import math
import re
from typing import Any


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


ECHO_SHOWN = 30  # characters of a long text echoed in a message, before "… (N characters)"


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr()`` of a user's value for an error message, cut to ``limit`` characters.

    An integer of more than 4,300 digits has no ``repr()`` (Python refuses to convert it
    to text: a ``ValueError`` in place of the message), so it is named by its size:
    ``short_repr(10**5000)`` -> ``'a whole number of 5,001 digits'``. Every message that
    echoes a value a caller passed uses this, never a bare ``{value!r}``. A long text is
    shown by its start and its length, as the dashboard shows one:
    ``short_repr("A" * 5000)`` -> ``'AAA…' (5,000 characters)`` (``ECHO_SHOWN`` characters)."""
    try:
        text = repr(value)
    except ValueError:
        if isinstance(value, int):
            digits = math.floor(math.log10(abs(value))) + 1
            return f"a whole number of {digits:,} digits"
        text = f"a {type(value).__name__} value"
    except Exception:  # a foreign object whose __repr__ fails: its type still names it
        text = f"a {type(value).__name__} value"
    if len(text) <= limit:
        return text
    if isinstance(value, str):  # the start of the text and its length, as the dashboard shows one
        start = repr(value[: min(ECHO_SHOWN, limit)])
        return f"{start[:-1]}…{start[-1]} ({len(value):,} characters)"
    return text[: limit - 3] + "..."


# Numbers typed as text (URLs, forms, the CLI) are written with the digits 0-9 only: Python's
# int() and float() also take '1_0' (10) and other scripts' digits (Arabic-Indic 7), which no
# analyst means (breaker pass 11, F10). 'nan', 'inf' and exponents stay as float() reads them
# (the range checks refuse a NaN or an infinity in one sentence).
_WHOLE_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUMBER_TEXT = re.compile(
    r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(nan|inf|infinity)", re.ASCII | re.IGNORECASE
)


def whole_number_text(text: str, name: str) -> int:
    """``text`` read as a whole number written with the digits 0-9 (a sign and surrounding
    spaces allowed): ``" +12 "`` -> 12; ``ParameterError`` naming ``name`` otherwise
    (``'1_0'``, Arabic-Indic or full-width digits, ``'1.5'``, ``'9' * 5000``). The one reader
    of a whole number typed as text: strategy parameters and the CLI's counts."""
    stripped = text.strip()
    if _WHOLE_TEXT.fullmatch(stripped):
        try:
            return int(stripped)
        except ValueError:  # beyond Python's 4,300-digit limit on int(str)
            raise ParameterError(f"{name} is far too large a number") from None
    raise ParameterError(f"{name} must be a whole number, got {short_repr(text)}")


def number_text(text: str, name: str) -> float:
    """``text`` read as a number written with the digits 0-9 (``"1.5"``, ``"-2e3"``, ``"nan"``,
    ``"inf"``: a range check refuses those two); ``ParameterError`` naming ``name`` otherwise.
    The one reader of a number typed as text."""
    if not _NUMBER_TEXT.fullmatch(text.strip()):
        raise ParameterError(f"{name} must be a number, got {short_repr(text)}")
    return float(text.strip())
