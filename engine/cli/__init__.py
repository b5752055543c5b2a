"""Command line: ``python -m engine backtest|stocks|sweep|robustness``; the entry point is
``engine.cli.main.main``. One module per command (``backtest``, ``stocks``, ``sweep``,
``robustness``), each registering itself with ``register(subparsers)``; ``common`` holds
what they share (data options, ``--prices FILE|yahoo``, exit codes).

The top layer: may import everything in ``engine``.
"""
