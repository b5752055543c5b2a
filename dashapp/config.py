"""Dashboard configuration: one frozen dataclass read from the environment.

Precedence (lowest to highest): defaults, environment variables, the mapping passed to
``create_app`` (tests pass a temporary ``CACHE_DIR``). Every value is validated here so a
typo in a deployment fails at start-up with one clear sentence, not on the first request.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import engine
from engine import DATA_SOURCES, EXECUTOR_MODES

CACHE_TYPES = ("FileSystemCache", "RedisCache", "NullCache", "SimpleCache")
MIB = 1024 * 1024
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A configuration value is missing or malformed (raised at start-up)."""


def default_cache_dir() -> str:
    return str(Path(tempfile.gettempdir()) / "sentiment-portfolio-lab-cache")


@dataclasses.dataclass(frozen=True, kw_only=True)
class AppConfig:
    """Every knob of the dashboard; field names are the environment variable names."""

    DATA_SOURCE: str = "demo"  # demo | files | yahoo (the default source of every session)
    SENTIMENT_PATH: str | None = None  # required for files / yahoo
    PRICES_PATH: str | None = None  # files: CSV/Parquet of adjusted closes; None = Yahoo
    DEMO_SEED: int = 7
    # files / yahoo: how to read what a file cannot settle (engine.provider_from_env checks them)
    DATE_FORMAT: str | None = None  # strftime format of the date columns, e.g. %d/%m/%Y
    DAYFIRST: str | None = None  # true / false for dd/mm vs mm/dd dates
    DECIMAL: str | None = None  # . or ,
    # yahoo and uploads without prices: where downloaded Yahoo prices are kept (None = CACHE_DIR/yahoo)
    YAHOO_CACHE_DIR: str | None = None
    CACHE_TYPE: str = "FileSystemCache"
    CACHE_DIR: str = dataclasses.field(default_factory=default_cache_dir)
    CACHE_REDIS_URL: str | None = None
    CACHE_DEFAULT_TIMEOUT: int = 3600  # seconds a computed result stays cached
    UPLOAD_TIMEOUT: int = 7 * 24 * 3600  # seconds an uploaded data set stays available
    ENGINE_EXECUTOR: str = "auto"  # auto | serial | ray (passed to engine.get_executor)
    # Processes per web worker that run backtests and their figures (dashapp.pool), so the
    # serving threads stay free; 0 = in the serving thread. gunicorn.conf.py sets it.
    COMPUTE_PROCESSES: int = 0
    COMPUTE_NICENESS: int = 5  # added to the compute processes' niceness (0-19): serving threads win the CPU
    MAX_UPLOAD_BYTES: int = 10 * MIB
    # The Status page's "Clear cache" button empties the results cache every user shares:
    # off by default (any visitor could wipe it), for an operator to turn on (docs/security.md).
    SPL_ALLOW_CACHE_CLEAR: bool = False
    DEBUG: bool = False
    SECRET_KEY: str = dataclasses.field(default_factory=lambda: secrets.token_hex(32), repr=False)
    TITLE: str = "Sentiment Portfolio Lab"

    def __post_init__(self) -> None:
        if self.DATA_SOURCE not in DATA_SOURCES:
            raise ConfigError(
                f"DATA_SOURCE must be one of {', '.join(DATA_SOURCES)}; got {engine.short_repr(self.DATA_SOURCE)}"
            )
        if self.DATA_SOURCE in ("files", "yahoo") and not self.SENTIMENT_PATH:
            raise ConfigError(f"DATA_SOURCE={self.DATA_SOURCE} needs SENTIMENT_PATH (a sentiment CSV)")
        if self.CACHE_TYPE not in CACHE_TYPES:
            raise ConfigError(
                f"CACHE_TYPE must be one of {', '.join(CACHE_TYPES)}; got {engine.short_repr(self.CACHE_TYPE)}"
            )
        if self.CACHE_TYPE == "RedisCache" and not self.CACHE_REDIS_URL:
            raise ConfigError("CACHE_TYPE=RedisCache needs CACHE_REDIS_URL (redis://host:6379/0)")
        if self.ENGINE_EXECUTOR not in EXECUTOR_MODES:
            raise ConfigError(
                f"ENGINE_EXECUTOR must be one of {', '.join(EXECUTOR_MODES)}; got {engine.short_repr(self.ENGINE_EXECUTOR)}"
            )
        for name, low in (
            ("DEMO_SEED", 0),
            ("COMPUTE_PROCESSES", 0),
            ("COMPUTE_NICENESS", 0),
            ("CACHE_DEFAULT_TIMEOUT", 1),
            ("UPLOAD_TIMEOUT", 1),
            ("MAX_UPLOAD_BYTES", 1024),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} must be a whole number >= {low}; got {engine.short_repr(value)}")
        if self.COMPUTE_NICENESS > 19:
            raise ConfigError(f"COMPUTE_NICENESS must be between 0 and 19; got {self.COMPUTE_NICENESS}")
        if (
            self.YAHOO_CACHE_DIR
            and Path(self.YAHOO_CACHE_DIR).exists()
            and not Path(self.YAHOO_CACHE_DIR).is_dir()
        ):
            raise ConfigError(f"YAHOO_CACHE_DIR {self.YAHOO_CACHE_DIR!r} is not a directory")
        self.check_data_source()
        if self.DEBUG and running_under_gunicorn():
            raise ConfigError("DEBUG=1 is refused in production (under gunicorn): it exposes tracebacks")

    def provider_env(self) -> dict[str, str]:
        """The settings of the default data source as ``engine.provider_from_env`` takes them."""
        return {
            "DATA_SOURCE": self.DATA_SOURCE,
            "SENTIMENT_PATH": self.SENTIMENT_PATH or "",
            "PRICES_PATH": self.PRICES_PATH or "",
            "DEMO_SEED": str(self.DEMO_SEED),
            "DATE_FORMAT": self.DATE_FORMAT or "",
            "DAYFIRST": self.DAYFIRST or "",
            "DECIMAL": self.DECIMAL or "",
            "YAHOO_CACHE_DIR": str(self.yahoo_cache_dir()),
        }

    def check_data_source(self) -> None:
        """Raise ``ConfigError`` (the engine's sentence) when the default data source cannot
        be used: a reading option the engine refuses (``DAYFIRST=maybe``, a bad
        ``DATE_FORMAT`` or ``DECIMAL``, checked whatever the source), or a sentiment / price
        path that is not a readable file. The files are not read here (they are on first use)."""
        try:
            # The engine owns the settings' rules (reading options checked whatever the
            # source); its providers read nothing when built.
            engine.provider_from_env(self.provider_env())
        except engine.EngineError as exc:
            raise ConfigError(str(exc)) from None
        if self.DATA_SOURCE in ("files", "yahoo"):
            for name in ("SENTIMENT_PATH", "PRICES_PATH"):
                path = getattr(self, name)
                if path and not (Path(path).is_file() and os.access(path, os.R_OK)):
                    raise ConfigError(f"{name} {path!r} is not a readable file")

    @classmethod
    def load(
        cls, env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
    ) -> AppConfig:
        """Defaults < ``env`` (default ``os.environ``) < ``overrides``."""
        env = os.environ if env is None else env
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for name, field in fields.items():
            if env.get(name) not in (None, ""):
                values[name] = _parse(name, env[name], field.type)
        unknown = sorted(set(overrides or {}) - set(fields))
        if unknown:
            raise ConfigError(f"unknown configuration key(s): {', '.join(unknown)}")
        for name, value in (overrides or {}).items():
            values[name] = _parse(name, value, fields[name].type) if isinstance(value, str) else value
        return cls(**values)

    def cache_dir(self) -> Path:
        return Path(self.CACHE_DIR)

    def yahoo_cache_dir(self) -> Path:
        """Where downloaded Yahoo prices are kept: ``YAHOO_CACHE_DIR``, else ``yahoo/`` beside
        the app's cache (the app's own default; the CLI's is the engine's)."""
        return Path(self.YAHOO_CACHE_DIR) if self.YAHOO_CACHE_DIR else self.cache_dir() / "yahoo"


