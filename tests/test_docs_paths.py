"""Every repository path and Python name the documentation gives exists, so the docs cannot
drift from the layout again (issue 11: README's layout table and each docs/ page follow the
new paths).

Checked in README.md and docs/*.md:
- paths that start with a top-level folder of the repository (``engine/...``, ``dashapp/...``,
  ``benchmarks/...``, ``tests/...``, ...), backticked or in running text, and relative
  Markdown link targets. A path may end with ``::name`` (a test) or ``:name`` (an
  attribute); that suffix is not checked. Placeholders (``<layer>``, ``*``, ``...``,
  ``{a,b}``) are skipped;
- dotted names ``engine.x.y`` / ``dashapp.x.y``: a module, or an attribute of one.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP_FOLDERS = ("engine", "dashapp", "benchmarks", "tests", "docs", "deploy", "packer", "assets", ".ci")
_TOPS = "|".join(re.escape(top) for top in TOP_FOLDERS)
PATH = re.compile(r"(?<![\w/.~$-])((?:" + _TOPS + r")/[\w./<>*{},:-]*)")
DOTTED = re.compile(r"\b(?:engine|dashapp)(?:\.[A-Za-z_]\w*)+")
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
PLACEHOLDER = re.compile(r"[<>*{}$]|\.\.\.")


def repo_paths(text: str) -> set[str]:
    """The repository paths named in one Markdown text (see the module docstring)."""
    found: set[str] = set()
    for token in PATH.findall(text):
        path = token.split("::", 1)[0]
        path = re.sub(r":[A-Za-z_]\w*$", "", path).rstrip(".,:")  # dashapp/wsgi.py:application
        if not PLACEHOLDER.search(path):
            found.add(path)
    for target in LINK.findall(text):
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not PLACEHOLDER.search(target):
            found.add(target)
    return found


def test_the_extractor_finds_paths_and_skips_placeholders() -> None:
    text = (
        "See `engine/data/symbols.py`, `tests/engine/<layer>/`, `dashapp/wsgi.py:application`, "
        "`tests/faults/test_faults_ray.py::test_x`, `python -m engine`, `engine/*.py`, "
        "(tested in benchmarks/bench_sweep.py), ~/.cache/engine/x, "
        "[ray](docs/ray.md#x) and [site](https://example.org/a.md)."
    )
    assert repo_paths(text) == {
        "engine/data/symbols.py",
        "dashapp/wsgi.py",
        "tests/faults/test_faults_ray.py",
        "benchmarks/bench_sweep.py",
        "docs/ray.md",
    }


def resolves(dotted: str) -> bool:
    """True when ``dotted`` is a module, or a chain of attributes of the longest module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(obj, attribute):
                return False
            obj = getattr(obj, attribute)
        return True
    return False


def test_the_name_check_tells_real_names_from_stale_ones() -> None:
    assert resolves("engine.data.symbols.is_ticker")
    assert resolves("engine.StrategyParams.from_mapping")
    assert not resolves("engine.typing.FloatMatrix")
    assert not resolves("engine.strategy.params.TICKER_RE")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_name_in_the_docs_exists(doc: Path) -> None:
    stale = sorted(
        name for name in set(DOTTED.findall(doc.read_text(encoding="utf-8"))) if not resolves(name)
    )
    assert not stale, f"{doc.relative_to(ROOT)} names modules or attributes that do not exist: {stale}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_named_in_the_docs_exists(doc: Path) -> None:
    base = doc.parent
    text = doc.read_text(encoding="utf-8")
    missing = sorted(
        path
        for path in repo_paths(text)
        # Markdown links resolve against the page's folder; backticked paths against the root.
        if not (ROOT / path).exists() and not (base / path).exists()
    )
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"
