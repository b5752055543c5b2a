"""Backtest performance charts: cumulative return, drawdown, monthly returns, rolling metrics."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import engine

from .base import (
    BASE_LAYOUT,
    DIVERGING_SCALE,
    MONTH_NAMES,
    SERIES_COLORS,
    SERIES_LABELS,
    empty_figure,
    has_data,
    iso_dates,
    line_trace,
    returns_frame,
    rounded,
)

TRADING_DAYS = engine.TRADING_DAYS
ROLLING_WINDOW = 63  # about one quarter of trading days


def cumulative_series(frame: pd.DataFrame) -> pd.DataFrame:
    """Compounded return of each column over the days it exists; NaN where it does not.

    A NaN day (the benchmark before its first or after its last close, the universe in a
    period with no holdable symbol) is no return at all, not a flat day: it stays NaN, so a
    chart shows a gap there, and the compounding resumes at the value carried across it.
    """
    return (1.0 + frame).cumprod(skipna=True) - 1.0


def entry_start(periods: Mapping[str, Sequence[Any]] | None) -> str | None:
    """The first entry close (ISO date) of a backtest's periods table, or None."""
    entries = [d for d in (periods or {}).get("entry_date") or [] if d]
    return str(min(entries)) if entries else None


def drawdown_frame(frame: pd.DataFrame, start: str | None = None) -> pd.DataFrame:
    """Drawdown of each column (``engine.drawdown_series``) over the days it exists.

    ``start``: the first entry close; a series that exists from the first day gets its
    starting value there (so a drawdown from the start is dated from the entry). A series
    with NaN days is measured over its existing days only and is NaN elsewhere.
    """
    columns: dict[str, pd.Series] = {}
    index = frame.index
    first = index[0] if len(index) else None
    if start is not None and first is not None and pd.Timestamp(start) < first:
        index = index.insert(0, pd.Timestamp(start))
    for name in frame.columns:
        series = frame[name].dropna()
        if series.empty:
            columns[name] = pd.Series(np.nan, index=index)
            continue
        own_start = start if (start is not None and series.index[0] == first) else None
        if own_start is not None and pd.Timestamp(own_start) >= series.index[0]:
            own_start = None
        under = engine.drawdown_series(series, start=own_start)
        columns[name] = under.reindex(index)
    return pd.DataFrame(columns, index=index)


def cumulative_returns_figure(
    returns: Mapping[str, Sequence[Any]] | None, start: str | None = None
) -> go.Figure:
    """Strategy vs benchmark vs eligible universe, cumulative return in %.

    A series is drawn over the days it exists (gaps, never a flat line, where it does not);
    ``start`` (the first entry close) adds the starting point 0 % of the series present then.
    """
    frame = returns_frame(returns)
    title = "Cumulative return"
    if not has_data(frame):
        return empty_figure(title)
    cumulative = cumulative_series(frame)
    if start is not None and pd.Timestamp(start) < cumulative.index[0]:
        first_row = cumulative.iloc[:1].copy()
        first_row.index = pd.DatetimeIndex([pd.Timestamp(start)])
        first_row.loc[:, :] = np.where(frame.iloc[:1].notna().to_numpy(), 0.0, np.nan)
        cumulative = pd.concat([first_row, cumulative])
    figure = go.Figure()
    for name in cumulative.columns:
        figure.add_trace(
            line_trace(
                len(cumulative),
                x=iso_dates(cumulative.index),
                y=rounded(cumulative[name]),
                mode="lines",
                name=SERIES_LABELS[name],
                connectgaps=False,
                line={"color": SERIES_COLORS[name], "width": 2 if name == "portfolio" else 1.5},
                hovertemplate="%{y:.2%}<extra>" + SERIES_LABELS[name] + "</extra>",
            )
        )
    figure.update_layout(**BASE_LAYOUT, title=title)
    figure.update_yaxes(tickformat=".0%", title="Cumulative return", zeroline=True, zerolinecolor="#9ca3af")
    figure.update_xaxes(hoverformat="%a %d %b %Y")
    return figure


