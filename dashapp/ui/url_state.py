"""Page state <-> URL query string, so that a URL reproduces a run.

``params_to_query`` writes plain values (lists as comma lists, dates as ISO strings, empty
values left out) as ``key=value&...`` without the leading ``?``. ``read_query`` is the
tolerant inverse for strategy parameters: unknown keys and invalid values are dropped,
each with a one-line message for the page to show, and it never raises: a hand-edited or
truncated link still opens the page, with defaults where it was broken.

A failed run keeps what the user entered in the URL (``entered_query``), invalid values
included, so a reload shows the same inputs and the same error; the pages read such a
link with ``read_query(..., keep_invalid=<their typed fields>)``, which hands an invalid
value of those fields back as its text (the form flags it, the run says why) instead of
dropping it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

import engine

MAX_KEPT_CHARS = 100  # an invalid value kept for the form (read_query's keep_invalid), at most
# Keys other pages put in the URL beside the strategy parameters; not reported as unknown.
PAGE_KEYS: frozenset[str] = frozenset({"symbols", "x", "y", "metric"})
GRID_PREFIX = "grid_"  # sweep page: grid_top_n=3,5,10


def _text(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


def params_to_query(values: Mapping[str, Any]) -> str:
    """``{"top_n": 5, "grid_lag_days": [0, 1]}`` -> ``"top_n=5&grid_lag_days=0%2C1"``.

    ``None``, ``""`` and empty lists are left out (they mean "default" / "not set").
    Keys keep the mapping's order, so the same state always gives the same URL.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        if value is None or (isinstance(value, str) and value.strip() == ""):
            continue
        if isinstance(value, (list, tuple)):
            items = [_text(v) for v in value if v is not None and str(v).strip() != ""]
            if not items:
                continue
            pairs.append((str(key), ",".join(items)))
        else:
            pairs.append((str(key), _text(value)))
    return urlencode(pairs)


def query_values(query: str | Mapping[str, Any] | None) -> dict[str, str]:
    """Raw ``{key: value}`` of a query string (leading ``?`` optional; last repeat wins).

    A mapping (Dash passes the query to ``layout(**query)``) is returned with string values.
    """
    if query is None:
        return {}
    if isinstance(query, Mapping):
        out: dict[str, str] = {}
        for key, value in query.items():
            if isinstance(value, (list, tuple)):
                value = ",".join(map(str, value))
            out[str(key)] = "" if value is None else str(value)
        return out
    return dict(parse_qsl(query.lstrip("?"), keep_blank_values=False))


def read_query(
    query: str | Mapping[str, Any] | None,
    page_keys: Collection[str] = (),
    keep_invalid: Collection[str] = (),
) -> tuple[dict[str, Any], list[str]]:
    """Valid strategy parameters of a query (canonical plain values) and messages about the rest.

    ``page_keys``: the calling page's own settings in its links (the Signal page's
    ``quantiles``, the Sweep page's ``wf_folds``...), which the page reads and checks itself;
    they are not reported as unknown. ``keep_invalid``: parameters whose invalid value is
    kept as its text (at most ``MAX_KEPT_CHARS`` characters), without a message, because the
    page's form shows it flagged and its run states the error (``top_n=abc`` ->
    ``{"top_n": "abc"}``; a ``start`` after ``end`` keeps both); any other invalid value is
    dropped with a message."""
    raw = query_values(query)
    params: dict[str, Any] = {}
    messages: list[str] = []
    for key, value in raw.items():
        if key in engine.PARAM_NAMES:
            try:
                params[key] = engine.StrategyParams.from_mapping({key: value}).to_dict()[key]
            except engine.ParameterError as exc:
                if key in keep_invalid:
                    params[key] = value[:MAX_KEPT_CHARS]
                else:
                    messages.append(f"Ignored {key} from the link: {exc}")
        elif (
            key not in PAGE_KEYS
            and key not in page_keys
            and not key.startswith(GRID_PREFIX)
            and not key.startswith("_")
        ):
            messages.append(f"Ignored unknown setting {key!r} in the link")
    if params.get("start") and params.get("end") and not {"start", "end"} <= set(keep_invalid):
        try:
            engine.StrategyParams.from_mapping({"start": params["start"], "end": params["end"]})
        except engine.ParameterError as exc:
            messages.append(f"Ignored start and end from the link: {exc}")
            params.pop("start")
            params.pop("end")
    return params, messages


def query_to_params(query: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """The valid strategy parameters of a query; invalid or unknown keys are dropped."""
    return read_query(query)[0]


def grid_from_query(query: str | Mapping[str, Any] | None, names: Sequence[str]) -> dict[str, str]:
    """Sweep grid texts ``{param: "3,5,10"}`` from ``grid_<param>`` keys (unvalidated)."""
    raw = query_values(query)
    return {name: raw[GRID_PREFIX + name] for name in names if raw.get(GRID_PREFIX + name)}


def read_grid_query(
    query: str | Mapping[str, Any] | None, check_name: Callable[[str], Any]
) -> tuple[dict[str, str], list[str]]:
    """Sweep grid texts ``{param: "3,5,10"}`` of a query's ``grid_<param>`` keys, and a message
    for each ``grid_`` key whose parameter ``check_name`` refuses (it raises
    ``engine.ParameterError`` with the sentence): ``grid_bogus=1`` -> "Ignored grid_bogus from
    the link: bogus cannot be swept; ...". The values are not checked here: the page shows
    them as entered, an invalid one flagged by its form (never dropped)."""
    texts: dict[str, str] = {}
    messages: list[str] = []
    for key, value in query_values(query).items():
        if not key.startswith(GRID_PREFIX) or not value.strip():
            continue
        name = key[len(GRID_PREFIX) :]
        try:
            check_name(name)
        except engine.ParameterError as exc:
            messages.append(f"Ignored {key[:MAX_KEPT_CHARS]} from the link: {exc}")
            continue
        texts[name] = value
    return texts, messages


def entered_query(values: Mapping[str, Any]) -> str:
    """``"?"`` + the query of a form's values exactly as entered (invalid ones included), for
    the URL of a run that failed: ``{"top_n": "0", "benchmark": "ZZZZ"}`` ->
    ``"?top_n=0&benchmark=ZZZZ"``. Blank values are left out (they mean "default"); a value
    that is neither text, a number, a date nor a list of those is left out too (a client
    can post any JSON)."""
    kept: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, (list, tuple)):
            value = [
                v for v in value if isinstance(v, (str, int, float, dt.date)) and not isinstance(v, bool)
            ]
        elif not isinstance(value, (str, int, float, dt.date)) or isinstance(value, bool):
            continue
        kept[key] = value
    return "?" + params_to_query(kept)


def with_search(path: str, values: Mapping[str, Any]) -> str:
    """``"/"`` + state -> ``"/?top_n=5&..."`` (no ``?`` when there is no state)."""
    query = params_to_query(values)
    return f"{path}?{query}" if query else path
