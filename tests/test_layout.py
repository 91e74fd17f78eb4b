"""The house's shape, read from the code (an AST walk over the package, no import run): no import circles of any
kind (module level, inside functions, under ``TYPE_CHECKING``), no private name or private module imported across a
subpackage's wall, ``__all__`` in every module, no module over 400 lines, and the README's Layout section naming
every subpackage and top-level module. The checker is tried on small packages with each fault, so it cannot pass
by finding nothing."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "akool_frames"
MAX_LINES = 400


@dataclass
class Module:
    name: str
    path: Path
    is_init: bool

    @property
    def package(self) -> str:
        return self.name if self.is_init else self.name.rpartition(".")[0]


@dataclass
class Layout:
    modules: dict[str, Module]
    edges: dict[str, set[str]] = field(default_factory=dict)
    crossings: list[str] = field(default_factory=list)


def read_layout(package: Path) -> Layout:
    """Every module of ``package`` and its imports of the package's own modules, with the imports that cross a
    subpackage's wall to a private name or module."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_init = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_init else parts)
        modules[name] = Module(name, path, is_init)
    layout = Layout(modules)
    for module in modules.values():
        targets = layout.edges.setdefault(module.name, set())
        for node in ast.walk(ast.parse(module.path.read_text(encoding="utf-8"))):
            for target, names in _imports(module, node):
                if target not in modules:
                    continue
                for imported in names:
                    sub = f"{target}.{imported}"
                    found = modules[sub] if sub in modules else modules[target]
                    if found.name != module.name:
                        targets.add(found.name)
                    _check_wall(layout, module, found, imported, line=getattr(node, "lineno", 0))
    return layout


def _imports(module: Module, node: ast.AST) -> list[tuple[str, list[str]]]:
    root = module.name.split(".")[0]
    if isinstance(node, ast.Import):
        return [(alias.name, []) for alias in node.names if alias.name.split(".")[0] == root]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module.package.split(".")
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [(target, [alias.name for alias in node.names])] if target.split(".")[0] == root else []


def _check_wall(layout: Layout, module: Module, found: Module, imported: str, line: int) -> None:
    """Within a package anything goes. Across its wall: public names only; from a sibling (or its children) only
    through that package's public ``__init__``; from an ancestor package, its shared modules' public names
    (``.._errors``)."""
    mine, theirs = module.package, found.package
    if mine == theirs:
        return
    is_module = f"{found.name}.{imported}" in layout.modules
    private_module = is_module and imported.startswith("_")
    ancestor = mine.startswith(theirs + ".")
    if (imported.startswith("_") and not is_module) or private_module or (not ancestor and found.name != theirs):
        layout.crossings.append(f"{module.path.name}:{line} imports {imported} from {found.name}")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected components of more than one module (Tarjan), and self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def without_all(layout: Layout) -> list[str]:
    missing = []
    for module in layout.modules.values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"))
        if not any(isinstance(n, ast.Assign | ast.AnnAssign) and "__all__" in ast.unparse(n).split("=")[0]
                   for n in tree.body):
            missing.append(module.name)
    return missing


def too_long(layout: Layout) -> list[str]:
    return [f"{m.name}: {n} lines" for m in layout.modules.values()
            if (n := len(m.path.read_text(encoding="utf-8").splitlines())) > MAX_LINES]


# ---------------------------------------------------------------------------------------------- the package
LAYOUT = read_layout(PACKAGE)


def test_no_import_circles_of_any_kind() -> None:
    assert cycles(LAYOUT.edges) == []


def test_no_private_name_crosses_a_subpackage_wall() -> None:
    assert LAYOUT.crossings == []


def test_every_module_says_what_it_exports() -> None:
    assert without_all(LAYOUT) == []


def test_no_module_over_400_lines() -> None:
    assert too_long(LAYOUT) == []


def test_the_readme_layout_names_the_tree() -> None:
    """One line per subpackage (and per top-level module) in the README's Layout section, and nothing else."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^- `([\w.]+/?)`", section, flags=re.MULTILINE))
    tree = {p.name + "/" for p in PACKAGE.iterdir()  # (a folder left holding only __pycache__ is not one)
            if p.is_dir() and not p.name.startswith("__") and any(c.name != "__pycache__" for c in p.iterdir())}
    tree |= {p.name for p in PACKAGE.glob("*.py")}
    assert named == tree


# ---------------------------------------------------------------------------- the checker finds each fault
def _package(tmp: Path, files: dict[str, str]) -> Path:
    for name, text in {"pkg/__init__.py": "__all__ = []\n", **files}.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp / "pkg"


@pytest.mark.parametrize("how", ["module level", "inside a function", "under TYPE_CHECKING"])
def test_the_checker_sees_a_circle(tmp_path: Path, how: str) -> None:
    back = {"module level": "from .a import A\n",
            "inside a function": "def f():\n    from .a import A\n",
            "under TYPE_CHECKING": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A\n"}[how]
    pkg = _package(tmp_path, {"pkg/a.py": "__all__ = ['A']\nfrom .b import B\nA = 1\n",
                              "pkg/b.py": "__all__ = ['B']\nB = 2\n" + back})
    assert cycles(read_layout(pkg).edges) == [["pkg.a", "pkg.b"]]


def test_the_checker_sees_a_circle_through_a_subpackage_init(tmp_path: Path) -> None:
    pkg = _package(tmp_path, {"pkg/x/__init__.py": "__all__ = ['X']\nfrom ._impl import X\n",
                              "pkg/x/_impl.py": "__all__ = ['X']\nfrom ..y import Y\nX = 1\n",
                              "pkg/y/__init__.py": "__all__ = ['Y']\nfrom ._impl import Y\n",
                              "pkg/y/_impl.py": "__all__ = ['Y']\nfrom ..x import X\nY = 2\n"})
    assert cycles(read_layout(pkg).edges) == [["pkg.x", "pkg.x._impl", "pkg.y", "pkg.y._impl"]]


def test_the_checker_sees_private_crossings_and_allows_the_rest(tmp_path: Path) -> None:
    pkg = _package(tmp_path, {
        "pkg/_shared.py": "__all__ = ['helper']\ndef helper(): ...\ndef _inner(): ...\n",
        "pkg/x/__init__.py": "__all__ = ['X']\nfrom ._impl import X\n",
        "pkg/x/_impl.py": "__all__ = ['X']\nfrom ._other import _near\nfrom .._shared import helper\nX = 1\n",
        "pkg/x/_other.py": "__all__ = []\n_near = 1\n",
        "pkg/y/__init__.py": "__all__ = []\n",
        "pkg/y/_a.py": "__all__ = []\nfrom ..x._impl import X\n",            # a private module across the wall
        "pkg/y/_b.py": "__all__ = []\nfrom ..x import _impl\n",                 # ... by name
        "pkg/y/_c.py": "__all__ = []\nfrom .._shared import _inner\n",          # a private name of the root
        "pkg/y/_d.py": "__all__ = []\nfrom ..x import X\nfrom .._shared import helper\n",  # allowed
    })
    crossings = read_layout(pkg).crossings
    assert [c.split(":")[0] for c in crossings] == ["_a.py", "_b.py", "_c.py"], crossings


def test_the_checker_sees_a_module_without_all_and_a_long_one(tmp_path: Path) -> None:
    pkg = _package(tmp_path, {"pkg/quiet.py": "X = 1\n", "pkg/long.py": "__all__ = []\n" + "x = 1\n" * 400})
    layout = read_layout(pkg)
    assert without_all(layout) == ["pkg.quiet"]
    assert too_long(layout) == ["pkg.long: 401 lines"]
