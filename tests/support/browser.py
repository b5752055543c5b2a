"""Helpers for the dash_duo browser tests."""

from __future__ import annotations

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
