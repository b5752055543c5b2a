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


# Walk-forward validation and probability of backtest overfitting (shown after a sweep).
WF_FOLDS = "sweep-wf-folds"
WF_SCHEME = "sweep-wf-scheme"
WF_IS_DAYS = "sweep-wf-is-days"
WF_OOS_DAYS = "sweep-wf-oos-days"
WF_METRIC = "sweep-wf-metric"
WF_MESSAGE = "sweep-wf-message"
WF_SECTION = "sweep-wf-section"
WF_EQUITY = "sweep-wf-equity"
WF_TABLE = "sweep-wf-table"
WF_CHANGES = "sweep-wf-changes"
WF_SUMMARY = "sweep-wf-summary"
WF_PBO = "sweep-wf-pbo"
WF_PBO_HISTOGRAM = "sweep-wf-pbo-histogram"
WF_DOWNLOAD_BUTTON = "sweep-wf-download-button"
WF_DOWNLOAD = "sweep-wf-download"
WF_RETURNS_DOWNLOAD_BUTTON = "sweep-wf-returns-download-button"
WF_RETURNS_DOWNLOAD = "sweep-wf-returns-download"
