"""Analytics layer: pure formulas over return series: performance metrics (empyrical
conventions), per-stock analysis, and Sharpe-ratio statistics (PSR, DSR, bootstrap indices).

Sits below the backtest because a backtest result carries its metrics; analytics never
needs a backtest. May import: ``engine.data``, ``engine.strategy``, ``engine.errors``,
``engine.shapes``.
"""
