"""Dashboard pages (``dash.register_page`` modules, loaded by ``create_app``).

A page module holds its layout and its callbacks only: it registers itself with
``dash.register_page`` and its callbacks with ``dash.callback`` (grouped ``inputs=`` /
``state=`` / ``output=`` dicts, never positions in ``*values``). It takes its component ids
from ``dashapp.pages.ids.<page>``, what to show from ``dashapp.views.<page>`` (pure
functions of plain results), the widgets from ``dashapp.ui``, and reaches the app's
state and the engine through ``dashapp.services`` only, never by importing the app.
Modules without a ``register_page`` call (``ids``, ``sweep_layout``) are skipped by Dash's
page loader and imported by the page that uses them.
"""
