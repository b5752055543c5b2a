"""Ids of the Signal page (``/signal``); signal fields ``signal-<param>`` (the strategy form's)."""

PREFIX = "signal"
RUN = "signal-run"
QUANTILES = "signal-quantiles"
HORIZONS = "signal-horizons"
ROLLING_WINDOW = "signal-rolling-window"
FORM_STATUS = "signal-form-status"
DOWNLOAD_BUTTON = "signal-download-button"
DOWNLOAD = "signal-download"
RESULTS = "signal-results"
CARDS = "signal-cards"
QUANTILE_NOTE = "signal-quantile-note"
WARNINGS = "signal-warnings"
LOCATION = "signal-location"
AUTORUN = "signal-autorun"
RUN_STATE = "signal-run-state"


def graph(name: str) -> str:
    return f"signal-graph-{name}"
