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
    cumulative_returns,
    drawdowns,
    empty_figure,
    has_data,
    iso_dates,
    line_trace,
    returns_frame,
    rounded,
)

TRADING_DAYS = engine.TRADING_DAYS
ROLLING_WINDOW = 63  # about one quarter of trading days


def cumulative_returns_figure(returns: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """Strategy vs benchmark vs eligible universe, cumulative return in %."""
    frame = returns_frame(returns)
    title = "Cumulative return"
    if not has_data(frame):
        return empty_figure(title)
    cumulative = cumulative_returns(frame)
    figure = go.Figure()
    for name in cumulative.columns:
        figure.add_trace(
            line_trace(
                len(cumulative),
                x=iso_dates(cumulative.index),
                y=rounded(cumulative[name]),
                mode="lines",
                name=SERIES_LABELS[name],
                line={"color": SERIES_COLORS[name], "width": 2 if name == "portfolio" else 1.5},
                hovertemplate="%{y:.2%}<extra>" + SERIES_LABELS[name] + "</extra>",
            )
        )
    figure.update_layout(**BASE_LAYOUT, title=title)
    figure.update_yaxes(tickformat=".0%", title="Cumulative return", zeroline=True, zerolinecolor="#9ca3af")
    figure.update_xaxes(hoverformat="%a %d %b %Y")
    return figure


def drawdown_figure(
    returns: Mapping[str, Sequence[Any]] | None, drawdown: Mapping[str, str | None] | None = None
) -> go.Figure:
    """Drawdown from the running peak of strategy and benchmark; the max drawdown is marked."""
    frame = returns_frame(returns)
    title = "Drawdown"
    if not has_data(frame):
        return empty_figure(title)
    under = drawdowns(frame[[c for c in ("portfolio", "benchmark") if c in frame.columns]])
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
                line={"color": SERIES_COLORS[name], "width": 1.5},
                fill="tozeroy" if is_strategy else None,
                fillcolor="rgba(37, 99, 235, 0.15)" if is_strategy else None,
                hovertemplate="%{y:.2%}<extra>" + SERIES_LABELS[name] + "</extra>",
            )
        )
    peak, trough = (drawdown or {}).get("peak"), (drawdown or {}).get("trough")
    if peak and trough:
        figure.add_vrect(
            x0=peak,
            x1=trough,
            fillcolor="#dc2626",
            opacity=0.08,
            line_width=0,
            annotation_text="max drawdown",
            annotation_position="top left",
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
    """Rolling annualised Sharpe ratio and volatility (sample std, 252-day annualisation)."""
    excess = frame - risk_free / TRADING_DAYS
    mean = excess.rolling(window, min_periods=window).mean()
    std = frame.rolling(window, min_periods=window).std(ddof=1)
    sharpe = (mean / std.where(std > 0)) * math.sqrt(TRADING_DAYS)
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
