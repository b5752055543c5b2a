"""The WSGI entry point gunicorn serves: ``gunicorn dashapp.wsgi:application``.

Configuration comes from the environment (see ``dashapp.config``); DEBUG is refused here.
"""

from __future__ import annotations

from . import create_app, finish_setup

app = create_app()
finish_setup(app)  # before gunicorn hands this worker any request
application = app.server
