"""Which data set a session uses, and loading it (``engine.MarketData``, cached per worker).

The session's data source is a small dict kept in the browser (``session-source`` Store):
``{"kind": "default"}`` (the app's configured provider, the demo data unless configured
otherwise) or ``{"kind": "upload", "id": <hash of the bytes, file names and reading options>, "name": <file name>}``. The
uploaded bytes stay on the server, in the shared ``uploads`` cache. Every function
raises ``engine.EngineError`` (one sentence meant for the user) on bad input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from collections.abc import Mapping
from typing import Any

import engine

from ..config import AppConfig
from ..state import get_state
from .plain import report_to_plain

log = logging.getLogger(__name__)

DEFAULT_SOURCE: Mapping[str, str] = {"kind": "default"}
DEFAULT_BENCHMARK = engine.StrategyParams().benchmark
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._\- ]+")


def app_config() -> AppConfig:
    """The configuration of the app serving this request."""
    return get_state().config


def resolve_source(store: Mapping[str, Any] | None) -> dict[str, str]:
    """Validate the session's Store value; None (a new session) means the default source."""
    if store is None or store == {}:
        return dict(DEFAULT_SOURCE)
    if not isinstance(store, Mapping):
        raise engine.DataValidationError(
            "the session's data source is malformed; switch back to the default source"
        )
    kind = store.get("kind")
    if kind == "default":
        return dict(DEFAULT_SOURCE)
    if kind == "upload":
        upload_id = store.get("id")
        if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
            raise engine.DataValidationError(
                "the session's uploaded data set id is malformed; upload the file again"
            )
        return {"kind": "upload", "id": upload_id, "name": safe_name(store.get("name"), "uploaded data")}
    raise engine.DataValidationError(f"unknown data source kind {kind!r}; switch back to the default source")


def source_key(source: Mapping[str, Any]) -> str:
    """A short primitive key naming the source (part of every cache key)."""
    source = resolve_source(source)
    if source["kind"] == "upload":
        return f"upload:{source['id']}"
    config = app_config()
    if config.DATA_SOURCE == "demo":
        return f"default:demo:{config.DEMO_SEED}"
    options = ":".join(reading_env(config).values())
    return f"default:{config.DATA_SOURCE}:{config.SENTIMENT_PATH}:{config.PRICES_PATH or ''}:{options}"


def get_market_data(
    source: Mapping[str, Any] | None, *, benchmark: str = DEFAULT_BENCHMARK
) -> engine.MarketData:
    """The validated data of ``source`` (loaded once per process, then served from the LRU)."""
    source = resolve_source(source)
    benchmark = engine.StrategyParams.from_mapping({"benchmark": benchmark}).benchmark
    key = f"{source_key(source)}|{benchmark}"
    return get_state().market_data.get_or_load(
        key, lambda: engine.load_market_data(_provider(source), benchmark=benchmark)
    )


def _per_file(data: engine.MarketData, plain: dict[str, Any]) -> dict[str, Any]:
    """The plain report with what the merged report does not say per file: the sentiment
    file's symbols and dates, and the prices' dates (each dropped group names its file
    itself: ``DroppedRows.file``)."""
    sentiment, prices = data.sentiment, data.prices
    if len(sentiment):
        plain["sentiment_symbols"] = sorted(map(str, sentiment["symbol"].unique()))
        plain["sentiment_dates"] = [
            d.date().isoformat() for d in (sentiment["date"].min(), sentiment["date"].max())
        ]
    if len(prices.index):
        plain["price_dates"] = [d.date().isoformat() for d in (prices.index.min(), prices.index.max())]
    return plain