def ray_config(settings: AppConfig, env: Mapping[str, str] | None = None) -> engine.RayConfig:
    """The engine's ``RayConfig``: the environment (``RAY_ADDRESS``, ``SPL_*``; ``os.environ`` by
    default) with the executor mode of ``settings``. Built once per app by ``create_app``.
    Raises ``ConfigError`` (the engine's sentence) for a malformed ``SPL_RAY_*`` setting."""
    try:
        base = engine.RayConfig.from_env(env)
    except engine.ParameterError as exc:  # a malformed SPL_RAY_* setting: one sentence at start
        raise ConfigError(str(exc)) from None
    # ENGINE_EXECUTOR is one of engine.EXECUTOR_MODES (checked by AppConfig).
    return dataclasses.replace(base, executor=settings.ENGINE_EXECUTOR)  # type: ignore[arg-type]


def running_under_gunicorn() -> bool:
    """True inside a gunicorn master or worker (the arbiter exports SERVER_SOFTWARE)."""
    return (
        os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn") or "gunicorn" in Path(sys.argv[0]).name
    )


def _parse(name: str, raw: Any, annotation: Any) -> Any:
    text = str(raw).strip()
    kind = str(annotation)
    if kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ConfigError(f"{name} must be 0/1 or true/false; got {engine.short_repr(raw)}")
    if kind == "int":
        # The engine's one reader of a whole number typed as text: digits 0-9 only ('1_0' and
        # other scripts' digits are refused) and a short echo of a long value.
        try:
            return engine.whole_number_text(text, name)
        except engine.ParameterError as exc:
            raise ConfigError(str(exc)) from None
    return text
