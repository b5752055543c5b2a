"""What the Signal page shows of a signal analysis (``services.research.signal_analysis``'s plain data).

The form has the strategy's signal settings (``SIGNAL_FIELDS``: the signal, its transform,
thresholds, aggregation, rebalance frequency, lag and the date range) and the analysis
settings (``SETTING_FIELDS``: quantiles, horizons, rolling window). The URL holds both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import engine
from dashapp.services import research
from dashapp.ui import components, forms, url_state

SIGNAL_FIELDS: tuple[str, ...] = (
    "signal",
    "signal_transform",
    "aggregation",
    "min_likes",
    "min_comments",
    "rebalance",
    "lag_days",
    "start",
    "end",
)
SETTING_FIELDS: tuple[str, ...] = ("quantiles", "horizons", "rolling_window")
SETTING_DEFAULTS: Mapping[str, int] = {
    "quantiles": engine.SignalAnalysisSettings().quantiles,
    "horizons": engine.SignalAnalysisSettings().horizons,
    "rolling_window": engine.SignalAnalysisSettings().rolling_window,
}


def field_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """``{field: message}`` of the signal fields (the strategy form's own rule)."""
    errors = forms.field_errors({name: values.get(name) for name in SIGNAL_FIELDS})
    return {name: errors[name] for name in SIGNAL_FIELDS}


def setting_errors(settings: Mapping[str, Any]) -> dict[str, str]:
    """``{setting: message}`` ("" when valid) of the analysis settings, each checked alone."""
    errors: dict[str, str] = {}
    for name in SETTING_FIELDS:
        try:
            research.signal_settings({name: settings.get(name)})
            errors[name] = ""
        except engine.ParameterError as exc:
            errors[name] = str(exc)
    return errors


def params_from(values: Mapping[str, Any]) -> dict[str, Any]:
    """The validated strategy parameters of the signal fields (``ParameterError`` otherwise)."""
    return engine.StrategyParams.from_mapping({name: values.get(name) for name in SIGNAL_FIELDS}).to_dict()


def signal_query(params: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    """URL query of the page: the signal fields that differ from the defaults, and the settings."""
    defaults = engine.StrategyParams().to_dict()
    values: dict[str, Any] = {k: v for k, v in params.items() if k in SIGNAL_FIELDS and v != defaults.get(k)}
    values.update({k: v for k, v in settings.items() if k in SETTING_FIELDS and v not in (None, "")})
    return "?" + url_state.params_to_query(values)


def entered_signal_query(fields: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    """URL query of a failed analysis: the signal fields as entered (those that are valid
    and equal to the default left out, as ``signal_query`` leaves them) and the settings as
    entered, invalid values included, so a reload shows the same inputs and error."""
    defaults = engine.StrategyParams().to_dict()
    values: dict[str, Any] = {}
    for name in SIGNAL_FIELDS:
        value = fields.get(name)
        try:
            if engine.StrategyParams.from_mapping({name: value}).to_dict()[name] == defaults.get(name):
                continue
        except engine.ParameterError:
            pass
        values[name] = value
    values.update({name: settings.get(name) for name in SETTING_FIELDS})
    return url_state.entered_query(values)


def settings_from_query(raw: Mapping[str, str]) -> dict[str, Any]:
    """The analysis settings of a link (invalid ones are shown as typed and flagged by the form)."""
    return {name: raw.get(name) or SETTING_DEFAULTS[name] for name in SETTING_FIELDS}


# ----- results ---------------------------------------------------------------------------


def ic_cards(analysis: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """``(title, value, format)`` of the IC and spread summary cards."""
    ic = analysis.get("ic_summary") or {}
    spread = analysis.get("spread_summary") or {}
    return [
        ("Mean IC", ic.get("mean_ic"), "{:.3f}"),
        ("IC std", ic.get("ic_std"), "{:.3f}"),
        ("IC IR", ic.get("ic_ir"), "{:.2f}"),
        ("IC t-stat", ic.get("t_stat"), "{:.2f}"),
        ("Share of periods IC > 0", ic.get("share_positive"), "{:.0%}"),
        ("Periods with an IC", ic.get("n_periods"), "int"),
        ("Top minus bottom spread (mean per period)", spread.get("mean"), "{:.2%}"),
        ("Spread t-stat", spread.get("t_stat"), "{:.2f}"),
        ("Top-quantile turnover", analysis.get("top_turnover"), "{:.0%}"),
    ]


def quantile_note(analysis: Mapping[str, Any]) -> str | None:
    """The note said when periods were left out of the quantiles (or none were formed)."""
    note = analysis.get("quantile_note")
    return str(note) if note else None


def horizon_note(analysis: Mapping[str, Any]) -> str | None:
    """The note said when the last period is incomplete (the data end before its next
    entry close) and so left out of the IC and the quantiles."""
    note = analysis.get("horizon_note")
    return str(note) if note else None


def notes(analysis: Mapping[str, Any]) -> list[str]:
    """The notes the page shows above the warnings: the quantile note, the horizon note."""
    return [note for note in (quantile_note(analysis), horizon_note(analysis)) if note]


def other_warnings(analysis: Mapping[str, Any]) -> list[str]:
    """The analysis' warnings but the notes, which the page shows once, above them."""
    shown = set(notes(analysis))
    return [str(w) for w in analysis.get("warnings") or [] if str(w) not in shown]


def distribution_rows(analysis: Mapping[str, Any]) -> list[tuple[str, str]]:
    summary = analysis.get("signal_summary") or {}
    keys = ("count", "mean", "std", "min", "p05", "p25", "median", "p75", "p95", "max")
    return [(key, components.format_value(summary.get(key), "num")) for key in keys if key in summary]


def _rows(frame: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    frame = frame or {}
    columns = list(frame)
    n = len(frame[columns[0]]) if columns else 0
    return [{c: _cell(c, (frame.get(c) or [None] * n)[i]) for c in columns} for i in range(n)]


DATE_COLUMNS = frozenset({"formation_end", "entry_date", "next_entry_date"})


def _cell(column: str, value: Any) -> Any:
    """Dates as ``YYYY-MM-DD`` (the plain data has ISO timestamps)."""
    return value[:10] if column in DATE_COLUMNS and isinstance(value, str) else value


def ic_csv(analysis: Mapping[str, Any]) -> str:
    """Per-period IC, coverage, spread and turnover, then the quantile returns (``q1..qQ``)
    of each period in the same rows; first the standard header of every export
    (``engine.manifest_header`` of the analysis's manifest), the analysis's lines
    (settings, quantiles) and the page's link."""
    periods = _rows(analysis.get("periods"))
    quantiles = _rows(analysis.get("quantile_returns"))
    by_date = {str(row.get("entry_date")): row for row in quantiles}
    records = []
    for row in periods:
        q = by_date.get(str(row.get("entry_date")), {})
        records.append({**row, **{k: v for k, v in q.items() if k != "entry_date"}})
    columns = list(periods[0]) if periods else []
    columns += [c for c in (quantiles[0] if quantiles else {}) if c != "entry_date"]
    extras = {
        **(analysis.get("export_extras") or {}),
        "link": "/signal" + signal_query(analysis.get("params") or {}, analysis.get("settings") or {}),
    }
    header = engine.manifest_header(
        engine.SIGNAL_EXPORT_CONTENT["signal_analysis"], analysis.get("manifest") or {}, extras=extras
    )
    return engine.records_to_csv(records, columns, header=header)
