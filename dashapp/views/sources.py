"""What every results page says about the data behind its run: the validation report's
failed tickers and dropped input, as plain-words notes (the Backtest, Signal and Stocks
pages show the same notes beside their own warnings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashapp.ui import components

MAX_FAILED_SHOWN = 15


def source_notes(report: Mapping[str, Any], *, cannot: str = "be held") -> list[str]:
    """Plain-words notes about the data behind a run (failed tickers, dropped rows).

    ``report``: the plain validation report (``services.source_info(...)["report"]``);
    ``cannot``: what a ticker without prices cannot do on the page ("be held", "be
    analysed")."""
    notes = []
    failed = components.failed_named(report)  # "BRK.B (did you mean BRK-B?)" from the report's hints
    if failed:
        shown = ", ".join(failed[:MAX_FAILED_SHOWN])
        if len(failed) > MAX_FAILED_SHOWN:
            shown += f" and {len(failed) - MAX_FAILED_SHOWN} more"
        notes.append(f"No prices could be had for {len(failed)} ticker(s), which cannot {cannot}: {shown}.")
    for dropped in report.get("dropped") or []:
        notes.append(
            f"Dropped {components.dropped_count(dropped)} of the input: {dropped.get('reason', '')}."
        )
    return notes
