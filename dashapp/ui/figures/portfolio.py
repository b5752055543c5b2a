"""Portfolio charts: the holdings timeline and the turnover and costs of each rebalance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .base import (
    BASE_LAYOUT,
    SERIES_COLORS,
    empty_figure,
    rounded,
)


def _period_dates(
    periods: Mapping[str, Sequence[Any]] | None, starts: pd.Series
) -> tuple[list[str], list[str]]:
    """The engine's ``formation_end`` and ``entry_date`` of each holding's period (by
    ``period_start``), as display text; empty text when the periods table lacks them."""
    lookup: dict[str, tuple[str, str]] = {}
    if periods and periods.get("period_start"):
        n = len(periods["period_start"])
        formation = list(periods.get("formation_end") or [None] * n)
        entry = list(periods.get("entry_date") or [None] * n)
        for start, f_end, e_day in zip(periods["period_start"], formation, entry, strict=False):
            lookup[str(start)] = (_day_text(f_end), _day_text(e_day))
    keys = [d.strftime("%Y-%m-%d") for d in starts]
    pairs = [lookup.get(k, ("", "")) for k in keys]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _day_text(value: Any) -> str:
    stamp = pd.to_datetime(value, errors="coerce", format="ISO8601") if value else pd.NaT
    return "" if pd.isna(stamp) else stamp.strftime("%d %b %Y")


def holdings_figure(
    holdings: Mapping[str, Sequence[Any]] | None, periods: Mapping[str, Sequence[Any]] | None = None
) -> go.Figure:
    """Timeline of picks: one bar per (period, symbol); the hover explains why it was picked.

    ``periods``: the engine's periods table; its ``formation_end`` (last day of the signal's
    period) and ``entry_date`` (the close bought at) are shown in the hover as they are,
    never recomputed here.
    """
    title = "Holdings timeline"
    if not holdings or not holdings.get("symbol"):
        return empty_figure(title, "No holdings (no symbol passed the filters)")
    frame = pd.DataFrame({k: list(v) for k, v in holdings.items()})
    start = pd.to_datetime(frame["period_start"], errors="coerce", format="ISO8601")
    end = pd.to_datetime(frame["period_end"], errors="coerce", format="ISO8601")
    frame = frame[start.notna() & end.notna()]
    if frame.empty:
        return empty_figure(title, "No holdings (no symbol passed the filters)")
    start, end = start[frame.index], end[frame.index]
    # A bar spans the holding period inclusive of its last day (+1 day so one-day periods show).
    duration_ms = ((end - start).dt.days + 1) * 86_400_000
    missing = pd.Series(np.nan, index=frame.index)
    numbers = {
        k: pd.to_numeric(frame[k], errors="coerce") if k in frame else missing
        for k in ("weight", "signal", "rank", "likes", "comments")
    }
    formation_end, entry_date = _period_dates(periods, start)
    # zip, not np.column_stack: a string column would turn every number into text.
    customdata = [
        list(row)
        for row in zip(
            [d.strftime("%d %b %Y") for d in start],
            [d.strftime("%d %b %Y") for d in end],
            rounded(numbers["weight"]),
            rounded(numbers["signal"]),
            rounded(numbers["rank"]),
            rounded(numbers["likes"]),
            rounded(numbers["comments"]),
            formation_end,
            entry_date,
            strict=False,
        )
    ]
    symbols = sorted(frame["symbol"].astype(str).unique())
    figure = go.Figure(
        go.Bar(
            base=[d.strftime("%Y-%m-%d") for d in start],
            x=duration_ms.tolist(),
            y=frame["symbol"].astype(str).tolist(),
            orientation="h",
            customdata=customdata,
            name="Held",
            marker={
                "color": rounded(numbers["weight"]),
                "colorscale": [[0, "#93c5fd"], [1, "#1e3a8a"]],
                "cmin": 0,
                "cmax": max(float(numbers["weight"].max(skipna=True) or 0.0), 0.01),
                "colorbar": {"title": "Weight", "tickformat": ".0%"},
                "line": {"width": 0},
            },
            hovertemplate=(
                "<b>%{y}</b> held %{customdata[0]} to %{customdata[1]}<br>"
                "signal formed to %{customdata[7]} · bought at the close of %{customdata[8]}<br>"
                "weight %{customdata[2]:.1%} · rank %{customdata[4]:.0f}<br>"
                "signal %{customdata[3]:.4g}<br>"
                "likes %{customdata[5]:,.0f} · comments %{customdata[6]:,.0f}<extra></extra>"
            ),
        )
    )
    figure.update_layout(
        **{**BASE_LAYOUT, "hovermode": "closest"},
        title=title,
        bargap=0.25,
        height=max(320, 16 * len(symbols) + 120),
        showlegend=False,
    )
    figure.update_xaxes(type="date")
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=symbols[::-1], title="")
    return figure


def turnover_figure(periods: Mapping[str, Sequence[Any]] | None) -> go.Figure:
    """One bar per rebalance, at its entry close (the engine's ``entry_date``; the first day
    held when the table has no entry dates): the one-way traded fraction of the portfolio."""
    title = "Turnover per rebalance"
    if not periods or not periods.get("period_start"):
        return empty_figure(title)
    turnover = rounded(
        pd.to_numeric(pd.Series(list(periods.get("turnover", [])), dtype=object), errors="coerce")
    )
    cost = rounded(
        pd.to_numeric(
            pd.Series(list(periods.get("cost", [None] * len(turnover))), dtype=object), errors="coerce"
        )
    )
    selected = list(periods.get("n_selected", [None] * len(turnover)))
    entries = list(periods.get("entry_date") or [None] * len(turnover))
    figure = go.Figure(
        go.Bar(
            x=[e or s for e, s in zip(entries, periods["period_start"], strict=False)],
            y=turnover,
            name="Turnover",
            marker_color=SERIES_COLORS["portfolio"],
            customdata=[list(row) for row in zip(cost, selected, strict=False)],
            hovertemplate="bought at the close of %{x|%d %b %Y}<br>turnover %{y:.1%}<br>cost %{customdata[0]:.3%}<br>"
            "%{customdata[1]} held<extra></extra>",
        )
    )
    figure.update_layout(**{**BASE_LAYOUT, "hovermode": "closest"}, title=title, showlegend=False)
    figure.update_yaxes(tickformat=".0%", title="One-way turnover")
    return figure
