"""Property-based tests of every boundary that takes untrusted input (files, parameters, argv, callbacks).

``assert_user_message`` is the one definition of "a clear message" that every fuzz test applies.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

_TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "', "site-packages", "Error:")
# A formula-looking value may appear in a message only inside repr quotes (never bare).
_BARE_FORMULA = re.compile(r"(?<![\"'\w])[=@+]\w+\(|(?<![\"'])=cmd", re.IGNORECASE)


def assert_user_message(text: str, *, formulas_quoted: bool = True) -> None:
    """One non-empty line, no traceback text, formula-like values only ever quoted.

    ``formulas_quoted=False`` when the input itself carries arbitrary text around a formula.
    """
    assert text.strip(), "the message is empty"
    assert "\n" not in text.rstrip("\n") and "\r" not in text, f"the message spans lines: {text!r}"
    for marker in _TRACEBACK_MARKERS:
        assert marker not in text, f"traceback text {marker!r} in {text!r}"
    if formulas_quoted:
        assert not _BARE_FORMULA.search(text), f"an unquoted formula in {text!r}"


def _no_marker(value: str | bytes) -> bool:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return not any(marker in text for marker in _TRACEBACK_MARKERS)


def texts(**kwargs: Any) -> st.SearchStrategy[str]:
    """``st.text`` without the traceback markers. A message may quote its input, and
    hypothesis also draws the string constants of the code it runs (it drew ``'Error:'``,
    echoed as ``sweep value 'Error:' for min_likes``): such an input would read as a
    traceback in a message that is right."""
    return st.text(**kwargs).filter(_no_marker)


def binaries(**kwargs: Any) -> st.SearchStrategy[bytes]:
    """``st.binary`` without the traceback markers (``texts``' reason: a file's cells are echoed)."""
    return st.binary(**kwargs).filter(_no_marker)
