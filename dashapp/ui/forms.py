"""The strategy-parameter form (components) and its server-side parsing.

One field per ``engine.StrategyParams`` field, ids ``<prefix>-<param>`` (e.g.
``backtest-top_n``) with a ``<prefix>-<param>-feedback`` message under each. Validation
lives in ``StrategyParams.from_mapping`` only: ``field_errors`` runs it per field so the
form can flag each invalid input while the user types, and ``parse_params`` runs it on the
whole form on the server (never trust the browser).

The sweep grid (``parse_grid``) takes, per swept parameter, either a list of values or a
comma-separated string; the values, their count and the size limit are the engine's rule
(``engine.check_grid``, ``engine.MAX_SWEEP_CONFIGS``), the same ``engine.run_sweep`` applies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import dash_bootstrap_components as dbc
from dash import Output, dcc, html

import engine
from dashapp.ui import components


@dataclasses.dataclass(frozen=True, kw_only=True)
class FieldSpec:
    """How one parameter is shown: label, input kind, help text, choices."""

    name: str
    label: str
    kind: str  # "date" | "select" | "int" | "float" | "ticker"
    help: str = ""
    choices: tuple[str, ...] = ()
    step: float | None = None


_DEFAULTS = engine.StrategyParams().to_dict()

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(name="start", label="Start", kind="date", help="First day of the backtest (empty: all data)"),
    FieldSpec(name="end", label="End", kind="date", help="Last day of the backtest (empty: all data)"),
    FieldSpec(
        name="signal",
        label="Signal",
        kind="select",
        choices=engine.SIGNALS,
        help="engagement_ratio = comments / likes",
    ),
    FieldSpec(
        name="signal_transform",
        label="Transform",
        kind="select",
        choices=engine.SIGNAL_TRANSFORMS,
        help="level, or change from the previous period",
    ),
    FieldSpec(
        name="aggregation",
        label="Aggregation",
        kind="select",
        choices=engine.AGGREGATIONS,
        help="How daily values combine within a period",
    ),
    FieldSpec(
        name="min_likes", label="Min likes", kind="float", step=1, help="Keep symbols with likes > this"
    ),
    FieldSpec(
        name="min_comments",
        label="Min comments",
        kind="float",
        step=1,
        help="Keep symbols with comments > this",
    ),
    FieldSpec(name="top_n", label="Top N", kind="int", step=1, help="Symbols held each period"),
    FieldSpec(name="rebalance", label="Rebalance", kind="select", choices=engine.REBALANCES),
    FieldSpec(
        name="lag_days",
        label="Lag (trading days)",
        kind="int",
        step=1,
        help="Days between signal close and purchase",
    ),
    FieldSpec(name="weighting", label="Weighting", kind="select", choices=engine.WEIGHTINGS),
    FieldSpec(
        name="lookback_days",
        label="Lookback (days)",
        kind="int",
        step=1,
        help="Return history for risk-based weights",
    ),
    FieldSpec(name="cost_bps", label="Costs (bps)", kind="float", step=1, help="Charged on traded value"),
    FieldSpec(name="benchmark", label="Benchmark", kind="ticker", help="Ticker, e.g. QQQ"),
    FieldSpec(
        name="risk_free", label="Risk-free (annual)", kind="float", step=0.005, help="e.g. 0.02 for 2% a year"
    ),
)
FIELD_NAMES: tuple[str, ...] = tuple(spec.name for spec in FIELDS)
CHOICE_FIELDS: frozenset[str] = frozenset(spec.name for spec in FIELDS if spec.kind == "select")
# Fields the user types (numbers, dates, the ticker): an invalid value can be entered, so a
# link keeps it (url_state.read_query's keep_invalid) for the form to show flagged.
TYPED_FIELDS: frozenset[str] = frozenset(spec.name for spec in FIELDS if spec.kind != "select")
_SPECS: Mapping[str, FieldSpec] = MappingProxyType({spec.name: spec for spec in FIELDS})

# A multi-select keeps a link's values that are not choices (shown flagged), at most this many
# of at most this many characters each (a link can hold anything).
MAX_SHOWN_VALUES = 20
MAX_SHOWN_CHARS = 100

# Parameters a sweep can vary (dates and the benchmark stay fixed within one sweep).
SWEEPABLE: tuple[str, ...] = (
    "top_n",
    "lag_days",
    "rebalance",
    "weighting",
    "signal",
    "signal_transform",
    "aggregation",
    "min_likes",
    "min_comments",
    "lookback_days",
    "cost_bps",
)

assert set(FIELD_NAMES) == set(engine.PARAM_NAMES), "every StrategyParams field needs a form field"


def field_id(prefix: str, name: str) -> str:
    return f"{prefix}-{name}"


def feedback_id(prefix: str, name: str) -> str:
    return f"{prefix}-{name}-feedback"


def choice_options(choices: Sequence[str]) -> list[dict[str, str]]:
    """Select options for a choice parameter, labelled without underscores."""
    return [{"label": choice.replace("_", " "), "value": choice} for choice in choices]


def display_value(name: str, value: Any) -> Any:
    """A parameter value as its input shows it (None -> "" so inputs stay controlled)."""
    if value is None:
        return ""
    return value


def _field(prefix: str, spec: FieldSpec, value: Any) -> dbc.Col:
    ident = field_id(prefix, spec.name)
    shown = display_value(spec.name, value)
    if spec.kind == "select":
        control: Any = dbc.Select(
            id=ident,
            options=choice_options(spec.choices),
            value=shown if shown in spec.choices else _DEFAULTS[spec.name],
            size="sm",
        )
    elif spec.kind == "date":
        control = dbc.Input(id=ident, type="date", value=shown, size="sm", debounce=False)
    elif spec.kind == "ticker":
        control = dbc.Input(id=ident, type="text", value=shown, size="sm", maxLength=12, debounce=False)
    else:
        # type="text" with inputMode: a browser number input reports None for "1e" or "abc",
        # which would hide the typo instead of flagging it.
        control = dbc.Input(
            id=ident,
            type="text",
            inputMode="decimal" if spec.kind == "float" else "numeric",
            value=shown,
            size="sm",
            debounce=False,
        )
    # The help text is a hover title, not a visible line: the whole form must fit beside the charts.
    return dbc.Col(
        [
            dbc.Label(
                html.Span(spec.label, title=spec.help or None),
                html_for=ident,
                className="small mb-0 fw-semibold",
            ),
            control,
            dbc.FormFeedback(id=feedback_id(prefix, spec.name), type="invalid", className="small"),
        ],
        xs=6,
        className="mb-1",
    )


def strategy_form(prefix: str, values: Mapping[str, Any] | None = None) -> dbc.Row:
    """Every strategy parameter as an input, prefilled with ``values`` (defaults elsewhere)."""
    merged = {**_DEFAULTS, **{k: v for k, v in (values or {}).items() if k in _SPECS}}
    return dbc.Row([_field(prefix, spec, merged.get(spec.name)) for spec in FIELDS], className="g-2")


# ----------------------------------------------------------------- parsing and validation


def field_inputs(prefix: str, kind: type) -> dict[str, Any]:
    """``{param: kind(<prefix>-<param>, "value")}``: the form as one grouped callback argument."""
    return {name: kind(field_id(prefix, name), "value") for name in FIELD_NAMES}


def field_outputs(prefix: str) -> dict[str, dict[str, Any]]:
    """``{"invalid": {param: Output}, "feedback": {param: Output}}`` of the form's fields."""
    return {
        "invalid": {name: Output(field_id(prefix, name), "invalid") for name in FIELD_NAMES},
        "feedback": {name: Output(feedback_id(prefix, name), "children") for name in FIELD_NAMES},
    }


