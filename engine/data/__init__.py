"""Data layer: reading and validating sentiment and price files, and the data providers.

Providers (demo, files, yahoo) sit behind one small ``DataProvider`` protocol so that tests
inject fakes. ``yahoo`` is the only module that imports yfinance.

The ticker rule (``symbols``) lives here, the lowest layer that needs it; the strategy
parameters and the analytics import it from here.

May import: ``engine.errors``, ``engine.jobs``, ``engine.shapes``; never a higher layer
(strategy, analytics, backtest, research, execution, cli).
"""