def stored_upload(source: Mapping[str, str]) -> Mapping[str, Any]:
    """The stored files of the upload ``source`` (a resolved ``kind: upload`` source); one
    sentence (``DataUnavailableError``) when the server does not hold it: evicted or
    expired, or an id no upload ever had (a forged "Use this data")."""
    payload = get_state().uploads.get(source["id"])
    if not isinstance(payload, Mapping):
        raise engine.DataUnavailableError(
            f"the uploaded data set {source['name']!r} is no longer on the server; "
            "upload it again on the Data page or switch back to the default source"
        )
    return payload


def _provider(source: Mapping[str, str]) -> engine.DataProvider:
    if source["kind"] == "upload":
        payload = stored_upload(source)
        return _upload_provider(
            payload["sentiment"],
            payload["prices"],
            payload["sentiment_name"],
            payload["prices_name"],
            reading=payload.get("reading"),
        )
    config = app_config()
    return engine.provider_from_env(config.provider_env())


def reading_env(config: AppConfig) -> dict[str, str]:
    """``DATE_FORMAT``, ``DAYFIRST``, ``DECIMAL`` of the app's config (read once from the
    environment with it), as ``engine.provider_from_env`` takes them (docs/data.md)."""
    return {
        "DATE_FORMAT": config.DATE_FORMAT or "",
        "DAYFIRST": config.DAYFIRST or "",
        "DECIMAL": config.DECIMAL or "",
    }


def _upload_provider(
    sentiment: bytes,
    prices: bytes | None,
    sentiment_name: str,
    prices_name: str,
    *,
    reading: Mapping[str, Any] | None = None,
    on_progress: Any = None,
) -> engine.DataProvider:
    """``reading``: ``{"date_format", "dayfirst", "decimal"}`` chosen on the Data page (None: detect);
    ``on_progress``: ``(tickers done, tickers to download)`` while Yahoo prices download."""
    options = dict(reading or {})
    files = engine.FileProvider(
        sentiment=sentiment,
        prices=prices,
        sentiment_name=sentiment_name,
        prices_name=prices_name,
        date_format=options.get("date_format") or None,
        dayfirst=options.get("dayfirst"),
        decimal=options.get("decimal") or None,
        max_bytes=app_config().MAX_UPLOAD_BYTES,  # also on a .gz or .zip's content
    )
    if prices is None:
        # No price file: prices come from Yahoo Finance (cached on disk by the engine).
        # Few, short retries: the user is waiting for the validation report.
        return engine.YahooProvider(
            sentiment=sentiment,
            sentiment_name=sentiment_name,
            cache_dir=app_config().yahoo_cache_dir(),
            max_retries=2,
            base_delay=0.5,
            options=files.options,  # the same reading options, checked by FileProvider
            on_progress=on_progress,
            max_bytes=files.max_bytes,
        )
    return files


