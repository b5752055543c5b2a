"""Small UI building blocks shared by every page (no callbacks, no app state).

All user-provided text (file names, symbols, messages) is passed to Dash as plain
strings, which React renders as text: nothing here builds HTML from strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

import engine

MISSING = "—"
MAX_SYMBOLS_SHOWN = 40


ECHO_SHOWN = engine.ECHO_SHOWN  # the engine's echo length (engine.short_repr), one owner
MESSAGE_MAX = 600
_ECHO = re.compile(  # a repr: a quote after a space or bracket, closed before a space or stop
    r"(?<![^\s(\[=:,])(?:'([^'\n]{N,})'|\"([^\"\n]{N,})\")(?=$|[\s)\],.;:])".replace(
        "N", str(ECHO_SHOWN + 11)
    )
)


def shorten_echoes(message: Any) -> str:
    """The message with every long quoted value it echoes shortened: ``got 'AAAA…' (5,000
    characters)``, not 5,000 characters back to the user; at most ``MESSAGE_MAX`` in all."""

    def short(match: re.Match[str]) -> str:
        quote = match.group(0)[0]
        value = match.group(1) if match.group(1) is not None else match.group(2)
        return f"{quote}{value[:ECHO_SHOWN]}…{quote} ({len(value):,} characters)"

    text = _ECHO.sub(short, str(message).strip())
    return text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 1] + "…"


def error_alert(message: str, *, title: str = "Something went wrong") -> dbc.Alert:
    """A red alert with one sentence for the user (never a traceback): ``"<title>: <message>"``
    as one text, so that no reading of the page (a screen reader, a copy, a text extract
    joining the pieces) puts two spaces after the colon."""
    return dbc.Alert(f"{title}: {shorten_echoes(message)}", color="danger", className="spl-error mb-3")


def info_alert(message: str, *, color: str = "success") -> dbc.Alert:
    return dbc.Alert(str(message), color=color, className="spl-info mb-3")


def title_bar(
    title: str, *controls: Any, title_class: str = "me-auto mb-0", class_name: str = ""
) -> html.Div:
    """A heading on the left, ``controls`` (buttons) on the right."""
    return html.Div(
        [html.H5(title, className=title_class), *controls],
        className=class_name or "d-flex align-items-center mb-2",
    )


def download_button(label: str, ident: str) -> dbc.Button:
    """A "<label> CSV" button, disabled until a run has something to download."""
    return dbc.Button(f"{label} CSV", id=ident, color="secondary", outline=True, size="sm", disabled=True)


def form_and_results(form: Any, results: Any) -> dbc.Row:
    """The pages' two columns: the form card on the left (on top when narrow), the results."""
    return dbc.Row(
        [dbc.Col(form, xs=12, lg=4, xxl=3, className="mb-3"), dbc.Col(results, xs=12, lg=8, xxl=9)],
        className="g-3",
    )


# Display titles of the engine's metrics (cards, tables), in a table of (metric, title).
METRIC_TITLES: Mapping[str, str] = dict(
    (
        ("total_return", "Total return"),
        ("cagr", "CAGR"),
        ("annual_volatility", "Volatility (annual)"),
        ("sharpe", "Sharpe ratio"),
        ("sortino", "Sortino ratio"),
        ("max_drawdown", "Max drawdown"),
        ("calmar", "Calmar ratio"),
        ("beta", "Beta"),
        ("alpha", "Alpha (annual)"),
        ("information_ratio", "Information ratio"),
        ("tracking_error", "Tracking error"),
        ("hit_rate", "Hit rate"),
        ("avg_turnover", "Average turnover"),
    )
)


def link_notes(messages: Sequence[str]) -> dbc.Alert | None:
    """A yellow alert listing the settings of a link that were ignored, or None."""
    if not messages:
        return None
    return dbc.Alert(
        [
            html.Strong("Some settings in the link were ignored"),
            html.Ul([html.Li(m) for m in messages], className="mb-0"),
        ],
        color="warning",
        className="small",
    )


