"""The apps' import graph: no cycles, and every import points down the stack.

Read from the source with ``ast``, so an import inside a function counts as much as one at
the top of a module: a lazy import hides a cycle from Python, not from the reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lowest first: an app may import the apps before it, never one after it.
APPS = ("core", "inventory", "oms", "fulfilment", "returns", "omnichannel")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    return {
        _module_name(path): path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    }


def _imported(node: ast.AST, module: str, is_package: bool, known: dict[str, Path]) -> set[str]:
    """The project modules one import statement loads, the packages on their way included."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            package = module if is_package else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{node.module}" if node.module else package
        else:
            base = node.module or ""
        names = [base] + [f"{base}.{alias.name}" for alias in node.names]
    else:
        return set()
    found = set()
    for name in names:
        parts = name.split(".")
        found.update(".".join(parts[:n]) for n in range(1, len(parts) + 1) if ".".join(parts[:n]) in known)
    return found


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports anywhere in its source, inside functions too.

    Imports under ``if TYPE_CHECKING:`` are left out: they name types for annotations and never run.
    """
    known = _sources()
    graph = {}
    for module, path in known.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), filename=str(path))
        for block in [n for n in ast.walk(tree) if _type_checking_only(n)]:
            block.body = []
        graph[module] = {target for node in ast.walk(tree) for target in _imported(node, module, is_package, known)} - {
            module
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], set()
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.add(frozenset(component))
    return found


def _app(module: str) -> str:
    return module.split(".", 1)[0]


def test_no_module_imports_one_that_imports_it_back():
    found = cycles(import_graph())

    assert found == set(), "modules that import one another"


def test_apps_import_only_the_apps_below_them():
    rank = {app: n for n, app in enumerate(APPS)}
    upward = {
        (module, target)
        for module, targets in import_graph().items()
        for target in targets
        if rank[_app(target)] > rank[_app(module)]
    }

    assert upward == set(), "imports up the stack"


def test_selectors_never_import_services():
    graph = import_graph()

    assert {
        (module, target)
        for module, targets in graph.items()
        if "selectors" in module
        for target in targets
        if "services" in target
    } == set()
