"""One self-contained HTML report of a backtest: what the Backtest page shows, to share.

``backtest_report_html(result, robustness=None)`` takes a backtest's plain form
(``engine.backtest.result.result_to_plain``, what ``services.backtest`` returns) and,
optionally, its robustness report's plain form, and returns one HTML document that opens
offline: plotly.js is inlined once (with the first figure), every other figure reuses it.
It contains the run's parameters and data fingerprint (the manifest), the metric table
strategy vs benchmark vs eligible universe, every chart of the Backtest page built with
the same builders (``dashapp.ui.figures``), the holding periods table (formation end and
entry close as the engine decided them), the warnings, and the robustness statistics when
given. Every user or data string is HTML-escaped (a symbol or file name is text, never
markup); the figures' own JSON is escaped by plotly for ``<script>`` context.

Used by the Backtest page's "Download report" button and by
``python -m engine backtest --report FILE.html`` (the only engine -> dashapp import, lazy).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

import engine
from dashapp.ui import components, figures
from dashapp.views import backtest as view

FIGURE_IDS: tuple[str, ...] = (
    "report-figure-cumulative",
    "report-figure-drawdown",
    "report-figure-monthly",
    "report-figure-turnover",
    "report-figure-rolling",
    "report-figure-holdings",
)
ROBUSTNESS_FIGURE_ID = "report-figure-robustness"
MANIFEST_ID = "report-manifest"

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:1.5rem;color:#111827}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e5e7eb}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #e5e7eb;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}
.muted{color:#6b7280;font-size:.85rem}.warnings{background:#fef3c7;padding:.5rem 1rem;border-radius:4px}
.figure{margin:1rem 0}
"""


