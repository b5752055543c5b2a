"""Store shapes, the request guard, the cached backtest view, the navbar toggler, compact
figure templates, CSV-safe header lines and the dev server's loopback rule."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from werkzeug.exceptions import BadRequest

from dashapp import create_app, services
from dashapp.__main__ import is_loopback
from dashapp.layout import toggle_navbar
from dashapp.request_guard import MAX_JSON_DEPTH, check_callback_body, check_nesting
from dashapp.state import state_of
from dashapp.ui import figures
from dashapp.ui.store_shapes import ANY, NONE, SWEEP_RESULT, ListOf, MapOf, Record, conforms, read_store
from engine import header_lines

# ----- store shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shape", "expected"),
    [
        (3, int, True),
        (True, int, False),  # a bool is not a count
        (True, bool, True),
        (3, float, True),  # JSON has one number type
        (3.5, int, False),
        (None, (str, NONE), True),
        ([1, "a"], ListOf(int), False),
        ([1, 2], ListOf(int), True),
        ((1, 2), ListOf(int), False),  # JSON never decodes to a tuple
        ({"a": 1}, MapOf(int), True),
        ({"a": [1]}, MapOf(int), False),
        ({"x": 1, "extra": {}}, Record({"x": int}), True),
        ({"extra": 1}, Record({"x": int}, required=frozenset({"x"})), False),
        ({"x": "1"}, Record({"x": int}), False),
        (object(), ANY, True),
    ],
)
def test_conforms(value: Any, shape: Any, expected: bool) -> None:
    assert conforms(value, shape) is expected


def test_read_store_keeps_what_the_page_wrote_and_drops_anything_else() -> None:
    written = {"records": [{"top_n": 3, "sharpe": 1.2}], "grid": {"top_n": [3]}, "best": 0, "n_runs": 1}
    assert read_store(written, SWEEP_RESULT, name="t") is written
    for hostile in (
        [written],
        "x",
        5,
        {"records": "x", "grid": {}},
        {"records": [], "grid": {"a": [{}]}},
        {"records": [[1]], "grid": {}},
        {**written, "n_runs": "many"},
    ):
        assert read_store(hostile, SWEEP_RESULT, name="t") is None
    assert read_store(None, SWEEP_RESULT, name="t") is None


# ----- request guard ---------------------------------------------------------------------------------

CALLBACKS = {
    "a.children": {"inputs": [{"id": "b", "property": "data"}], "state": []},
    "..c.children...url.search..": {"inputs": [{"id": "url", "property": "pathname"}], "state": []},
}
GOOD = {
    "output": "a.children",
    "outputs": {"id": "a", "property": "children"},
    "inputs": [{"id": "b", "property": "data", "value": None}],
    "changedPropIds": ["b.data"],
}


@pytest.mark.parametrize(
    "body",
    [
        [GOOD],
        {},
        "a.children",
        {**GOOD, "output": "nope.children"},
        {**GOOD, "inputs": []},
        {**GOOD, "inputs": "x"},
        {**GOOD, "inputs": [{"property": "data"}]},
        {**GOOD, "state": [{"id": "x"}]},
        {**GOOD, "outputs": None},
        {**GOOD, "changedPropIds": [1]},
        {
            "output": "..c.children...url.search..",
            "outputs": [],
            "inputs": [{"id": "url", "property": "pathname", "value": 5}],
        },
        {
            "output": "..c.children...url.search..",
            "outputs": [],
            "inputs": [{"id": "url", "property": "pathname", "value": "etc/passwd"}],
        },
    ],
)
def test_malformed_bodies_are_refused(body: Any) -> None:
    with pytest.raises(BadRequest):
        check_callback_body(body, CALLBACKS)


def test_real_and_polling_bodies_pass() -> None:
    check_callback_body(GOOD, CALLBACKS)
    # A background callback's polling request repeats the body with extra keys.
    check_callback_body({**GOOD, "state": [], "cacheKey": "k", "job": 12}, CALLBACKS)
    check_callback_body(
        {
            "output": "..c.children...url.search..",
            "outputs": [],
            "inputs": [{"id": "url", "property": "pathname", "value": "/sweep"}],
        },
        CALLBACKS,
    )


def test_nesting_bound() -> None:
    deep: Any = 1
    for _ in range(MAX_JSON_DEPTH):
        deep = [deep]
    check_nesting(deep)  # MAX_JSON_DEPTH nested lists
    with pytest.raises(BadRequest):
        check_nesting([deep])
    with pytest.raises(BadRequest):
        check_nesting({"a": list(range(50))}, max_nodes=10)


# ----- the cached backtest view ----------------------------------------------------------------------


def test_backtest_view_renders_once_per_key_and_stays_plain(tmp_path: Path) -> None:
    # clear_cache below: allowed here (off by default)
    app = create_app({"CACHE_DIR": str(tmp_path), "ENGINE_EXECUTOR": "serial", "SPL_ALLOW_CACHE_CLEAR": True})
    calls: list[dict[str, Any]] = []

    def render(result: dict[str, Any], source: dict[str, str]) -> dict[str, Any]:
        calls.append(result["manifest"]["params"])
        return {"sharpe": result["metrics"]["sharpe"], "source": source["kind"]}

    with app.server.app_context():
        first = services.backtest_view(None, {"top_n": 3}, render, version="t")
        again = services.backtest_view(None, {"top_n": "3"}, render, version="t")  # same canonical params
        other = services.backtest_view(None, {"top_n": 4}, render, version="t")
        bumped = services.backtest_view(None, {"top_n": 3}, render, version="t2")
        state_of(app.server).views.clear()  # another worker: the shared cache answers
        shared = services.backtest_view(None, {"top_n": 3}, render, version="t")
        services.clear_cache()  # forgets the shared entries and this worker's views
        cleared = services.backtest_view(None, {"top_n": 3}, render, version="t")
    assert first == again == bumped == shared == cleared and json.loads(json.dumps(first)) == first
    assert [c["top_n"] for c in calls] == [3, 4, 3, 3] and other["source"] == "default"


# ----- navbar, figures, CSV, dev server --------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_clicks", "is_open", "expected"),
    [(1, False, True), (2, True, False), (None, True, False), (0, None, False), (3, {"x": 1}, False)],
)
def test_navbar_toggler(n_clicks: Any, is_open: Any, expected: bool) -> None:
    assert toggle_navbar(n_clicks, is_open) is expected


def test_figures_embed_a_compact_template() -> None:
    figure = figures.cumulative_returns_figure(
        {
            "date": ["2022-01-03", "2022-01-04"],
            "portfolio": [0.01, -0.02],
            "benchmark": [0.0, 0.01],
            "universe": [0.0, 0.0],
        }
    )
    template = figure.to_plotly_json()["layout"]["template"]
    assert "scene" not in template["layout"] and "polar" not in template["layout"]
    assert template["layout"]["plot_bgcolor"] == "white" and "heatmap" in template["data"]
    assert len(json.dumps(template)) < 3000


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(
    "value", [",=cmd|' /C calc'!A0", 'a,"x\n,=1', {"benchmark": ",@SUM(1)"}, [",+1+1", ",-2+cmd"], ",-0.25"]
)
def test_header_lines_have_no_formula_cell(value: Any) -> None:
    text = header_lines({"k": value}) + "a\n1\n"
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0].startswith("# k: ") and rows[-2:] == [["a"], ["1"]]
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_START) and c != "-0.25"]


def test_header_lines_keep_json_intact_when_harmless() -> None:
    assert header_lines({"params": {"a": 1, "b": [1, 2]}}) == '# params: {"a": 1, "b": [1, 2]}\n'


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.4", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected
