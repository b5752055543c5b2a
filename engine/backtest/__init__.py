"""Backtest layer: prepares market data into arrays, plans entries and holdings, simulates
the portfolio with array-only kernels, and assembles the pandas result.

May import: ``engine.data``, ``engine.strategy``, ``engine.analytics``, ``engine.errors``,
``engine.shapes``.
"""
