"""Ids of the Sweep page (``/sweep``); base fields ``sweep-<param>``, grid inputs ``sweep-grid-<param>``."""

PREFIX = "sweep"
RUN = "sweep-run"
CANCEL = "sweep-cancel"
GRID_SIZE = "sweep-grid-size"
PROGRESS = "sweep-progress"
X = "sweep-x"
Y = "sweep-y"
METRIC = "sweep-metric"
DOWNLOAD_BUTTON = "sweep-download-button"
DOWNLOAD = "sweep-download"
MESSAGE = "sweep-message"
SUMMARY = "sweep-summary"
SUMMARY_BLOCK = "sweep-summary-block"
BEST_LINK = "sweep-best-link"
HEATMAP = "sweep-heatmap"
TABLE = "sweep-table"
FAILED = "sweep-failed"
LOCATION = "sweep-location"
OPEN = "sweep-open"
AUTORUN = "sweep-autorun"
RESULT = "sweep-result"


def grid_input(name: str) -> str:
    """The values-to-try input of one swept parameter."""
    return f"sweep-grid-{name}"


def grid_feedback(name: str) -> str:
    return f"sweep-grid-{name}-feedback"