def _e(value: Any) -> str:
    """HTML-escaped text of any value (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, table_id: str = "") -> str:
    ident = f' id="{_e(table_id)}"' if table_id else ""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure_html(figure: go.Figure, div_id: str, *, include_plotlyjs: bool) -> str:
    return figure.to_html(
        full_html=False,
        include_plotlyjs=include_plotlyjs,  # True: the whole plotly.js inline, no network
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )


def report_figures(result: Mapping[str, Any]) -> list[tuple[str, go.Figure]]:
    """The Backtest page's charts, built by the page's own builders, with their div ids."""
    returns = result.get("returns") or {}
    start = view.entry_start(result)
    built = (
        figures.cumulative_returns_figure(returns, start=start),
        figures.drawdown_figure(returns, result.get("drawdown"), start=start),
        figures.monthly_heatmap_figure(returns),
        figures.turnover_figure(result.get("periods")),
        figures.rolling_figure(returns, risk_free=view.risk_free(result)),
        figures.holdings_figure(result.get("holdings"), result.get("periods")),
    )
    return list(zip(FIGURE_IDS, built, strict=True))


def metric_rows(result: Mapping[str, Any]) -> list[list[str]]:
    """Every engine metric: strategy, benchmark, eligible universe (formatted as on the page)."""
    columns = [result.get(k) or {} for k in ("metrics", "benchmark_metrics", "universe_metrics")]
    return [
        [components.METRIC_TITLES.get(name, name)]
        + [components.format_value(c.get(name), components.metric_format(name)) for c in columns]
        for name in engine.METRIC_NAMES
    ]


def manifest_rows(result: Mapping[str, Any]) -> list[list[str]]:
    manifest = result.get("manifest") or {}
    rows = [
        ["Data source", manifest.get("data_source", "")],
        ["Synthetic data", "yes" if manifest.get("synthetic") else "no"],
        ["Data fingerprint", manifest.get("fingerprint", "")],
        ["Engine version", manifest.get("version", "")],
    ]
    for key, value in sorted((manifest.get("params") or {}).items()):
        shown = (
            "not set"
            if value is None
            else value
            if isinstance(value, str)
            else json.dumps(value, default=str)
        )
        rows.append([f"Parameter {key}", shown])
    return rows


def holdings_rows(result: Mapping[str, Any]) -> list[list[str]]:
    """One row per holding period: its first day held and the symbols with their weights."""
    holdings = result.get("holdings") or {}
    starts = list(holdings.get("period_start") or [])
    symbols = list(holdings.get("symbol") or [])
    weights = list(holdings.get("weight") or [None] * len(starts))
    by_period: dict[str, list[str]] = {}
    for start, symbol, weight in zip(starts, symbols, weights, strict=False):
        share = components.format_value(weight, "{:.1%}")
        # No period_start: bought at the last close of the data, not held a day yet.
        label = str(start) if start else "next period (bought at the last close)"
        by_period.setdefault(label, []).append(f"{symbol} {share}")
    return [[start, ", ".join(picks)] for start, picks in by_period.items()]


def _robustness_block(robustness: Mapping[str, Any]) -> tuple[str, go.Figure]:
    rows = [list(row) for row in view.robustness_rows(robustness)]
    notes = [str(n) for n in robustness.get("notes") or []]
    random_block = robustness.get("random_portfolios") or {}
    figure = figures.distribution_figure(
        random_block.get("sharpes"),
        random_block.get("strategy_sharpe"),
        title="Sharpe ratio of random portfolios (same eligible symbols and dates)",
    )
    text = _table(["Statistic", "Value"], rows, table_id="report-robustness")
    if notes:
        text += "<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>"
    text += f'<p class="muted">{_e(view.robustness_footer(robustness))}</p>'
    return text, figure


def backtest_report_html(
    result: Mapping[str, Any],
    robustness: Mapping[str, Any] | None = None,
    *,
    notes: Sequence[str] = (),
    generated: dt.datetime | None = None,
) -> str:
    """The whole report as one HTML document (str); see the module docstring.

    ``result``: a backtest in plain form; ``robustness``: its robustness report in plain
    form (``RobustnessReport.to_dict()``) or None; ``notes``: extra warnings about the data
    (failed tickers, dropped rows). Raises nothing on odd values: missing numbers show as
    the page shows them.
    """
    generated = generated or dt.datetime.now(dt.UTC)
    parts: list[str] = []
    first = True
    for div_id, figure in report_figures(result):
        parts.append(f'<div class="figure">{_figure_html(figure, div_id, include_plotlyjs=first)}</div>')
        first = False
    charts = "\n".join(parts)
    bench = view.benchmark_name(result)
    header, period_rows = view.periods_rows(result)
    warnings = view.warnings(result, notes)
    warning_html = (
        '<div class="warnings" id="report-warnings"><ul>'
        + "".join(f"<li>{_e(w)}</li>" for w in warnings)
        + "</ul></div>"
        if warnings
        else '<p class="muted" id="report-warnings">No warnings.</p>'
    )
    robustness_html = '<p class="muted">Robustness checks were not run for this report.</p>'
    if robustness:
        text, figure = _robustness_block(robustness)
        robustness_html = text + (
            f'<div class="figure">{_figure_html(figure, ROBUSTNESS_FIGURE_ID, include_plotlyjs=False)}</div>'
        )
    title = view.run_summary_text(result)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e('Backtest report · Sentiment Portfolio Lab')}</title>",
            f"<style>{_STYLE}</style></head><body>",
            "<h1>Backtest report</h1>",
            f'<p class="muted">{_e(title)}</p>',
            f'<p class="muted">Generated {_e(generated.strftime("%Y-%m-%d %H:%M UTC"))} by Sentiment '
            f"Portfolio Lab {_e(engine.__version__)}.</p>",
            "<h2>Parameters and data</h2>",
            _table(["Item", "Value"], manifest_rows(result), table_id=MANIFEST_ID),
            "<h2>Metrics</h2>",
            _table(
                ["Metric", "Strategy", f"Benchmark ({bench})", "Eligible universe"],
                metric_rows(result),
                table_id="report-metrics",
            ),
            f'<p class="muted">{_e(view.drawdown_text(result))} Annualised over '
            f"{engine.TRADING_DAYS} trading days.</p>",
            "<h2>Warnings</h2>",
            warning_html,
            "<h2>Charts</h2>",
            charts,
            "<h2>Holding periods</h2>",
            _table(header, period_rows, table_id="report-periods"),
            "<h2>Holdings</h2>",
            _table(
                ["First day held", "Symbols (target weight at entry)"],
                holdings_rows(result),
                table_id="report-holdings",
            ),
            "<h2>Robustness</h2>",
            robustness_html,
            "</body></html>",
        ]
    )
