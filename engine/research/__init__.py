"""Research layer: parameter sweeps and robustness checks (bootstrap, random portfolios,
deflated Sharpe) built on the backtest. Work fans out through an ``engine.jobs.Executor``
passed in by the caller.

May import: every lower layer (data, strategy, analytics, backtest), ``engine.jobs``,
``engine.errors``, ``engine.shapes``; never ``engine.execution`` or ``engine.cli``.
"""
