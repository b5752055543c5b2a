"""The WSGI entry point gunicorn serves: ``gunicorn dashapp.wsgi:application``.

Configuration comes from the environment (see ``dashapp.config``); DEBUG is refused here.
A bad setting stops the worker with one line on stderr (no traceback) and exit code 3,
gunicorn's "worker failed to boot", which stops gunicorn instead of starting workers again.
"""

from __future__ import annotations

import sys

from . import create_app, finish_setup
from .config import ConfigError

WORKER_BOOT_ERROR = 3  # gunicorn.arbiter.Arbiter.WORKER_BOOT_ERROR

try:
    app = create_app()
except ConfigError as exc:
    print(f"dashboard configuration error: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(WORKER_BOOT_ERROR) from None
finish_setup(app)  # before gunicorn hands this worker any request
application = app.server