def warning_list(warnings: Sequence[str] | None) -> dbc.Alert | None:
    """A yellow alert listing the warnings, or None when there are none."""
    if not warnings:
        return None
    return dbc.Alert(
        [html.Strong("Warnings"), html.Ul([html.Li(str(w)) for w in warnings], className="mb-0")],
        color="warning",
        className="spl-warnings mb-3",
    )


# ----- numbers ---------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


FORMATS: dict[str, Callable[[float], str]] = {
    "pct": lambda v: f"{v:.2%}",
    "ratio": lambda v: f"{v:.2f}",
    "num": lambda v: f"{v:,.4g}",
    "int": lambda v: f"{v:,.0f}",
    "bps": lambda v: f"{v * 1e4:,.1f} bps",
}


def metric_format(name: str) -> str:
    """``"pct"`` for the metrics that are fractions (``engine.PERCENT_METRICS``), else ``"ratio"``."""
    return "pct" if name in engine.PERCENT_METRICS else "ratio"


def format_value(value: Any, fmt: str | Callable[[float], str] = "num") -> str:
    """``fmt`` is a key of ``FORMATS``, a ``str.format`` pattern such as ``"{:.1%}"``, or a callable."""
    if not _is_number(value):
        return MISSING
    if callable(fmt):
        return fmt(value)
    if fmt in FORMATS:
        return FORMATS[fmt](value)
    return fmt.format(value)


def metric_card(
    title: str,
    value: Any,
    benchmark_value: Any = None,
    fmt: str | Callable[[float], str] = "num",
    *,
    benchmark_label: str = "Benchmark",
) -> dbc.Card:
    """A card with a metric of the portfolio and, below it, the benchmark's."""
    body = [
        html.Div(title, className="spl-metric-title text-muted small"),
        html.Div(format_value(value, fmt), className="spl-metric-value fs-4 fw-semibold"),
    ]
    if benchmark_value is not None:
        body.append(
            html.Div(
                f"{benchmark_label}: {format_value(benchmark_value, fmt)}",
                className="spl-metric-benchmark small text-muted",
            )
        )
    return dbc.Card(dbc.CardBody(body, className="p-2"), className="spl-metric-card h-100")


# ----- data source -----------------------------------------------------------------------


def source_badge(info: Mapping[str, Any] | None) -> html.Span:
    """The active data source; demo data always carries a SYNTHETIC pill."""
    if not info:
        return html.Span([dbc.Badge("no data source", color="secondary")], className="spl-source-badge")
    pieces: list[Any] = [html.Span("Data: ", className="text-muted")]
    if info.get("synthetic"):
        pieces.append(
            dbc.Badge(
                "SYNTHETIC",
                color="warning",
                text_color="dark",
                className="me-1 spl-synthetic",
                title="Made-up demo data: results say nothing about real markets",
            )
        )
    else:
        pieces.append(
            dbc.Badge(
                source_word(info),
                color="info",
                className="me-1",
                title="Read from files: the app cannot tell whether they hold real market data",
            )
        )
    pieces.append(html.Span(str(info.get("label", "")), className="spl-source-label fw-semibold"))
    if info.get("fingerprint"):
        pieces.append(html.Span(f" · fingerprint {info['fingerprint']}", className="text-muted small"))
    return html.Span(pieces, className="spl-source-badge")


# The badge's word for a source that is not synthetic, by the engine's SourceInfo.kind.
SOURCE_WORDS: Mapping[str, str] = {"files": "FILES", "yahoo": "FILE + YAHOO FINANCE"}


def source_word(info: Mapping[str, Any]) -> str:
    """ "UPLOADED" for a session's upload; for the app's configured source, where it is
    read from ("FILES"): the app cannot know whether files hold real data, so never "real"."""
    if info.get("kind") == "upload":
        return "UPLOADED"
    return SOURCE_WORDS.get(str(info.get("source_kind")), "FILES")


