"""The package's module graph has no cycle, counting imports inside functions too (a lazy import hides a
cycle from Python, not from a reader), and no module imports another module's private names."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "itdeploy_lite"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(modules: dict[str, Path]):
    """(module, imported module, imported names) for every ``itdeploy_lite`` import, at any depth."""
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("itdeploy_lite"):
                        yield name, alias.name, ()
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                if base.startswith("itdeploy_lite"):
                    for alias in node.names:  # `from pkg import submodule` depends on the submodule
                        full = f"{base}.{alias.name}"
                        yield name, (full if full in modules else base), (alias.name,)


def _owner(target: str, modules: dict[str, Path]) -> str:
    while target not in modules:
        target = target.rpartition(".")[0]
    return target


def test_no_import_cycle():
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for source, target, _ in _imports(modules):
        owner = _owner(target, modules)
        if owner != source:
            graph[source].add(owner)
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_no_module_imports_private_names_of_another():
    modules = _modules()
    private = [(source, target, n) for source, target, names in _imports(modules) for n in names
               if n.startswith("_") and _owner(target, modules) != source]
    assert private == []