DRAWDOWN_MARKERS = (
    ("peak", "Peak", "#16a34a"),
    ("trough", "Trough", "#dc2626"),
    ("recovery", "Recovery", "#2563eb"),
)


def drawdown_figure(
    returns: Mapping[str, Sequence[Any]] | None,
    drawdown: Mapping[str, str | None] | None = None,
    start: str | None = None,
) -> go.Figure:
    """Drawdown from the running peak of strategy and benchmark (``engine.drawdown_series``).

    ``drawdown``: the engine's ``peak``/``trough``/``recovery`` dates of the strategy's
    maximum drawdown (``BacktestResult.drawdown``), marked on the strategy's line and shaded;
    ``start``: the first entry close, where the strategy's value starts. The benchmark is
    measured over the days it exists (NaN elsewhere, shown as a gap).
    """
    frame = returns_frame(returns)
    title = "Drawdown"
    if not has_data(frame):
        return empty_figure(title)
    under = drawdown_frame(frame[[c for c in ("portfolio", "benchmark") if c in frame.columns]], start)
    figure = go.Figure()
    for name in under.columns:
        is_strategy = name == "portfolio"
        figure.add_trace(
            line_trace(
                len(under),
                x=iso_dates(under.index),
                y=rounded(under[name]),
                mode="lines",
                name=SERIES_LABELS[name],
                connectgaps=False,
                line={"color": SERIES_COLORS[name], "width": 1.5},
                fill="tozeroy" if is_strategy else None,
                fillcolor="rgba(37, 99, 235, 0.15)" if is_strategy else None,
                hovertemplate="%{y:.2%}<extra>" + SERIES_LABELS[name] + "</extra>",
            )
        )
    marks = drawdown or {}
    peak, trough = marks.get("peak"), marks.get("trough")
    if peak and trough:
        figure.add_vrect(
            x0=peak,
            x1=marks.get("recovery") or trough,
            fillcolor="#dc2626",
            opacity=0.08,
            line_width=0,
            annotation_text="max drawdown",
            annotation_position="top left",
        )
    if "portfolio" in under.columns:
        strategy = under["portfolio"]
        for key, label, color in DRAWDOWN_MARKERS:
            day = marks.get(key)
            if not day:
                continue
            stamp = pd.Timestamp(day)
            value = strategy.get(stamp, np.nan) if stamp in strategy.index else np.nan
            figure.add_trace(
                go.Scatter(
                    x=[stamp.strftime("%Y-%m-%d")],
                    y=rounded(pd.Series([0.0 if not np.isfinite(value) else value])),
                    mode="markers",
                    name=label,
                    marker={"color": color, "size": 9, "symbol": "diamond"},
                    hovertemplate=f"{label} %{{x|%d %b %Y}}: %{{y:.2%}}<extra></extra>",
                )
            )
    figure.update_layout(**BASE_LAYOUT, title=title)
    figure.update_yaxes(tickformat=".0%", title="Below previous peak")
    figure.update_xaxes(hoverformat="%a %d %b %Y")
    return figure


def monthly_returns_table(
    returns: Mapping[str, Sequence[Any]] | None, column: str = "portfolio"
) -> pd.DataFrame:
    """Year x month table (columns 1..12) of compounded monthly returns; NaN where no day."""
    frame = returns_frame(returns)
    if column not in frame.columns or not frame[column].notna().any():
        return pd.DataFrame(columns=range(1, 13), dtype=np.float64)
    series = frame[column].dropna()
    grouped = (1.0 + series).groupby([series.index.year, series.index.month]).prod() - 1.0
    table = grouped.unstack()
    return table.reindex(columns=range(1, 13))


