"""engine/ is pure compute and data access: no web stack, and yfinance in one module only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "engine"
FORBIDDEN = {"dash", "plotly", "flask", "flask_caching", "dash_bootstrap_components", "werkzeug"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


ENGINE_FILES = sorted(ENGINE.rglob("*.py"))


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: str(p.relative_to(ENGINE)))
def test_engine_module_imports_no_web_stack(path: Path) -> None:
    assert not (_imported_roots(path) & FORBIDDEN), f"{path.name} imports {_imported_roots(path) & FORBIDDEN}"


def test_yfinance_is_imported_by_exactly_one_module() -> None:
    importers = [str(p.relative_to(ENGINE)) for p in ENGINE_FILES if "yfinance" in _imported_roots(p)]
    assert importers == ["data/yahoo.py"], importers


def test_detector_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("import plotly.graph_objects as go\nfrom dash import html\n")
    assert _imported_roots(sample) & FORBIDDEN == {"plotly", "dash"}


def test_public_api_is_declared() -> None:
    import engine

    missing = [name for name in engine.__all__ if not hasattr(engine, name)]
    assert missing == []
    assert not any(name.startswith("_") and name != "__version__" for name in engine.__all__)
