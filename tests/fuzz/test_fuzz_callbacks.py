"""Hostile callback arguments: through the running app (``/_dash-update-component``) and
directly on the argument-parsing helpers the callbacks use.

A hostile client can post any JSON to ``/_dash-update-component``: every input and state
value is attacker-controlled, including ``dcc.Store`` data that the pages themselves wrote.
Contract: a 4xx, or a 200/204 whose body is plain JSON (an in-page error at worst), never a
5xx, never traceback text, and the next normal request still works.

Callbacks are discovered from ``/_dash-dependencies`` (a callback added later is fuzzed too).
Background callbacks (a sweep, a robustness run) are not posted: each would start a job
process; their argument parsing is fuzzed directly below.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from dashapp import create_app, services
from dashapp.state import state_of
from dashapp.ui import forms, url_state

from . import assert_user_message, binaries, texts

UPDATE = "/_dash-update-component"
MAX_UPLOAD = 64 * 1024

HOSTILE = (
    None,
    10**400,
    -1,
    0,
    True,
    1e308,
    -1e308,
    "",
    "x" * 10_000,
    [1] * 1_000,
    {"a": {"b": [None, {"c": "d"}]}},
    [{"kind": "upload", "id": "../../etc/passwd"}],
    {"kind": "upload", "id": "0" * 32, "name": "<script>alert(1)</script>"},
    {"kind": "file", "path": "/etc"},
    "=cmd|' /C calc'!A0",
    "9999-12-31",
    "1677-09-21",
    "../../etc/passwd",
    "data:text/csv;base64,,,",
    "http://169.254.169.254/latest/meta-data/",
    {"row_id": 10**6},
    [None],
)


# ----- the app and its callbacks ---------------------------------------------------------------------


class _Errors(logging.Handler):
    """Unhandled exceptions the app logged (the 500 handler logs with exc_info)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def summary(self) -> list[str]:
        out = []
        for record in self.records:
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                frame = exc.__traceback__
                while frame is not None and frame.tb_next is not None:
                    frame = frame.tb_next
                where = (
                    f"{frame.tb_frame.f_code.co_filename.split('site-packages/')[-1]}:{frame.tb_lineno}"
                    if frame
                    else "?"
                )
                out.append(f"{type(exc).__name__}: {str(exc)[:80]} at {where}")
        return out


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dash.Dash]:
    app = create_app(
        {
            "CACHE_DIR": str(tmp_path_factory.mktemp("fuzz-cache")),
            "ENGINE_EXECUTOR": "serial",
            "MAX_UPLOAD_BYTES": MAX_UPLOAD,
        }
    )
    yield app


@pytest.fixture(scope="module")
def errors() -> Iterator[_Errors]:
    handler = _Errors()
    logger = logging.getLogger("dashapp")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture(scope="module")
def client(app: dash.Dash) -> Any:
    client = app.server.test_client()
    assert client.get("/").status_code == 200  # pages register their callbacks on first use
    return client


@pytest.fixture(scope="module")
def dependencies(client: Any) -> dict[str, dict[str, Any]]:
    deps = client.get("/_dash-dependencies").json
    return {_first_output(d): d for d in deps if not d.get("clientside_function")}


def _first_output(dep: dict[str, Any]) -> str:
    return dep["output"].strip(".").split("...")[0].split("@")[0]


def _spec(text: str) -> dict[str, Any]:
    ident, prop = text.rsplit(".", 1)
    return {"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop.split("@")[0]}


def _outputs(dep: dict[str, Any]) -> Any:
    out = dep["output"]
    if out.startswith(".."):
        return [_spec(x) for x in out.strip(".").split("...")]
    return _spec(out)


def request_body(dep: dict[str, Any], inputs: list[Any], state: list[Any]) -> dict[str, Any]:
    """The JSON the Dash renderer posts for ``dep`` with the given input and state values."""
    return {
        "output": dep["output"],
        "outputs": _outputs(dep),
        "inputs": [
            {"id": x["id"], "property": x["property"], "value": v}
            for x, v in zip(dep["inputs"], inputs, strict=False)
        ],
        "state": [
            {"id": x["id"], "property": x["property"], "value": v}
            for x, v in zip(dep["state"], state, strict=False)
        ],
        "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"]
        if dep["inputs"]
        else [],
    }


def post(client: Any, body: Any) -> Any:
    return client.post(UPDATE, data=json.dumps(body), content_type="application/json")


