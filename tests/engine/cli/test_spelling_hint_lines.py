"""The CLI's failed-ticker line names the loader's spelling hint (share-class-dot-dash)."""

from __future__ import annotations

from engine import ValidationReport
from engine.cli.common import report_lines


def test_cli_failed_ticker_line_names_the_hint() -> None:
    report = ValidationReport(failed_tickers=("BRK.B", "ZZZ"), spelling_hints=(("BRK.B", "BRK-B"),))
    assert "failed tickers (no prices): BRK.B (did you mean BRK-B?), ZZZ" in report_lines(report)
