"""Data page: upload a sentiment CSV (and optionally a price file), see the validation
report, and choose which data this browser session's runs use.

Flow: an upload is validated on the server as soon as it arrives (``services.save_upload``);
a usable data set becomes a candidate (``data-candidate`` Store); "Use this data" copies
the candidate into the session's ``session-source`` Store; "Back to default data" resets it.
The uploaded bytes never travel back to the browser: the Store holds only the content hash.
"""

from __future__ import annotations

import logging
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update, register_page

import engine
from dashapp import services
from dashapp.pages.ids import data as ids
from dashapp.pages.ids import shell
from dashapp.ui import components

log = logging.getLogger(__name__)

register_page(__name__, path="/data", name="Data", title="Data · Sentiment Portfolio Lab", order=4)

SENTIMENT_HELP = (
    "A CSV with the columns date, symbol, twitterPosts, twitterComments, twitterLikes, "
    "twitterImpressions, twitterSentiment (one row per symbol and day)."
)
PRICES_HELP = (
    "Optional: adjusted closes, either wide (a date column and one column per ticker) or long "
    "(date, symbol, close), as CSV or Parquet. It must include the benchmark (QQQ). "
    "Without it, prices come from Yahoo Finance, which needs network access."
)


def layout(**_query: Any) -> html.Div:
    max_bytes = services.app_config().MAX_UPLOAD_BYTES
    limit = f"{max_bytes / 2**20:g} MiB"
    return html.Div(
        [
            html.H2("Data"),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.H5("Active data source for this session"),
                        dcc.Loading(html.Div(id=ids.ACTIVE), type="dot"),
                        dbc.Button(
                            "Back to default data",
                            id=ids.USE_DEFAULT,
                            color="secondary",
                            outline=True,
                            size="sm",
                            className="mt-2",
                        ),
                    ]
                ),
                className="mb-4",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        _upload_box(ids.UPLOAD_SENTIMENT, "Sentiment CSV", SENTIMENT_HELP, limit, max_bytes),
                        md=6,
                    ),
                    dbc.Col(
                        _upload_box(
                            ids.UPLOAD_PRICES, "Price file (optional)", PRICES_HELP, limit, max_bytes
                        ),
                        md=6,
                    ),
                ],
                className="mb-3 g-3",
            ),
            dcc.Store(id=ids.CANDIDATE),
            # An input inside this page: Dash fires callbacks for inputs the page inserts, not for
            # the shell's session-source, so without it the active-source panel would stay empty.
            dcc.Store(id=ids.PAGE_INIT, data=True),
            html.Div(
                [
                    dbc.Button(
                        "Use this data for my runs",
                        id=ids.USE_UPLOAD,
                        color="primary",
                        disabled=True,
                        className="me-2",
                    ),
                    html.Span(
                        "Upload a sentiment CSV first; it is checked on the server.",
                        className="small text-muted",
                    ),
                ],
                className="mb-3",
            ),
            html.Div(id=ids.CHOICE_MESSAGE),
            dcc.Loading(html.Div(id=ids.VALIDATION), type="default"),
        ],
        className="spl-page-data",
    )


def _upload_box(upload_id: str, title: str, help_text: str, limit: str, max_bytes: int) -> html.Div:
    return html.Div(
        [
            html.H5(title),
            dcc.Upload(
                id=upload_id,
                children=html.Div(
                    ["Drag and drop or ", html.A("choose a file", href="#"), f" (at most {limit})"]
                ),
                # The browser drops larger files before sending them (the server checks again).
                max_size=max_bytes,
                className_reject="spl-upload spl-upload-reject",
                multiple=False,
                accept=".csv,.txt,.parquet,.pq,text/csv",
                className="spl-upload",
            ),
            html.Div(id=ids.upload_name(upload_id), className="small text-muted mt-1"),
            html.P(
                [help_text, f" Files larger than {limit} are ignored by the browser (nothing happens)."],
                className="small text-muted mt-1",
            ),
        ]
    )


# ----- callbacks -------------------------------------------------------------------------


