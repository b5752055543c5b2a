"""Command line: ``python -m engine backtest|stocks|sweep|robustness``; the entry point is
``engine.cli.main.main``.

The top layer: may import everything in ``engine``.
"""
