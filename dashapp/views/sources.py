"""What every results page says about the data behind its run: the validation report's
failed tickers and dropped input, as plain-words notes (the Backtest, Signal and Stocks
pages show the same notes beside their own warnings). The sentences are the engine's
(``engine.ValidationReport.notes``), the same the CLI records in its ``--out`` files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import engine


def source_notes(report: Mapping[str, Any], *, cannot: str = "be held") -> list[str]:
    """Plain-words notes about the data behind a run (failed tickers, dropped rows).

    ``report``: the plain validation report (``services.source_info(...)["report"]``);
    ``cannot``: what a ticker without prices cannot do on the page ("be held", "be
    analysed")."""
    return report_of_plain(report).notes(cannot=cannot)


def report_of_plain(report: Mapping[str, Any]) -> engine.ValidationReport:
    """The failed tickers (with their spelling hints) and dropped groups of a plain report
    (``services.report_to_plain``) as an ``engine.ValidationReport``; a damaged entry of a
    stored report is skipped."""
    hints: dict[str, str] = {}
    raw = report.get("spelling_hints")
    for pair in raw if isinstance(raw, (list, tuple)) else ():
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(p, str) for p in pair):
            hints.setdefault(pair[0], pair[1])
    dropped = []
    for group in report.get("dropped") or []:
        if isinstance(group, Mapping):
            dropped.append(
                engine.DroppedRows(
                    reason=str(group.get("reason", "")),
                    count=int(group.get("count") or 0),
                    unit=str(group.get("unit") or "rows"),  # a report stored before units counts rows
                    file=str(group.get("file") or ""),
                )
            )
    quality = report.get("price_quality")
    return engine.ValidationReport(
        failed_tickers=tuple(str(s) for s in report.get("failed_tickers") or []),
        spelling_hints=tuple(sorted(hints.items())),
        dropped=tuple(dropped),
        price_quality=tuple(s for s in quality if isinstance(s, str)) if isinstance(quality, list) else (),
    )
