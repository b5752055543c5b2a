"""Component ids, one module per page (``ids.backtest.RUN`` is ``"backtest-run"``).

Ids are part of the public behaviour (links, browser tests, the CSS): a page's ids carry
its name as prefix; the shell's (navbar, the session's data-source Store) are in ``shell``.
These modules hold constants only (Dash's page loader skips them).
"""
