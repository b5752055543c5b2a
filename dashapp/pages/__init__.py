"""Dashboard pages (``dash.register_page`` modules, loaded by ``create_app``).

Each page module registers itself with ``dash.register_page`` and its callbacks with
``dash.callback``; it reaches the app's services through ``dashapp.services`` (which
uses ``flask.current_app``), never by importing the app. Component ids are prefixed
with the page name (``data-...``, ``status-...``).
"""