def assert_handled(response: Any, context: str, errors: _Errors) -> None:
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text, f"{context}: traceback in the body"
    assert response.status_code < 500, f"{context}: {response.status_code} {errors.summary()[-1:]}"
    if response.status_code == 200:
        json.loads(text)  # a well-formed callback answer


def assert_still_serving(client: Any, dependencies: dict[str, dict[str, Any]]) -> None:
    badge = dependencies["source-badge.children"]
    response = post(client, request_body(badge, [None], []))
    assert response.status_code == 200 and "Demo data" in response.get_data(as_text=True)
    assert client.get("/health").status_code == 200


# ----- through the running app --------------------------------------------------------------------------


def _server_side(dependencies: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(key for key, dep in dependencies.items() if not dep.get("background"))


def _hostile_matrix(
    key: str, client: Any, dependencies: dict[str, dict[str, Any]], errors: _Errors
) -> list[str]:
    """One hostile value in every input and state slot of ``key``; the failures found."""
    dep = dependencies[key]
    failures = []
    for value in HOSTILE:
        body = request_body(dep, [value] * len(dep["inputs"]), [value] * len(dep["state"]))
        try:
            assert_handled(post(client, body), f"{key} <- {str(value)[:40]!r}", errors)
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0])
    return failures


def test_background_callbacks_are_the_two_jobs(dependencies: dict[str, dict[str, Any]]) -> None:
    background = {key for key, dep in dependencies.items() if dep.get("background")}
    # The Data page's Yahoo download (a sentiment file uploaded alone) reports its progress.
    assert background == {"backtest-robustness.children", "sweep-result.data", "data-validation.children"}


def test_every_callback_survives_hostile_values(
    client: Any, dependencies: dict[str, dict[str, Any]], errors: _Errors
) -> None:
    keys = _server_side(dependencies)
    assert len(keys) >= 12
    failures = [failure for key in keys for failure in _hostile_matrix(key, client, dependencies, errors)]
    assert not failures, failures
    assert_still_serving(client, dependencies)


