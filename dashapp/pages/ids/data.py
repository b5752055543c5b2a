"""Ids of the Data page (``/data``)."""

ACTIVE = "data-active"
ACTIVE_LABEL = "data-active-label"
USE_DEFAULT = "data-use-default"
USE_UPLOAD = "data-use-upload"
USE_HINT = "data-use-hint"
UPLOAD_SENTIMENT = "data-upload-sentiment"
UPLOAD_PRICES = "data-upload-prices"
CANDIDATE = "data-candidate"
PAGE_INIT = "data-page-init"
CHOICE_MESSAGE = "data-choice-message"
VALIDATION = "data-validation"
UPLOAD_REPORT = "data-upload-report"


def upload_name(upload_id: str) -> str:
    """The "Received: <file>" line under an upload box."""
    return f"{upload_id}-name"


DATE_ORDER = "data-date-order"
DATE_FORMAT = "data-date-format"
DECIMAL = "data-decimal"
DECIMAL_HINT = "data-decimal-hint"
PROGRESS = "data-progress"
PROGRESS_WRAP = "data-progress-wrap"
DATE_HINT = "data-date-hint"
YAHOO_SUMMARY = "data-yahoo-summary"
YAHOO_JOB = "data-yahoo-job"
UPLOADED = "data-uploaded"
