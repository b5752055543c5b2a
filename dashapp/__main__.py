"""Development server: ``python -m dashapp [--port 8050] [--debug]``.

Listens on 127.0.0.1 unless ``--host`` says otherwise. Debug mode (reloader, tracebacks in the
browser) is off unless ``--debug`` is given, and refused on a non-loopback host. Production uses gunicorn (``dashapp.wsgi:application``).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging

from . import create_app, finish_setup


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dashapp", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument(
        "--debug", action="store_true", help="Dash dev tools and reloader (never in production)"
    )
    args = parser.parse_args(argv)
    if args.debug and not is_loopback(args.host):
        # The Werkzeug debugger is an interactive Python console: never on a reachable interface.
        parser.error(
            f"--debug is only allowed on a loopback host (127.0.0.1, ::1, localhost); got {args.host}"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app({"DEBUG": True} if args.debug else None)
    finish_setup(app)
    app.run(host=args.host, port=args.port, debug=args.debug)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


if __name__ == "__main__":
    main()