def source_error_badge(message: str) -> html.Span:
    return html.Span(
        [
            dbc.Badge("data source unavailable", color="danger", className="me-1"),
            html.Span(str(message), className="small"),
        ],
        className="spl-source-badge",
    )


def failed_named(report: Mapping[str, Any] | None) -> list[str]:
    """The report's failed tickers, each with the loader's spelling hint when it has one
    ("BRK.B (did you mean BRK-B?)", worded by ``engine.with_spelling_hint``). Reads the
    plain report of ``services.report_to_plain``; a report stored before it carried
    ``spelling_hints`` (or a damaged entry) gives the tickers without hints."""
    report = report or {}
    hints: dict[str, str] = {}
    raw = report.get("spelling_hints")
    for pair in raw if isinstance(raw, (list, tuple)) else ():
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(p, str) for p in pair):
            hints.setdefault(pair[0], pair[1])
    return [engine.with_spelling_hint(str(s), hints.get(str(s))) for s in report.get("failed_tickers") or []]


def report_table(report: Mapping[str, Any] | None) -> html.Div:
    """The validation report: rows kept, rows dropped and why, symbols, dates, failed tickers."""
    if not report:
        return html.Div("No validation report.", className="text-muted")
    symbols = list(report.get("symbols") or [])
    failed = failed_named(report)
    rows = [
        ("Rows read (all files)", f"{report.get('rows_read', 0):,}"),
        ("Rows kept (all files)", f"{report.get('rows_kept', 0):,}"),
    ]
    sentiment_dates, price_dates = report.get("sentiment_dates"), report.get("price_dates")
    if sentiment_dates or price_dates:  # per file (services.source_info); a stored report has neither
        rows.append(("Sentiment dates", _date_range(sentiment_dates)))
        rows.append(("Price dates (with the benchmark)", _date_range(price_dates)))
    else:
        rows.append(
            ("Date range (all files)", _date_range([report.get("first_date"), report.get("last_date")]))
        )
    sentiment_symbols = report.get("sentiment_symbols")
    if isinstance(sentiment_symbols, list):
        shown = [str(s) for s in sentiment_symbols]
        rows.append(("Sentiment symbols", f"{len(shown)}: {_shorten(shown)}" if shown else "none"))
    else:
        rows.append(("Symbols (all files)", f"{len(symbols)}: {_shorten(symbols)}" if symbols else "none"))
    rows.append(("Failed tickers (no prices)", f"{len(failed)}: {_shorten(failed)}" if failed else "none"))
    table = dbc.Table(
        [html.Tbody([html.Tr([html.Th(k, scope="row"), html.Td(v)]) for k, v in rows])],
        bordered=False,
        size="sm",
        className="spl-report-table mb-2",
    )
    dropped = list(report.get("dropped") or [])
    parts: list[Any] = [table]
    if dropped:
        parts.append(html.H6("Dropped", className="mt-2"))
        parts.append(
            dbc.Table(
                [
                    html.Thead(
                        html.Tr([html.Th("File"), html.Th("Reason"), html.Th("Dropped"), html.Th("Examples")])
                    ),
                    html.Tbody(
                        [
                            html.Tr(
                                [
                                    html.Td(str(d.get("file") or MISSING)),
                                    html.Td(str(d.get("reason", ""))),
                                    html.Td(dropped_count(d)),
                                    html.Td(", ".join(map(str, d.get("examples") or []))),
                                ]
                            )
                            for d in dropped
                        ]
                    ),
                ],
                size="sm",
                striped=True,
                className="spl-dropped-table",
            )
        )
    else:
        parts.append(html.Div("No rows dropped.", className="text-muted small spl-no-dropped"))
    warnings = warning_list(report.get("warnings"))
    if warnings is not None:
        parts.append(warnings)
    if report.get("reading"):  # separator, decimal mark, date format, layout, price column
        parts.append(html.H6("How the files were read", className="mt-2"))
        parts.append(
            html.Ul([html.Li(str(line)) for line in report["reading"]], className="small spl-reading")
        )
    return html.Div(parts, className="spl-report")


