"""UI helpers shared by the pages; no callbacks, no app state, no engine calls beyond validation.

- ``figures``: plotly figures from plain data, one module per chart family;
- ``forms``: the strategy-parameter form and the sweep grid inputs (validated by the engine);
- ``url_state``: page state <-> URL query string;
- ``components``: small building blocks (alerts, metric cards, badges, tables);
- ``store_shapes``: the shapes of browser-held values a page reads back.
"""
