"""Property-based tests of every boundary that takes untrusted input (files, parameters, argv, callbacks).

``assert_user_message`` is the one definition of "a clear message" that every fuzz test applies.
"""

from __future__ import annotations

import re

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
