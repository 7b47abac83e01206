"""The layers of `cases/` and `pickups/` (docs/architecture.md, "Layers"): read from the source with `ast`.

- no import cycle among the domain modules (module-level imports; a package's `__init__` imports its modules);
- the domain never imports a presentation or an interface module (web pages, the API, presenters, views,
  forms, admin) nor a Celery tasks module: tasks are queued through `cases/effects.py` / `pickups/effects.py`;
- no import inside a function in the domain (none left to dodge a circle);
- every tasks module is imported by its app's `ready()` (so `effects` finds its tasks by name).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cases", "pickups")

# The interface and presentation layers: everything else of `cases` and `pickups` is the domain.
INTERFACE_PARTS = {"web", "api", "presenters", "views", "forms", "admin", "urls", "templatetags", "management",
                   "migrations", "tasks", "staff", "merchant", "assistant", "webhooks", "apps",
                   "live"}
# The modules no domain module may import (a name's last parts).
FORBIDDEN_PARTS = {"web", "api", "presenters", "views", "forms", "admin", "urls", "templatetags", "tasks",
                   "webhooks", "live"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _all_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            found[_module_name(path)] = path
    return found


MODULES = _all_modules()


def is_domain(name: str) -> bool:
    return not (set(name.split(".")[1:]) & INTERFACE_PARTS)


def _resolve(module: str, path: Path, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The project modules an import statement names."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] in PACKAGES]
    if node.level:
        base = module.split(".")
        if path.name != "__init__.py":
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] not in PACKAGES:
        return []
    names = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        names.append(sub if sub in MODULES else target)
    return names


def _imports(module: str) -> tuple[set[str], list[tuple[int, str]]]:
    """(the project modules imported at module level, [(line, module) of imports inside functions])."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    top: set[str] = set()
    inner: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                if in_function:
                    inner.append((child.lineno, ast.unparse(child)))
                else:
                    top.update(_resolve(module, path, child))
            elif isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
                continue  # imports for the type checker only
            else:
                visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(tree, False)
    return top, inner


def domain_graph() -> dict[str, set[str]]:
    graph = {}
    for module in MODULES:
        if is_domain(module):
            graph[module] = {m for m in _imports(module)[0] if m in MODULES and is_domain(m) and m != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
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

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_the_domain_is_what_the_architecture_says() -> None:
    domain = {m for m in MODULES if is_domain(m)}
    for name in ("cases.lifecycle", "cases.models", "cases.policy", "cases.services", "cases.services.apply",
                 "cases.services.inputs", "cases.refunds", "cases.sweep", "cases.bulk", "cases.notifications",
                 "cases.services.money", "cases.events", "cases.effects", "pickups.services", "pickups.selectors",
                 "pickups.effects", "pickups.sweep"):
        assert name in domain, name
    for name in ("cases.tasks", "cases.api", "cases.web.presenters", "pickups.tasks", "pickups.api"):
        assert name not in domain, name


def test_no_import_cycle_among_the_domain_modules() -> None:
    assert cycles(domain_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_domain_never_imports_an_interface_or_a_tasks_module() -> None:
    bad = []
    for module in MODULES:
        if not is_domain(module):
            continue
        for imported in _imports(module)[0]:
            if set(imported.split(".")[1:]) & FORBIDDEN_PARTS:
                bad.append(f"{module} imports {imported}")
    assert bad == []


def test_no_function_level_import_in_the_domain() -> None:
    inner = {m: _imports(m)[1] for m in MODULES if is_domain(m)}
    assert {m: lines for m, lines in inner.items() if lines} == {}


def test_every_tasks_module_is_imported_by_its_apps_ready() -> None:
    tasks = sorted(m for m in MODULES if m.split(".")[-1] == "tasks")
    assert {"cases.tasks", "pickups.tasks", "cases.merchant.tasks"} <= set(tasks)
    for module in tasks:
        apps = MODULES[module].parent / "apps.py"
        imported: set[str] = set()
        for node in ast.walk(ast.parse(apps.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "ready":
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        imported.update(_resolve(_module_name(apps), apps, inner))
        assert module in imported, module
