"""Data layer: reading and validating sentiment and price files, and the data providers.

Providers (demo, files, yahoo) sit behind one small ``DataProvider`` protocol so that tests
inject fakes. ``yahoo`` is the only module that imports yfinance.

May import: ``engine.errors``, ``engine.jobs``, ``engine.typing`` and, for the ticker rule,
``engine.strategy.params``... never the backtest, analytics, research, execution or cli layers.
"""
