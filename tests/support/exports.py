"""Reading the ``# key: value`` header of a CSV export (engine.export writes it)."""

from __future__ import annotations


def csv_header(text: str) -> dict[str, str]:
    """The header lines of an exported CSV's text, in order, as ``{key: value}``."""
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("# "):
            break
        key, _, value = line[2:].partition(": ")
        header[key] = value
    return header
