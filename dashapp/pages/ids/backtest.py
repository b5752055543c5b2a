"""Ids of the Backtest page (``/``); form fields are ``backtest-<param>`` (``ui.forms.field_id``)."""

PREFIX = "backtest"
RUN = "backtest-run"
FORM_STATUS = "backtest-form-status"
LOCATION = "backtest-location"
AUTORUN = "backtest-autorun"
RUN_STATE = "backtest-run-state"
RESULTS = "backtest-results"
RUN_SUMMARY = "backtest-run-summary"
METRIC_CARDS = "backtest-metric-cards"
ROBUSTNESS_RUN = "backtest-robustness-run"
ROBUSTNESS = "backtest-robustness"
ROBUSTNESS_RESULT = "backtest-robustness-result"


def download(kind: str) -> str:
    """The ``dcc.Download`` of one CSV (``returns``, ``holdings``, ``metrics``)."""
    return f"backtest-download-{kind}"


def download_button(kind: str) -> str:
    return f"backtest-download-{kind}-button"


def graph(name: str) -> str:
    return f"backtest-graph-{name}"


PERIODS = "backtest-periods"
DRAWDOWN_TEXT = "backtest-drawdown-text"
WARNINGS = "backtest-warnings"
REPORT_BUTTON = "backtest-report-button"
REPORT_DOWNLOAD = "backtest-report-download"