def _date_range(pair: Any) -> str:
    first, last = [*pair, None, None][:2] if isinstance(pair, (list, tuple)) else (None, None)
    return f"{first or MISSING} to {last or MISSING}"


def upload_summary(label: str, sentiment_rows: int, report: Mapping[str, Any]) -> dbc.Alert:
    """The alert over an upload's report: green when every sentiment symbol has prices,
    yellow with a sentence naming the symbols without prices otherwise."""
    symbols = report.get("sentiment_symbols")
    count = len(symbols) if isinstance(symbols, list) else len(report.get("symbols") or [])
    failed = failed_named(report)
    rows = f"{sentiment_rows:,} sentiment row{'s' if sentiment_rows != 1 else ''}"
    kept = f"{rows} kept, {count} symbol{'s' if count != 1 else ''}."
    if failed:
        text = (
            f"{label} can be used, with a gap: {kept} {len(failed)} of {count} "
            f"symbol{'s' if count != 1 else ''} {'has' if len(failed) == 1 else 'have'} no "
            f"prices and cannot be held: {_shorten(failed)}."
        )
    else:
        text = f"{label} is valid: {kept}"
    text += " Click “Use this data for my runs” to switch to it."
    return info_alert(text, color="warning" if failed else "success")


def key_value_table(rows: Sequence[tuple[str, Any]], *, class_name: str = "") -> dbc.Table:
    return dbc.Table(
        [html.Tbody([html.Tr([html.Th(k, scope="row"), html.Td(str(v))]) for k, v in rows])],
        size="sm",
        className=f"mb-2 {class_name}".strip(),
    )


def _shorten(items: Sequence[str]) -> str:
    shown = ", ".join(map(str, items[:MAX_SYMBOLS_SHOWN]))
    return shown + (f" and {len(items) - MAX_SYMBOLS_SHOWN} more" if len(items) > MAX_SYMBOLS_SHOWN else "")


def data_grid(
    ident: str,
    *,
    column_defs: Any = None,
    row_data: Any = None,
    height: str | None = None,
    row_id_field: str | None = None,
    **grid_options: Any,
) -> Any:
    """An AG Grid (``dash_ag_grid.AgGrid``, the successor of Dash's deprecated DataTable):
    sortable, filterable, resizable columns, paginated by 15, one row selected by a click.
    Without ``height`` the grid is as tall as its rows (at most a page of 15).
    ``row_id_field``: the (text) field that names a row, which ``cellClicked`` then reports
    as its ``rowId`` whatever the sort or filter.

    No JavaScript function strings anywhere (the app's Content-Security-Policy has no
    ``'unsafe-eval'``); CSV downloads go through ``engine.frame_to_csv`` (engine/export.py), not the grid's own export.
    """
    options = {
        "pagination": True,
        "paginationPageSize": 15,
        "paginationPageSizeSelector": False,
        "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
        "suppressCellFocus": True,
        "animateRows": False,
        **({} if height else {"domLayout": "autoHeight"}),
        **grid_options,
    }
    extra = {"getRowId": f"params.data.{row_id_field}"} if row_id_field else {}
    return dag.AgGrid(
        id=ident,
        **extra,
        columnDefs=column_defs or [],
        rowData=row_data or [],
        defaultColDef={
            "sortable": True,
            "filter": True,
            "resizable": True,
            "floatingFilter": True,
            "minWidth": 90,
        },
        dashGridOptions=options,
        columnSize="autoSize",
        style={"height": height, "width": "100%"} if height else {"width": "100%"},
        className="spl-grid",
    )


def dropped_count(dropped: Mapping[str, Any]) -> str:
    """ "1,234 rows", "2 cells", "1 column": a dropped group's count in its unit
    (``engine.DroppedRows.count_text``; a stored report from before units were kept counts rows)."""
    count = int(dropped.get("count") or 0)
    return engine.DroppedRows(reason="", count=count, unit=str(dropped.get("unit") or "rows")).count_text()