hostile_values = st.one_of(
    st.sampled_from(HOSTILE),
    st.none(),
    st.integers(-(10**12), 10**12),
    texts(max_size=40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.one_of(texts(max_size=5), st.integers()), max_size=5),
    st.dictionaries(
        st.sampled_from(("kind", "id", "name", "source", "params", "symbols", "row_id", "records", "grid")),
        st.one_of(texts(max_size=8), st.integers(), st.none()),
        max_size=4,
    ),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mixed_hostile_values(
    data: st.DataObject, client: Any, dependencies: dict[str, dict[str, Any]], errors: _Errors
) -> None:
    keys = _server_side(dependencies)
    key = data.draw(st.sampled_from(keys))
    dep = dependencies[key]
    inputs = [data.draw(hostile_values) for _ in dep["inputs"]]
    state = [data.draw(hostile_values) for _ in dep["state"]]
    assert_handled(
        post(client, request_body(dep, inputs, state)), f"{key} <- {inputs!r:.80} {state!r:.80}", errors
    )


def test_stocks_symbols_of_the_wrong_type_are_handled(
    client: Any, dependencies: dict[str, dict[str, Any]], errors: _Errors
) -> None:
    dep = dependencies["stocks-symbols.options"]
    for chosen in (5, 1.5, True, [{"a": 1}]):
        assert_handled(post(client, request_body(dep, [None], [chosen])), f"symbols {chosen!r}", errors)


UNEXPECTED_UPLOAD_ERROR = "the upload could not be processed"
csv_like = st.lists(
    st.lists(
        st.sampled_from(
            ["2021-01-04", "AAPL", "QQQ", "1", "-1", "1e400", "nan", "=cmd|' /C calc'!A0", "", '"']
        ),
        min_size=1,
        max_size=8,
    ),
    max_size=6,
).map(lambda rows: "\n".join(",".join(r) for r in [["date", "symbol", *COUNT_HEADER], *rows]).encode())
COUNT_HEADER = ["twitterPosts", "twitterComments", "twitterLikes", "twitterImpressions", "twitterSentiment"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    sentiment=st.one_of(
        binaries(max_size=300), csv_like, csv_like.map(lambda b: b.decode().encode("utf-16"))
    ),
    prices=st.one_of(st.none(), binaries(max_size=200), st.just(b"PAR1garbagePAR1")),
    names=st.tuples(texts(max_size=20), st.one_of(st.none(), texts(max_size=20))),
)
def test_any_uploaded_bytes_get_a_specific_in_page_answer(
    sentiment: bytes,
    prices: bytes | None,
    names: tuple[str, str | None],
    client: Any,
    dependencies: dict[str, dict[str, Any]],
) -> None:
    import base64

    def encoded(data: bytes | None) -> str | None:
        return (
            None
            if data is None
            else "data:application/octet-stream;base64," + base64.b64encode(data).decode()
        )

    dep = dependencies["data-candidate.data"]
    response = post(client, request_body(dep, [encoded(sentiment), encoded(prices)], list(names)))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    # The generic message means an exception other than EngineError escaped the loaders.
    assert UNEXPECTED_UPLOAD_ERROR not in text
    assert "This file cannot be used" in text or "is valid" in text


def test_out_of_range_form_is_an_in_page_error(client: Any, dependencies: dict[str, dict[str, Any]]) -> None:
    dep = dependencies["backtest-results.children"]
    fields = dict(forms.FIELD_NAMES and {n: None for n in forms.FIELD_NAMES})
    fields.update(top_n=10_000, cost_bps="-5", benchmark="=cmd|' /C calc'!A0")
    state = [fields[n] for n in forms.FIELD_NAMES] + [None]
    response = post(client, request_body(dep, [1, None], state))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Cannot run this backtest" in text and "top_n must be a whole number from 1 to 500" in text


def test_upload_above_the_limit_is_an_in_page_error(
    client: Any, dependencies: dict[str, dict[str, Any]]
) -> None:
    import base64

    dep = dependencies["data-candidate.data"]
    contents = "data:text/csv;base64," + base64.b64encode(b"a" * (MAX_UPLOAD + 10)).decode()
    response = post(client, request_body(dep, [contents, None], ["big.csv", None]))
    assert response.status_code == 200
    assert "larger than" in response.get_data(as_text=True)
    assert_still_serving(client, dependencies)


def test_request_above_max_content_length_is_413(
    app: dash.Dash, client: Any, dependencies: dict[str, dict[str, Any]]
) -> None:
    dep = dependencies["data-candidate.data"]
    too_big = "data:text/csv;base64," + "A" * (app.server.config["MAX_CONTENT_LENGTH"] + 1)
    response = post(client, request_body(dep, [too_big, None], ["big.csv", None]))
    assert response.status_code == 413
    assert response.json["message"] == "the upload is too large"
    assert_still_serving(client, dependencies)


# ----- directly: the argument parsing the callbacks rely on ---------------------------------------------

plain_values = st.recursive(
    st.one_of(
        st.sampled_from(HOSTILE[:6] + HOSTILE[7:]),
        st.none(),
        st.integers(-(10**6), 10**6),
        texts(max_size=12),
        st.floats(allow_nan=True, allow_infinity=True),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(texts(max_size=4), inner, max_size=3)
    ),
    max_leaves=5,
)
FLOAT_SAFE = plain_values.filter(lambda v: not (isinstance(v, int) and abs(v) > 1e300))


@settings(max_examples=100, deadline=None)
@given(values=st.lists(FLOAT_SAFE, min_size=len(forms.FIELD_NAMES), max_size=len(forms.FIELD_NAMES)))
def test_form_validation_never_raises(values: list[Any]) -> None:
    fields = dict(zip(forms.FIELD_NAMES, values, strict=True))
    errors = forms.field_errors(fields)
    assert set(errors) == set(forms.FIELD_NAMES)
    for message in errors.values():
        if message:
            assert_user_message(message, formulas_quoted=False)
    if not any(errors.values()):
        forms.parse_params(fields)


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(forms.SWEEPABLE),
    raw=st.one_of(texts(max_size=40), st.lists(st.one_of(texts(max_size=6), st.none()), max_size=6)),
)
def test_grid_text_or_list_parses_or_fails_in_one_line(name: str, raw: Any) -> None:
    try:
        grid = forms.parse_grid({name: raw})
    except engine.ParameterError as exc:
        assert_user_message(str(exc), formulas_quoted=False)
    else:
        assert 1 <= engine.grid_size(grid) <= engine.MAX_SWEEP_CONFIGS


@pytest.mark.parametrize("raw", [5, 3.5, True])
def test_grid_value_of_the_wrong_type_is_a_parameter_error(raw: Any) -> None:
    with pytest.raises(engine.ParameterError):
        forms.parse_grid({"top_n": raw})


