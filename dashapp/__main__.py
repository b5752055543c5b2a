"""Development server: ``python -m dashapp [--port 8050] [--debug]``.

Listens on 127.0.0.1 only. Debug mode (reloader, tracebacks in the browser) is off
unless ``--debug`` is given. Production uses gunicorn (``dashapp.wsgi:application``).
"""

from __future__ import annotations

import argparse
import logging

from . import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dashapp", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--debug", action="store_true", help="Dash dev tools and reloader (never in production)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app({"DEBUG": True} if args.debug else None)
    app.run(host=args.host, port=args.port, debug=args.debug)


if __name__ == "__main__":
    main()
