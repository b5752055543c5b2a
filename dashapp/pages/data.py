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
from dashapp.views import data as view

log = logging.getLogger(__name__)

USE_HINT_WAITING = "Enabled once an uploaded sentiment CSV passes the server's checks."

register_page(__name__, path="/data", name="Data", title="Data · Sentiment Portfolio Lab", order=4)

SENTIMENT_HELP = (
    "A CSV with the columns date, symbol, twitterPosts, twitterComments, twitterLikes, "
    "twitterImpressions, twitterSentiment (one row per symbol and day)."
)
PRICES_HELP = (
    "Optional: adjusted closes, either wide (a date column and one column per ticker) or long "
    "(date, symbol, close), as CSV or Parquet. It must include the benchmark (QQQ). "
    "Without it, prices come from Yahoo Finance for this session (needs network access; the "
    "download's progress is shown below and the tickers without prices are listed)."
)
DATES_HELP = (
    "The date order is detected from the whole column (a value like 13/02 settles it). When every "
    "value fits both orders the file is refused: choose the order here, or type the exact format "
    "(e.g. %d/%m/%Y), and the files are read again."
)
NUMBERS_HELP = (
    "The decimal mark is detected from all numbers of a file (1,5 or 1.234,56 settle a comma). When "
    "every number could be read either way (such as 2.428: two and a bit, or 2,428) the file is "
    "refused: choose the mark here (for both files), and the files are read again."
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
            _reading_controls(),
            html.Div(
                [
                    html.Div(
                        "Reading the files (downloading prices from Yahoo Finance when no price file was given)…",
                        className="small text-muted",
                    ),
                    dbc.Progress(id=ids.PROGRESS, value=0, label="", striped=True, animated=True),
                ],
                id=ids.PROGRESS_WRAP,
                style={"display": "none"},
                className="mb-3",
            ),
            dcc.Store(id=ids.CANDIDATE),
            dcc.Store(id=ids.YAHOO_JOB),
            dcc.Store(id=ids.UPLOADED),
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
                    html.Span(USE_HINT_WAITING, id=ids.USE_HINT, className="small text-muted"),
                ],
                className="mb-3",
            ),
            html.Div(id=ids.CHOICE_MESSAGE),
            dcc.Loading(html.Div(id=ids.VALIDATION), type="default"),
        ],
        className="spl-page-data",
    )


def _reading_controls() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5("Dates in the files"),
                dbc.RadioItems(
                    id=ids.DATE_ORDER,
                    options=[{"label": label, "value": value} for value, label in view.DATE_ORDERS],
                    value="auto",
                    inline=True,
                ),
                dbc.InputGroup(
                    [
                        dbc.InputGroupText("Exact format (optional)"),
                        dbc.Input(
                            id=ids.DATE_FORMAT,
                            type="text",
                            placeholder="%d/%m/%Y",
                            maxLength=view.DATE_FORMAT_MAX,
                            debounce=True,
                        ),
                    ],
                    size="sm",
                    className="mt-2",
                    style={"maxWidth": "420px"},
                ),
                html.P(DATES_HELP, className="small text-muted mt-1 mb-0"),
                html.H5("Numbers in the files", className="mt-3"),
                html.Div(
                    [
                        dbc.Label("Decimal mark", html_for=ids.DECIMAL, className="small mb-0 me-3"),
                        dbc.RadioItems(
                            id=ids.DECIMAL,
                            options=[{"label": label, "value": value} for value, label in view.DECIMAL_MARKS],
                            value="auto",
                            inline=True,
                        ),
                    ],
                    className="d-flex align-items-center flex-wrap",
                ),
                html.P(NUMBERS_HELP, className="small text-muted mt-1 mb-0"),
            ]
        ),
        className="mb-3",
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


