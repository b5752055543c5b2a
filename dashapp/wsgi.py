"""The WSGI entry point gunicorn serves: ``gunicorn dashapp.wsgi:application``.

Configuration comes from the environment (see ``dashapp.config``); DEBUG is refused here.
"""

from __future__ import annotations

from . import create_app

app = create_app()
application = app.server
