"""Reading a Dash layout as a page test sees it: the values its inputs show."""

from __future__ import annotations

import json
from typing import Any

import plotly


def input_values(tree: Any) -> dict[str, Any]:
    """``{component id: value}`` of every component with a string id and a ``value`` in a
    layout (read from its plain JSON, as the browser receives it)."""
    found: dict[str, Any] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("props") or {}
            if isinstance(props.get("id"), str) and "value" in props:
                found[props["id"]] = props["value"]
            for value in props.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(json.dumps(tree, cls=plotly.utils.PlotlyJSONEncoder)))
    return found
