"""``csv_download``: a failed download never breaks the page, and an expected engine
refusal is logged as its sentence, not as a traceback."""

from __future__ import annotations

import logging

import pytest
from dash import no_update

from dashapp.pages._common import csv_download
from engine import ParameterError


def test_content_becomes_a_csv_download() -> None:
    got = csv_download(logging.getLogger("t"), "sweep", lambda: ("a,b\n1,2\n", "06c7c6faf74e8386"))
    assert got == {"content": "a,b\n1,2\n", "filename": "sweep_06c7c6faf74e8386.csv", "type": "text/csv"}


def test_the_name_is_made_safe() -> None:
    got = csv_download(logging.getLogger("t"), "sweep", lambda: ("a\n", "../x y"))
    assert got["filename"] == "sweep_x_y.csv"


def test_an_engine_refusal_is_logged_as_its_sentence(caplog: pytest.LogCaptureFixture) -> None:
    def content() -> tuple[str, str]:
        raise ParameterError("every configuration failed: nothing to validate")

    with caplog.at_level(logging.WARNING, logger="t"):
        assert csv_download(logging.getLogger("t"), "walk_forward", content) is no_update
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert (
        record.getMessage()
        == "walk_forward download not made: every configuration failed: nothing to validate"
    )


def test_a_bug_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    def content() -> tuple[str, str]:
        raise KeyError("x")

    with caplog.at_level(logging.WARNING, logger="t"):
        assert csv_download(logging.getLogger("t"), "sweep", content) is no_update
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