def source_info(source: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the badge and the Data page show: label, SYNTHETIC flag, fingerprint, report."""
    source = resolve_source(source)
    data = get_market_data(source)
    info = data.source
    return {
        "kind": source["kind"],
        "source_kind": info.kind,
        "label": info.label,
        "synthetic": bool(info.synthetic),
        "detail": info.detail,
        "fingerprint": data.fingerprint,
        "report": _per_file(data, report_to_plain(data.report)),
        "source": source,
    }


def decode_upload(contents: str | None, *, what: str = "file") -> bytes:
    """Bytes of a ``dcc.Upload`` ``contents`` value (``data:<mime>;base64,<data>``)."""
    if not contents or not isinstance(contents, str):
        raise engine.DataValidationError(f"no {what} was uploaded")
    header, comma, encoded = contents.partition(",")
    if not (header.startswith("data:") and comma):
        raise engine.DataValidationError(
            f"the {what} did not arrive as a file upload (a data: URI from the upload box); upload the file again"
        )
    if not encoded:
        raise engine.DataValidationError(f"the uploaded {what} is empty (0 bytes)")
    limit = app_config().MAX_UPLOAD_BYTES
    if len(encoded) * 3 // 4 > limit + 3:
        raise engine.DataValidationError(
            f"the uploaded {what} is larger than the {limit / 2**20:g} MiB limit"
        )
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise engine.DataValidationError(
            f"the uploaded {what} arrived damaged (the browser's encoding of it is not valid); upload it again"
        ) from None


def save_upload(
    sentiment_bytes: bytes,
    prices_bytes: bytes | None = None,
    names: Mapping[str, str] | None = None,
    *,
    reading: Mapping[str, Any] | None = None,
    on_progress: Any = None,
) -> dict[str, Any]:
    """Validate an upload with the engine loaders, store it server-side, return the new source.

    Returns ``{"source": <Store value>, "info": source_info(...), "sentiment_report": ...}``;
    ``info["report"]`` is the validation report of both files merged (row counts added up),
    ``sentiment_report`` the sentiment file's alone. Raises ``EngineError`` when the
    files cannot be used; nothing is stored then. ``reading``: ``{"date_format": str|None,
    "dayfirst": bool|None, "decimal": "."|","|None}`` for an ambiguous date column or
    decimal mark (kept with the upload, so every later load reads it the same way); ``on_progress(done, total)``: Yahoo download progress.
    """
    names = names or {}
    limit = app_config().MAX_UPLOAD_BYTES
    sentiment_name = safe_name(names.get("sentiment"), "sentiment.csv")
    prices_name = safe_name(names.get("prices"), "prices.csv") if prices_bytes is not None else ""
    for label, blob in (("sentiment file", sentiment_bytes), ("price file", prices_bytes)):
        if blob is not None and not isinstance(blob, (bytes, bytearray)):
            raise engine.DataValidationError(f"the {label} must be bytes")
        if blob is not None and len(blob) > limit:
            raise engine.DataValidationError(f"the {label} is larger than the {limit / 2**20:g} MiB limit")
    if not sentiment_bytes:
        raise engine.DataValidationError("the sentiment file is empty")
    sentiment_bytes = bytes(sentiment_bytes)
    prices_bytes = bytes(prices_bytes) if prices_bytes else None
    # Validate first (raises a one-sentence DataValidationError), store only usable data.
    reading = {
        "date_format": (reading or {}).get("date_format") or None,
        "dayfirst": (reading or {}).get("dayfirst"),
        "decimal": (reading or {}).get("decimal") or None,
    }
    provider = _upload_provider(
        sentiment_bytes, prices_bytes, sentiment_name, prices_name, reading=reading, on_progress=on_progress
    )
    data = engine.load_market_data(provider)
    chosen = repr(sorted(reading.items())).encode() if any(v is not None for v in reading.values()) else b""
    # The names are part of the identity: the stored payload's names label every page and
    # export of the source, so the same bytes uploaded under other names (by another
    # session) must not show this session's file names, nor this one theirs.
    named = f"{sentiment_name}\0{prices_name}".encode()
    digest = hashlib.sha256(
        sentiment_bytes + b"\0" + (prices_bytes or b"") + b"\0" + named + chosen
    ).hexdigest()[:32]
    source = {"kind": "upload", "id": digest, "name": sentiment_name}
    payload = {
        "sentiment": sentiment_bytes,
        "prices": prices_bytes,
        "sentiment_name": sentiment_name,
        "prices_name": prices_name,
        "reading": reading,
    }
    state = get_state()
    if not state.uploads.set(digest, payload):
        log.warning("upload %s kept in this worker only: the shared cache did not store it", digest)
    state.market_data.put(f"upload:{digest}|{DEFAULT_BENCHMARK}", data)
    _, sentiment_report = provider.sentiment()  # read once already: the provider keeps it
    return {
        "source": source,
        "info": source_info(source),
        "sentiment_report": report_to_plain(sentiment_report),
    }


def safe_name(raw: Any, fallback: str) -> str:
    """A file name fit for display: no path, no odd characters, at most 80 characters."""
    if not isinstance(raw, str):
        return fallback
    base = raw.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip(" ._")[:80]
    return cleaned or fallback
