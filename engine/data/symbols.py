"""The ticker rule: which strings the engine accepts as an exchange symbol.

One owner for every entry point (file readers, providers, strategy parameters, the stock
pages): a ticker as exchanges print it, upper-case letters/digits (1 to 10), optionally one
share-class suffix after ``.`` or ``-`` (``BRK.B``, ``BF-B``), or a leading caret for
indices (``^GSPC``). Anything else (formulas, paths, URLs, lower case) is refused.
"""

from __future__ import annotations

import re

TICKER_RE = re.compile(r"^\^?[A-Z0-9]{1,10}([.\-][A-Z0-9]{1,4})?$")


def is_ticker(text: str) -> bool:
    """True when ``text`` is shaped like an exchange ticker (upper case), per ``TICKER_RE``."""
    return bool(TICKER_RE.match(text))


def with_spelling_hint(symbol: str, hint: str | None) -> str:
    """``symbol`` named with the spelling the data has for it, the one wording of the
    spelling hint everywhere (loader warnings, CLI, dashboard): ``with_spelling_hint("BRK.B",
    "BRK-B") == "BRK.B (did you mean BRK-B?)"``; ``symbol`` unchanged when ``hint`` is None
    or empty. The hints themselves are ``ValidationReport.spelling_hints``."""
    return f"{symbol} (did you mean {hint}?)" if hint else symbol