def validate_upload(
    sentiment_contents: str | None,
    prices_contents: str | None,
    sentiment_filename: str | None,
    prices_filename: str | None,
    date_order: str | None = "auto",
    date_format: str | None = None,
    set_progress: Any = None,
    decimal: str | None = "auto",
) -> tuple[Any, ...]:
    """Validate whatever was uploaded; a usable data set becomes the candidate.

    ``date_order``/``date_format``/``decimal``: the page's reading choice
    (``view.reading_choice``), passed to the engine's reading layer and kept with the
    upload; ``set_progress``: the background job's progress setter (``(percent, label)``)
    while Yahoo prices download.
    """
    names = (_file_label(sentiment_filename), _file_label(prices_filename))
    if not sentiment_contents:
        message = components.info_alert("Price file received. Now upload the sentiment CSV.", color="info")
        return None, message, True, *names
    reading = view.reading_choice(date_order, date_format, decimal)

    def on_progress(done: int, total: int) -> None:
        if set_progress is not None:
            set_progress(view.progress_value(done, total))

    try:
        sentiment = services.decode_upload(sentiment_contents, what="sentiment file")
        prices = services.decode_upload(prices_contents, what="price file") if prices_contents else None
        saved = services.save_upload(
            sentiment,
            prices,
            {"sentiment": sentiment_filename or "", "prices": prices_filename or ""},
            reading=reading,
            on_progress=on_progress,
        )
    except engine.EngineError as exc:
        return None, _refusal(str(exc)), True, *names
    except Exception:  # unexpected: log it, show a sentence, keep the app working
        log.exception("validating an upload failed")
        return (
            None,
            components.error_alert("the upload could not be processed (the error was logged)"),
            True,
            *names,
        )
    info = saved["info"]
    notes = [
        text
        for text in (
            view.reading_text(reading, info["report"]),
            view.decimal_text(reading),
            view.yahoo_text(info["report"], from_yahoo=prices is None),
        )
        if text
    ]
    body = html.Div(
        [
            components.upload_summary(info["label"], saved["sentiment_report"]["rows_kept"], info["report"]),
            html.Div([html.P(n, className="small mb-1") for n in notes], id=ids.YAHOO_SUMMARY),
            html.H5("Validation report"),
            components.report_table(info["report"]),
        ],
        className="data-upload-report",
    )
    return saved["source"], body, False, *names


UPLOAD_OUTPUTS = (
    Output(ids.CANDIDATE, "data"),
    Output(ids.VALIDATION, "children"),
    Output(ids.USE_UPLOAD, "disabled"),
    Output(ids.upload_name(ids.UPLOAD_SENTIMENT), "children"),
    Output(ids.upload_name(ids.UPLOAD_PRICES), "children"),
    Output(ids.YAHOO_JOB, "data"),
    Output(ids.UPLOADED, "data"),
)


@callback(
    *UPLOAD_OUTPUTS,
    Input(ids.UPLOAD_SENTIMENT, "contents"),
    Input(ids.UPLOAD_PRICES, "contents"),
    State(ids.UPLOAD_SENTIMENT, "filename"),
    State(ids.UPLOAD_PRICES, "filename"),
    prevent_initial_call=True,
)
def on_upload(
    sentiment_contents: str | None,
    prices_contents: str | None,
    sentiment_filename: str | None,
    prices_filename: str | None,
    date_order: str | None = "auto",
    date_format: str | None = None,
    decimal: str | None = "auto",
) -> tuple[Any, ...]:
    """An upload arrived: validate it now, or (a sentiment file alone) check the sentiment
    file now and start the Yahoo download job (``download_prices_job``, with progress).

    The callback reads with the engine's detection; a date order or decimal mark chosen on
    the page is applied by ``on_date_choice``, which the ``UPLOADED`` stamp triggers next.
    """
    stamp = {"sentiment": _length(sentiment_contents), "prices": _length(prices_contents)}
    return (
        *read_upload(
            sentiment_contents,
            prices_contents,
            sentiment_filename,
            prices_filename,
            date_order,
            date_format,
            decimal,
        ),
        stamp,
    )


def read_upload(
    sentiment_contents: str | None,
    prices_contents: str | None,
    sentiment_filename: str | None,
    prices_filename: str | None,
    date_order: str | None = "auto",
    date_format: str | None = None,
    decimal: str | None = "auto",
) -> tuple[Any, ...]:
    """``(candidate, validation, use-disabled, name, name, yahoo job)`` of an upload read
    with the page's reading choice (date order, date format, decimal mark)."""
    if sentiment_contents and not prices_contents:
        names = (_file_label(sentiment_filename), _file_label(prices_filename))
        try:
            sentiment = services.decode_upload(sentiment_contents, what="sentiment file")
            choice = view.reading_choice(date_order, date_format, decimal)
            engine.load_sentiment_csv(
                sentiment,
                name=services.safe_name(sentiment_filename, "sentiment.csv"),
                date_format=choice["date_format"],
                dayfirst=choice["dayfirst"],
                decimal=choice["decimal"],
                max_bytes=services.app_config().MAX_UPLOAD_BYTES,
            )
        except engine.EngineError as exc:
            return None, _refusal(str(exc)), True, *names, None
        except Exception:
            log.exception("validating an upload failed")
            message = components.error_alert("the upload could not be processed (the error was logged)")
            return None, message, True, *names, None
        message = components.info_alert(
            "The sentiment file is valid. No price file: downloading prices from Yahoo Finance for "
            "this session (progress below).",
            color="info",
        )
        job = {"date_order": date_order, "date_format": date_format, "decimal": decimal}
        return None, message, True, *names, job
    answer = validate_upload(
        sentiment_contents,
        prices_contents,
        sentiment_filename,
        prices_filename,
        date_order,
        date_format,
        decimal=decimal,
    )
    return (*answer, None)