@callback(
    Output(ids.CANDIDATE, "data"),
    Output(ids.VALIDATION, "children"),
    Output(ids.USE_UPLOAD, "disabled"),
    Output(ids.upload_name(ids.UPLOAD_SENTIMENT), "children"),
    Output(ids.upload_name(ids.UPLOAD_PRICES), "children"),
    Input(ids.UPLOAD_SENTIMENT, "contents"),
    Input(ids.UPLOAD_PRICES, "contents"),
    State(ids.UPLOAD_SENTIMENT, "filename"),
    State(ids.UPLOAD_PRICES, "filename"),
    prevent_initial_call=True,
)
def validate_upload(
    sentiment_contents: str | None,
    prices_contents: str | None,
    sentiment_filename: str | None,
    prices_filename: str | None,
) -> tuple[Any, ...]:
    """Validate whatever was uploaded; a usable data set becomes the candidate."""
    names = (_file_label(sentiment_filename), _file_label(prices_filename))
    if not sentiment_contents:
        message = components.info_alert("Price file received. Now upload the sentiment CSV.", color="info")
        return None, message, True, *names
    try:
        sentiment = services.decode_upload(sentiment_contents, what="sentiment file")
        prices = services.decode_upload(prices_contents, what="price file") if prices_contents else None
        saved = services.save_upload(
            sentiment, prices, {"sentiment": sentiment_filename or "", "prices": prices_filename or ""}
        )
    except engine.EngineError as exc:
        return None, components.error_alert(str(exc), title="This file cannot be used"), True, *names
    except Exception:  # unexpected: log it, show a sentence, keep the app working
        log.exception("validating an upload failed")
        return (
            None,
            components.error_alert("the upload could not be processed (the error was logged)"),
            True,
            *names,
        )
    info = saved["info"]
    body = html.Div(
        [
            components.info_alert(
                f"{info['label']} is valid: {saved['sentiment_report']['rows_kept']:,} sentiment "
                f"rows kept, {len(info['report']['symbols'])} symbols. "
                "Click “Use this data for my runs” to switch to it."
            ),
            html.H5("Validation report"),
            components.report_table(info["report"]),
        ],
        className="data-upload-report",
    )
    return saved["source"], body, False, *names


@callback(
    Output(shell.SESSION_SOURCE, "data"),
    Output(ids.CHOICE_MESSAGE, "children"),
    Input(ids.USE_UPLOAD, "n_clicks"),
    Input(ids.USE_DEFAULT, "n_clicks"),
    State(ids.CANDIDATE, "data"),
    prevent_initial_call=True,
)
def choose_source(use_clicks: int | None, default_clicks: int | None, candidate: Any) -> tuple[Any, Any]:
    """Set the session's source to the validated upload, or back to the default."""
    # Dash also fires this when the page is inserted: act on real clicks only.
    if ctx.triggered_id == "data-use-default":
        if not default_clicks:
            return no_update, no_update
        return dict(services.DEFAULT_SOURCE), components.info_alert("Back to the default data source.")
    if not use_clicks:
        return no_update, no_update
    try:
        source = services.resolve_source(candidate)
    except engine.EngineError as exc:
        return no_update, components.error_alert(str(exc))
    if source["kind"] != "upload":
        return no_update, components.error_alert("upload and validate a file first", title="Nothing to use")
    return source, components.info_alert(f"Your runs now use {source['name']}.")


@callback(Output(ids.ACTIVE, "children"), Input(shell.SESSION_SOURCE, "data"), Input(ids.PAGE_INIT, "data"))
def show_active(store: Any, _page_init: Any = None) -> Any:
    """The session's active source, SYNTHETIC flag and validation report."""
    try:
        info = services.source_info(services.resolve_source(store))
    except engine.EngineError as exc:
        return components.error_alert(str(exc), title="The active data source cannot be loaded")
    except Exception:
        log.exception("loading the active data source failed")
        return components.error_alert("the active data source could not be loaded (the error was logged)")
    lines: list[Any] = [html.Div(components.source_badge(info), id="data-active-label", className="mb-1")]
    if info.get("detail"):
        lines.append(html.Div(info["detail"], className="small text-muted mb-2"))
    if info.get("synthetic"):
        lines.append(
            dbc.Alert(
                "These are synthetic demo data: made-up symbols and prices. Results show how the "
                "tool works, not how any real strategy performed.",
                color="warning",
                className="py-2 small",
            )
        )
    lines.append(html.Details([html.Summary("Validation report"), components.report_table(info["report"])]))
    return html.Div(lines)


def _file_label(filename: str | None) -> str:
    return f"Received: {services.safe_name(filename, 'file')}" if filename else ""
