"""Helpers for the dash_duo browser tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.support.timing import BROWSER_S


def click(dash_duo: Any, selector: str, *, timeout: float | None = None) -> None:
    """Scroll ``selector`` to the middle of the window and click it there.

    The click is dispatched by the page's own JavaScript (``element.click()``), not by a
    pointer at screen coordinates: on a busy machine a chart still being laid out, or a
    loading overlay, can lie over the point for a moment ("element click intercepted"), a
    race a test must not need to win. Dash's callbacks see the same click event."""
    element = dash_duo.wait_for_element(selector, timeout=timeout or BROWSER_S)
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'}); arguments[0].click();", element
    )


CSP_WORDS = ("Content Security Policy", "Content-Security-Policy", "Refused to")


def poll(fn: Callable[[], Any], timeout: float = BROWSER_S) -> Any:
    """``fn()``'s first truthy value, asked every 0.2 s; ``AssertionError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def type_text(dash_duo: Any, selector: str, text: str) -> None:
    """Clear the input ``selector`` and type ``text`` into it."""
    element = dash_duo.wait_for_element(selector, timeout=BROWSER_S)
    dash_duo.clear_input(element)
    element.send_keys(text)


def csp_violations(dash_duo: Any) -> list[Any]:
    """The browser log entries that report a Content-Security-Policy violation."""
    return [entry for entry in dash_duo.get_logs() or [] if any(w in str(entry) for w in CSP_WORDS)]