# The first output of each callback is unique (a client keys callbacks by their first output).
@callback(
    *(Output(o.component_id, o.component_property, allow_duplicate=True) for o in UPLOAD_OUTPUTS[-2:-1]),
    *(Output(o.component_id, o.component_property, allow_duplicate=True) for o in UPLOAD_OUTPUTS[:-2]),
    Input(ids.DATE_ORDER, "value"),
    Input(ids.DATE_FORMAT, "value"),
    Input(ids.UPLOADED, "data"),
    State(ids.UPLOAD_SENTIMENT, "contents"),
    State(ids.UPLOAD_PRICES, "contents"),
    State(ids.UPLOAD_SENTIMENT, "filename"),
    State(ids.UPLOAD_PRICES, "filename"),
    Input(ids.DECIMAL, "value"),
    prevent_initial_call=True,
)
def on_date_choice(
    date_order: str | None,
    date_format: str | None,
    uploaded: Any,
    sentiment_contents: str | None,
    prices_contents: str | None,
    sentiment_filename: str | None,
    prices_filename: str | None,
    decimal: str | None = "auto",
) -> tuple[Any, ...]:
    """The date order, date format or decimal mark changed, or a file was uploaded while
    one is chosen: read the uploaded files again with it. Returns ``read_upload``'s
    answer, Yahoo job first."""
    choice = view.reading_choice(date_order, date_format, decimal)
    chosen = any(v is not None for v in choice.values())
    if not sentiment_contents or (_triggered() == ids.UPLOADED and not chosen):
        return (no_update,) * (len(UPLOAD_OUTPUTS) - 1)
    *answer, job = read_upload(
        sentiment_contents,
        prices_contents,
        sentiment_filename,
        prices_filename,
        date_order,
        date_format,
        decimal,
    )
    return (job, *answer)


@callback(
    Output(ids.VALIDATION, "children", allow_duplicate=True),
    Output(ids.CANDIDATE, "data", allow_duplicate=True),
    Output(ids.USE_UPLOAD, "disabled", allow_duplicate=True),
    Input(ids.YAHOO_JOB, "data"),
    State(ids.UPLOAD_SENTIMENT, "contents"),
    State(ids.UPLOAD_SENTIMENT, "filename"),
    prevent_initial_call=True,
    background=True,
    progress=[Output(ids.PROGRESS, "value"), Output(ids.PROGRESS, "label")],
    running=[(Output(ids.PROGRESS_WRAP, "style"), {"display": "block"}, {"display": "none"})],
)
def download_prices_job(
    set_progress: Any, job: Any, sentiment_contents: str | None, sentiment_filename: str | None
) -> tuple[Any, ...]:
    """Background job: prices from Yahoo Finance for a sentiment file uploaded alone, with
    its progress (tickers done / to download) and the tickers without prices listed."""
    if not isinstance(job, dict) or not sentiment_contents:
        return no_update, no_update, no_update
    candidate, body, disabled, *_ = validate_upload(
        sentiment_contents,
        None,  # no price file: Yahoo Finance
        sentiment_filename,
        None,
        job.get("date_order"),
        job.get("date_format"),
        set_progress,
        job.get("decimal"),
    )
    return body, candidate, disabled


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
    try:  # refused now, not by every later run: an id the server holds no upload under
        services.stored_upload(source)
    except engine.EngineError as exc:
        return no_update, components.error_alert(str(exc))
    return source, components.info_alert(f"Your runs now use {source['name']}.")


@callback(Output(ids.USE_HINT, "children"), Input(ids.USE_UPLOAD, "disabled"))
def use_hint(disabled: bool | None) -> str:
    """The line beside "Use this data for my runs": why it is disabled, nothing once it is not."""
    return "" if disabled is False else USE_HINT_WAITING


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


def _length(contents: Any) -> int:
    return len(contents) if isinstance(contents, str) else 0


def _triggered() -> Any:
    try:
        return ctx.triggered_id
    except Exception:  # called outside a callback (tests): a date change
        return None


def _refusal(message: str) -> html.Div:
    """The engine's sentence; when it is about the date order or the decimal mark, the page
    control that settles it beside it (the engine's sentence names the API's and the CLI's)."""
    body: list[Any] = [components.error_alert(message, title="This file cannot be used")]
    if view.needs_date_choice(message):
        body.append(dbc.Alert(view.DATE_HINT, color="info", className="py-2 small", id=ids.DATE_HINT))
    if view.needs_decimal_choice(message):
        body.append(dbc.Alert(view.DECIMAL_HINT, color="info", className="py-2 small", id=ids.DECIMAL_HINT))
    return html.Div(body)


def _file_label(filename: str | None) -> str:
    return f"Received: {services.safe_name(filename, 'file')}" if filename else ""
