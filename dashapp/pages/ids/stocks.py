"""Ids of the Stocks page (``/stocks``)."""

PREFIX = "stocks"
RUN = "stocks-run"
SYMBOLS = "stocks-symbols"
START = "stocks-start"
END = "stocks-end"
START_FEEDBACK = "stocks-start-feedback"
END_FEEDBACK = "stocks-end-feedback"
FORM_STATUS = "stocks-form-status"
DOWNLOAD_BUTTON = "stocks-download-button"
DOWNLOAD = "stocks-download"
RESULTS = "stocks-results"
METRICS_TABLE = "stocks-metrics-table"
WARNINGS = "stocks-warnings"
LOCATION = "stocks-location"
AUTORUN = "stocks-autorun"
RUN_STATE = "stocks-run-state"


def graph(name: str) -> str:
    return f"stocks-graph-{name}"
