"""What the Stocks page shows of ``services.stocks`` (``engine.analyze_stocks`` as plain data)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

import engine
from dashapp.ui import components, forms, url_state

DEFAULT_SYMBOL_COUNT = 4
# The metrics table's columns are the engine's (``STOCK_METRIC_COLUMNS``).
METRIC_COLUMNS: tuple[str, ...] = tuple(c for c in engine.STOCK_METRIC_COLUMNS if c != "symbol")


def symbols_from_query(raw: Any) -> list[str]:
    """Tickers of a ``symbols=A,B`` query value; malformed entries dropped."""
    if not isinstance(raw, (str, list, tuple)):
        return []
    return [s.upper() for s in forms.split_values(raw) if isinstance(s, str) and engine.is_ticker(s.upper())]


def link_messages(raw: Mapping[str, Any]) -> list[str]:
    """What a link's ``symbols``, ``start`` and ``end`` held that the page ignores (the
    entries ``symbols_from_query`` and ``date_or_blank`` drop), one sentence each."""
    messages: list[str] = []
    symbols = raw.get("symbols")
    if isinstance(symbols, (str, list, tuple)):
        try:
            items = forms.split_values(symbols)
        except engine.ParameterError:
            items = []
        bad = [
            (s if isinstance(s, str) else engine.short_repr(s)).upper()[:20]
            for s in items
            if not (isinstance(s, str) and engine.is_ticker(s.upper()))
        ]
        if bad:
            shown = ", ".join(repr(s) for s in bad[:5]) + (" ..." if len(bad) > 5 else "")
            messages.append(f"Ignored symbols from the link that are not tickers: {shown}")
    for name in ("start", "end"):
        if raw.get(name) not in (None, ""):
            error = forms.field_errors({name: raw.get(name)})[name]
            if error:
                messages.append(f"Ignored {name} from the link: {error}")
    return messages


def date_or_blank(name: str, value: Any) -> Any:
    """``value`` when it is a valid ``start``/``end`` date (the engine's rule), else ""."""
    return "" if forms.field_errors({name: value})[name] else value


def symbol_choices(
    report_symbols: Sequence[str], chosen: Sequence[str] | None, failed: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """Every symbol of the data that has prices plus the chosen ones (sorted), and the value:
    the chosen, or a few. ``failed`` (the report's failed tickers: no price at all) are not
    offered, so the page's first run never asks for a stock it cannot analyse (the Data page
    and the Backtest page's notes name them)."""
    without_prices = set(failed) - set(chosen or [])
    symbols = sorted((set(report_symbols) | set(chosen or [])) - without_prices)
    return symbols, list(chosen) if chosen else symbols[:DEFAULT_SYMBOL_COUNT]


def metric_rows(metrics: Mapping[str, Sequence[Any]] | None) -> list[list[str]]:
    """One row per symbol: the symbol, then each metric formatted (the CSV keeps full precision)."""
    if not metrics or not metrics.get("symbol"):
        return []
    rows = []
    for i, symbol in enumerate(metrics["symbol"]):
        row = [str(symbol)]
        for key in METRIC_COLUMNS:
            values = metrics.get(key) or []
            row.append(
                components.format_value(values[i] if i < len(values) else None, components.metric_format(key))
            )
        rows.append(row)
    return rows


def metrics_csv(analysis: Mapping[str, Any], state: Mapping[str, Any], info: Mapping[str, Any]) -> str:
    """The per-stock metrics as CSV under the standard header of every export
    (``engine.export_header``: content, parameters as the CLI's ``stocks`` names them,
    data source with its SYNTHETIC label, fingerprint, engine version, export time), then
    the page's link (``info``: the ``services.source_info`` of the run's source)."""
    frame = pd.DataFrame(analysis.get("metrics") or {})
    symbols = list(state.get("symbols") or [])
    header = engine.export_header(
        engine.STOCK_EXPORT_CONTENT["stock_metrics"],
        params={"symbols": symbols, "start": state.get("start"), "end": state.get("end"), "risk_free": 0.0},
        data_source=info.get("label", ""),
        synthetic=info.get("synthetic"),
        fingerprint=info.get("fingerprint", ""),
        extras={
            "link": "/stocks?"
            + url_state.params_to_query(
                {"symbols": symbols, "start": state.get("start"), "end": state.get("end")}
            )
        },
    )
    return engine.frame_to_csv(frame, header=header)