def monthly_heatmap_figure(
    returns: Mapping[str, Sequence[Any]] | None, column: str = "portfolio"
) -> go.Figure:
    """Calendar heatmap of monthly strategy returns (rows: years, columns: months)."""
    table = monthly_returns_table(returns, column)
    title = "Monthly returns"
    if table.empty:
        return empty_figure(title)
    values = table.to_numpy(dtype=np.float64)
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.0
    limit = limit or 0.01
    text = [["" if not math.isfinite(v) else f"{v:.1%}" for v in row] for row in values]
    figure = go.Figure(
        go.Heatmap(
            z=[rounded(row) for row in values],
            x=list(MONTH_NAMES),
            y=[str(y) for y in table.index],
            text=text,
            texttemplate="%{text}",
            colorscale=DIVERGING_SCALE,
            zmid=0.0,
            zmin=-limit,
            zmax=limit,
            colorbar={"tickformat": ".0%", "title": "Return"},
            xgap=2,
            ygap=2,
            hovertemplate="%{x} %{y}: %{z:.2%}<extra></extra>",
        )
    )
    figure.update_layout(**{**BASE_LAYOUT, "hovermode": "closest"}, title=title)
    figure.update_yaxes(type="category", autorange="reversed")
    return figure


def rolling_metrics(
    frame: pd.DataFrame, window: int = ROLLING_WINDOW, risk_free: float = 0.0
) -> dict[str, pd.DataFrame]:
    """Rolling annualised Sharpe ratio and volatility (sample std, 252-day annualisation).

    The Sharpe ratio of each window is ``engine.column_metric``'s (the metric cards'
    definition and zero-dispersion rule: a window whose returns differ by rounding only has
    none, README Metrics); NaN for a window with a missing day or a return of -100% or less."""
    std = frame.rolling(window, min_periods=window).std(ddof=1)
    sharpe = pd.DataFrame(np.nan, index=frame.index, columns=frame.columns)
    if len(frame) >= window:
        for name in frame.columns:
            values = frame[name].to_numpy(dtype=np.float64)
            usable = np.isfinite(values) & (values > -1.0)
            windows = np.lib.stride_tricks.sliding_window_view(np.where(usable, values, 0.0), window)
            complete = np.lib.stride_tricks.sliding_window_view(usable, window).all(axis=1)
            column = engine.column_metric(windows.T, "sharpe", risk_free=risk_free)
            sharpe.iloc[window - 1 :, sharpe.columns.get_loc(name)] = np.where(complete, column, np.nan)
    return {"sharpe": sharpe, "volatility": std * math.sqrt(TRADING_DAYS)}


def rolling_figure(
    returns: Mapping[str, Sequence[Any]] | None, window: int = ROLLING_WINDOW, risk_free: float = 0.0
) -> go.Figure:
    """Two stacked panels sharing the date axis: rolling Sharpe (top) and rolling volatility."""
    frame = returns_frame(returns)
    title = f"Rolling {window}-day Sharpe ratio and volatility"
    columns = [c for c in ("portfolio", "benchmark") if c in frame.columns]
    if not has_data(frame) or len(frame) < window or not columns:
        return empty_figure(title, f"Needs at least {window} trading days")
    rolling = rolling_metrics(frame[columns], window, risk_free)
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("Sharpe ratio", "Annualised volatility"),
    )
    dates = iso_dates(frame.index)
    for row, (key, fmt) in enumerate((("sharpe", ".2f"), ("volatility", ".1%")), start=1):
        for name in columns:
            figure.add_trace(
                line_trace(
                    len(dates),
                    x=dates,
                    y=rounded(rolling[key][name]),
                    mode="lines",
                    name=SERIES_LABELS[name],
                    legendgroup=name,
                    showlegend=row == 1,
                    line={"color": SERIES_COLORS[name], "width": 1.5},
                    hovertemplate="%{y:" + fmt + "}<extra>" + SERIES_LABELS[name] + "</extra>",
                ),
                row=row,
                col=1,
            )
    figure.update_layout(**BASE_LAYOUT, title=title, height=460)
    figure.update_yaxes(tickformat=".1f", row=1, col=1)
    figure.update_yaxes(tickformat=".0%", row=2, col=1)
    figure.update_xaxes(hoverformat="%a %d %b %Y")
    return figure
