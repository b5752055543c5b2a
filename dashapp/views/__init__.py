"""View-models: pure functions turning plain engine results into what a page shows.

No Dash callbacks, no app state, no service calls: plain data in (what ``services``
returns), plain data out (texts, rows, table specs, CSV text), so each is unit-testable.
One module per page; the page assembles components from them.
"""