def field_flags(errors: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """``field_errors`` in the shape of ``field_outputs`` (invalid flag and message per field)."""
    return {
        "invalid": {name: bool(errors[name]) for name in FIELD_NAMES},
        "feedback": {name: errors[name] for name in FIELD_NAMES},
    }


def field_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """``{param: message}`` for each invalid field ("" when valid); never raises.

    Each field is checked on its own (so one typo flags one input), then the pairs that
    only fail together (start before end) are checked and flagged on ``end``.
    """
    errors: dict[str, str] = {}
    for name in FIELD_NAMES:
        try:
            engine.StrategyParams.from_mapping({name: values.get(name)})
            errors[name] = ""
        except engine.ParameterError as exc:
            errors[name] = components.shorten_echoes(exc)
    if not errors["start"] and not errors["end"]:
        try:
            engine.StrategyParams.from_mapping({"start": values.get("start"), "end": values.get("end")})
        except engine.ParameterError as exc:
            errors["end"] = components.shorten_echoes(exc)
    return errors


def parse_params(values: Mapping[str, Any]) -> engine.StrategyParams:
    """The whole form as validated parameters; raises ``engine.ParameterError``."""
    return engine.StrategyParams.from_mapping({name: values.get(name) for name in FIELD_NAMES})


# ----------------------------------------------------------------- sweep grid


def split_values(raw: Any) -> list[Any]:
    """ "3, 5,10" or ["3", 5] -> ["3", 5, "10"]; blanks dropped, order and duplicates kept.

    Raises ``engine.ParameterError`` for anything but None, a text or a list/tuple.
    """
    if raw is None:
        return []
    if not isinstance(raw, (str, list, tuple)):
        # A client can post any JSON: a bare number is not a list of values to try.
        raise engine.ParameterError(
            f"values must be a comma-separated list; got {engine.short_repr(raw, 22)}"
        )
    items: Iterable[Any] = raw.split(",") if isinstance(raw, str) else raw
    out = []
    for item in items:
        if item is None:
            continue
        text = item.strip() if isinstance(item, str) else item
        if text == "":
            continue
        out.append(text)
    return out


def check_sweepable(name: str) -> str:
    """``name`` when a sweep can vary it; raises ``engine.ParameterError`` saying which can."""
    if name not in SWEEPABLE:
        raise engine.ParameterError(
            f"{engine.short_repr(name, 42)} cannot be swept; choose from {', '.join(SWEEPABLE)}"
        )
    return name


def parse_grid_values(name: str, raw: Any) -> list[Any]:
    """Validated, de-duplicated values of one swept parameter (``engine.check_grid``); [] when empty.

    Raises ``engine.ParameterError`` naming the parameter.
    """
    check_sweepable(name)
    values = split_values(raw)
    return list(engine.check_grid({name: values})[name]) if values else []


def parse_grid(raw_grid: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{param: values}`` for every parameter given at least one value; raises ParameterError.

    The number of configurations must be 1..``engine.MAX_SWEEP_CONFIGS`` (``engine.check_grid``).
    """
    grid: dict[str, list[Any]] = {}
    for name, raw in raw_grid.items():
        values = parse_grid_values(name, raw)
        if values:
            grid[name] = values
    if not grid:
        raise engine.ParameterError("choose at least one parameter to sweep and give it values")
    engine.check_grid(grid)
    return grid


def grid_control(prefix: str, name: str, value: Any) -> dbc.Col:
    """One sweep input: a multi-select for choice parameters, a comma list for numbers.

    A value that is not a choice (from a link: ``grid_weighting=best,equal``) is kept,
    selected and labelled "(not valid)", as a typed field keeps an invalid entry: the
    form's check flags it (``parse_grid_values``) and a run states why, instead of the
    select dropping it and a smaller sweep running."""
    spec = _SPECS[name]
    ident = field_id(prefix, f"grid-{name}")
    feedback_class = "small"
    if spec.kind == "select":
        chosen = [str(v)[:MAX_SHOWN_CHARS] for v in split_values(value)][:MAX_SHOWN_VALUES]
        unknown = [v for v in dict.fromkeys(chosen) if v not in spec.choices]
        options = choice_options(spec.choices) + [{"label": f"{v} (not valid)", "value": v} for v in unknown]
        # A multi-select is not a Bootstrap input, so its invalid-feedback must be shown itself.
        feedback_class = "small d-block"
        control: Any = dcc.Dropdown(
            id=ident,
            options=options,
            value=chosen,
            multi=True,
            placeholder="not swept",
            className="small",
        )
    else:
        text = ", ".join(str(v) for v in split_values(value))
        control = dbc.Input(
            id=ident, type="text", value=text, placeholder="not swept, e.g. 3, 5, 10", size="sm"
        )
    return dbc.Col(
        [
            dbc.Label(spec.label, html_for=ident, className="small mb-0 fw-semibold"),
            control,
            dbc.FormFeedback(
                id=feedback_id(prefix, f"grid-{name}"), type="invalid", className=feedback_class
            ),
        ],
        xs=6,
        className="mb-2",
    )
