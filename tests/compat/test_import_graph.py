"""The import contract, checked from the source itself (docs/ARCHITECTURE.md, "import contract").

A small walker reads every module under ``parsl/`` with ``ast`` and collects every import in
it -- at module level, inside functions and methods, under ``if TYPE_CHECKING:`` or ``try:`` --
resolving relative imports, and then asserts:

- no import cycle among parsl's modules (function-level imports included: a deferred import
  that closes a cycle is still a cycle);
- no private module (``parsl._*``) imports a public one;
- ``parsl._htex`` and ``parsl._monitoring`` never import each other;
- no file in ``parsl/`` is longer than 600 lines, and ``parsl/dataflow/dflow.py`` (a thin
  re-export of the kernel) is at most 150;
- ``.importlinter`` names every private package, so import-linter (run by
  ``test_static_checks.py``) does not silently skip a new one.

Each failure lists every offending edge (``importer -> imported (file:line)``) or file.
"""
from __future__ import annotations

import ast
import collections
import configparser
import os
from dataclasses import dataclass

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE_DIR = os.path.join(ROOT, "parsl")
MAX_LINES = 600
MAX_DFLOW_LINES = 150


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    path: str  # relative to the repository root
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = " (in a function)" if self.in_function else ""
        return f"{self.importer} -> {self.imported}  ({self.path}:{self.line}){where}"


def _module_files() -> dict[str, str]:
    """Module name -> file path for every .py file under parsl/."""
    modules = {}
    for dirpath, dirnames, filenames in os.walk(PACKAGE_DIR):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for filename in sorted(filenames):
            if not filename.endswith(".py"):
                continue
            path = os.path.join(dirpath, filename)
            parts = os.path.relpath(path, ROOT)[:-3].split(os.sep)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _function_level_nodes(tree: ast.AST) -> set[int]:
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    inside.add(id(sub))
    return inside


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, modules: dict[str, str]) -> list[str]:
    """The parsl modules an import statement loads (the deepest existing module of each name)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            if node.level > 1:
                base = base[: len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        # ``from pkg import name`` loads pkg.name when that is a module, else pkg itself
        names = [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in modules else prefix
                 for alias in node.names]
    out = []
    for name in names:
        while name and name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in modules:
            out.append(name)
    return out


def collect_edges() -> tuple[dict[str, str], list[Edge]]:
    modules = _module_files()
    edges = []
    for module, path in modules.items():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=path)
        deferred = _function_level_nodes(tree)
        is_package = path.endswith("__init__.py")
        rel = os.path.relpath(path, ROOT)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(module, is_package, node, modules):
                    if target != module:
                        edges.append(Edge(module, target, rel, node.lineno, id(node) in deferred))
    return modules, sorted(set(edges), key=lambda e: (e.importer, e.imported, e.line))


MODULES, EDGES = collect_edges()


def is_private(module: str) -> bool:
    parts = module.split(".")
    return len(parts) > 1 and parts[1].startswith("_") and not parts[1].startswith("__")


def private_packages() -> list[str]:
    return sorted({".".join(m.split(".")[:2]) for m in MODULES if is_private(m)})


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; returns the components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def _one_cycle(first: str, members: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through ``first`` inside one component (breadth-first)."""
    previous = {first: first}
    queue = collections.deque([first])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node] & members):
            if child == first:
                path = [node]
                while path[-1] != first:
                    path.append(previous[path[-1]])
                return list(reversed(path)) + [first]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return [first]


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    by_pair: dict[tuple[str, str], list[Edge]] = collections.defaultdict(list)
    for edge in EDGES:
        graph[edge.importer].add(edge.imported)
        by_pair[(edge.importer, edge.imported)].append(edge)
    components = _strongly_connected(graph)
    report = []
    for component in components:
        cycle = _one_cycle(component[0], set(component), graph)
        report.append(f"cycle of {len(component)} modules: {', '.join(component)}")
        report.append("  for example:")
        for a, b in zip(cycle, cycle[1:]):
            report.append(f"    {by_pair[(a, b)][0]}")
    if components:
        pytest.fail("import cycles among parsl modules:\n" + "\n".join(report), pytrace=False)


def test_private_modules_import_no_public_module():
    bad = [e for e in EDGES if is_private(e.importer) and not is_private(e.imported)]
    if bad:
        pytest.fail(f"{len(bad)} imports from a private module (parsl._*) to a public one (move the shared "
                    "piece into a private module and re-export it publicly):\n"
                    + "\n".join(f"  {e}" for e in bad), pytrace=False)


def test_htex_and_monitoring_never_import_each_other():
    def inside(module: str, package: str) -> bool:
        return module == package or module.startswith(package + ".")
    bad = [e for e in EDGES
           if (inside(e.importer, "parsl._htex") and inside(e.imported, "parsl._monitoring"))
           or (inside(e.importer, "parsl._monitoring") and inside(e.imported, "parsl._htex"))]
    if bad:
        pytest.fail("parsl._htex and parsl._monitoring import each other (what both need belongs below "
                    "both):\n" + "\n".join(f"  {e}" for e in bad), pytrace=False)


def _line_count(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        return sum(1 for _ in f)


def test_no_file_in_parsl_over_600_lines():
    too_long = sorted((_line_count(p), os.path.relpath(p, ROOT)) for p in MODULES.values()
                      if _line_count(p) > MAX_LINES)
    if too_long:
        pytest.fail(f"files in parsl/ longer than {MAX_LINES} lines:\n"
                    + "\n".join(f"  {path}: {n} lines" for n, path in reversed(too_long)), pytrace=False)


def test_dflow_is_a_thin_re_export():
    n = _line_count(MODULES["parsl.dataflow.dflow"])
    if n > MAX_DFLOW_LINES:
        pytest.fail(f"parsl/dataflow/dflow.py has {n} lines; it should only re-export the kernel from "
                    f"parsl._core (at most {MAX_DFLOW_LINES} lines)", pytrace=False)


def _importlinter_contracts() -> dict[str, configparser.SectionProxy]:
    config = configparser.ConfigParser()
    if not config.read(os.path.join(ROOT, ".importlinter")):
        pytest.fail(".importlinter is missing from the repository root")
    prefix = "importlinter:contract:"
    return {name[len(prefix):]: config[name] for name in config.sections() if name.startswith(prefix)}


def test_importlinter_contracts_name_every_private_package():
    contracts = _importlinter_contracts()
    listed = set(contracts["private-imports-private"]["source_modules"].split())
    layered = set(contracts["private-layers"]["layers"].replace("|", " ").replace("(", " ")
                  .replace(")", " ").split())
    missing_source = [p for p in private_packages() if p not in listed]
    missing_layer = [p for p in private_packages() if p not in layered]
    if missing_source or missing_layer:
        pytest.fail("private packages that .importlinter does not check -- add them to "
                    f"[private-imports-private] source_modules: {missing_source}; "
                    f"to a layer of [private-layers]: {missing_layer}", pytrace=False)
