"""Browser test (headless chromium via dash_duo): the navbar folds behind a toggler on narrow screens.

Run: ``python -m pytest --headless tests/dashapp/test_browser_navbar.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from dashapp import create_app
from tests.dashapp.test_browser_data_status import click, csp_violations, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_navbar_folds_behind_a_toggler_on_a_narrow_screen(dash_duo: Any, tmp_path: Path) -> None:
    app = create_app({"CACHE_DIR": str(tmp_path / "cache"), "ENGINE_EXECUTOR": "serial"})
    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_element("#nav-sweep", timeout=30)
    toggler = dash_duo.find_element("#navbar-toggler")
    assert dash_duo.find_element("#nav-sweep").is_displayed() and not toggler.is_displayed()  # 1400 px wide

    dash_duo.driver.set_window_size(480, 900)
    dash_duo.wait_for_style_to_equal("#navbar-collapse", "display", "none", timeout=10)
    assert toggler.is_displayed() and not dash_duo.find_element("#nav-sweep").is_displayed()
    brand_top = dash_duo.find_element(".navbar-brand").location["y"]
    assert abs(toggler.location["y"] - brand_top) < 30  # one row: brand and toggler, no stacked links

    click(dash_duo, "#navbar-toggler")
    WebDriverWait(dash_duo.driver, 10).until(lambda _: dash_duo.find_element("#nav-sweep").is_displayed())
    click(dash_duo, "#nav-sweep")
    dash_duo.wait_for_element("#sweep-run", timeout=30)
    assert csp_violations(dash_duo) == []