@settings(max_examples=100, deadline=None)
@given(store=plain_values)
def test_session_source_store_is_validated(store: Any) -> None:
    try:
        source = services.resolve_source(store)
    except engine.EngineError as exc:
        assert_user_message(str(exc), formulas_quoted=False)
    else:
        assert source["kind"] in ("default", "upload")
        if source["kind"] == "upload":  # only a content hash ever names server-side bytes
            assert len(source["id"]) == 32 and set(source["id"]) <= set("0123456789abcdef")
            assert "/" not in source["name"] and "\\" not in source["name"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contents=st.one_of(plain_values, texts(max_size=60).map(lambda t: "data:text/csv;base64," + t)))
def test_upload_contents_are_decoded_or_refused_in_one_line(contents: Any, app: dash.Dash) -> None:
    with app.server.app_context():
        try:
            data = services.decode_upload(contents, what="sentiment file")
        except engine.EngineError as exc:
            assert_user_message(str(exc), formulas_quoted=False)
        else:
            assert isinstance(data, bytes) and len(data) <= MAX_UPLOAD + 3


@pytest.mark.parametrize("raw", [5, 1.5, True])
def test_services_clean_symbols_of_the_wrong_type_is_an_engine_error(raw: Any) -> None:
    with pytest.raises(engine.EngineError):
        services.clean_symbols(raw)


@settings(max_examples=60, deadline=None)
@given(values=st.dictionaries(texts(max_size=8), plain_values, max_size=5))
def test_params_to_query_round_trips_through_the_tolerant_reader(values: dict[str, Any]) -> None:
    query = url_state.params_to_query(values)
    assert "\n" not in query and "#" not in query  # one URL-encoded component
    url_state.read_query(query)


def test_cache_dir_is_the_temporary_one(app: dash.Dash, tmp_path_factory: pytest.TempPathFactory) -> None:
    assert Path(state_of(app.server).config.CACHE_DIR).is_relative_to(tmp_path_factory.getbasetemp())


# ----- the Signal page and the sweep's walk-forward settings ---------------------------------------------

setting_values = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    texts(max_size=12),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(
    values=st.dictionaries(st.sampled_from(("quantiles", "horizons", "rolling_window", "x")), setting_values)
)
def test_signal_settings_are_settings_or_one_sentence(values: dict[str, Any]) -> None:
    from dashapp.services import research

    try:
        checked = research.signal_settings(values)
    except engine.ParameterError as exc:
        assert_user_message(str(exc))
    else:
        assert 2 <= checked.quantiles <= 20 and 1 <= checked.horizons <= 24


@settings(max_examples=200, deadline=None)
@given(
    values=st.dictionaries(
        st.sampled_from(("n_folds", "scheme", "in_sample_days", "out_of_sample_days", "metric", "risk_free")),
        setting_values,
    )
)
def test_walk_forward_settings_are_settings_or_one_sentence(values: dict[str, Any]) -> None:
    from dashapp.services import research

    try:
        checked = research.walk_forward_settings(values)
    except engine.ParameterError as exc:
        assert_user_message(str(exc))
    else:
        assert checked.n_folds >= 1 and checked.scheme in ("anchored", "rolling")


def test_signal_form_out_of_range_is_an_in_page_error(
    client: Any, dependencies: dict[str, dict[str, Any]]
) -> None:
    dep = dependencies["signal-results.children"]
    names = [s["id"] for s in dep["state"]]
    values = {name: None for name in names}
    values.update({"signal-lag_days": "=cmd|' /C calc'!A0", "signal-quantiles": 5})
    response = post(client, request_body(dep, [1, None], [values[n] for n in names]))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Cannot analyse this signal" in text and "lag_days must be a whole number" in text
    values.update({"signal-lag_days": None, "signal-quantiles": 10**400})
    text = post(client, request_body(dep, [1, None], [values[n] for n in names])).get_data(as_text=True)
    assert "Cannot analyse this signal" in text and "quantiles must be a whole number" in text


@pytest.mark.parametrize("text", ["²", "١٢", "³5"])
def test_unicode_digits_in_the_ray_settings_are_refused_in_one_sentence(text: str) -> None:
    # str.isdigit() is true for these but int() refuses them: the parser must not crash,
    # and a set value that is not a number is refused, not run on the default.
    with pytest.raises(engine.ParameterError, match="SPL_RAY_NUM_CPUS must be a whole number"):
        engine.RayConfig.from_env({"SPL_RAY_NUM_CPUS": text})


def test_a_5000_digit_ray_setting_is_one_sentence() -> None:
    # int(str) refuses past 4,300 digits with a ValueError; the parser must not crash.
    with pytest.raises(engine.ParameterError, match="SPL_RAY_NUM_CPUS is far too large a number"):
        engine.RayConfig.from_env({"SPL_RAY_NUM_CPUS": "9" * 5000})
