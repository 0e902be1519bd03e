"""The dependency rules of the code base, checked on its imports (read with ast, nothing is imported).

- glimpse.rules imports nothing of the project outside glimpse.rules;
- glimpse.store never imports glimpse.market;
- api, auxiliar and operational_server import glimpse and never each other;
- glimpse imports none of api, auxiliar and operational_server;
- the operational_server modules have no import cycle at module level (an
  import inside a function, or under `if TYPE_CHECKING:`, runs later or never,
  so it does not count there).

Every import counts for the layer rules, wherever it sits (a function, a
TYPE_CHECKING block): a lazy import is still a dependency. The tests of the
checker at the end write a forbidden import into a copy of the tree and show
that it is reported, so these tests can fail.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("api", "auxiliar", "operational_server")
PROJECT = ("glimpse", *SERVICES)
MAX_GLIMPSE_ENTRIES = 8


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    # Runs when the importer is imported: not inside a function, not under TYPE_CHECKING.
    at_import_time: bool


@dataclass(frozen=True)
class Rule:
    name: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()


RULES = (
    Rule(
        "glimpse.rules imports nothing else of the project", ("glimpse.rules",), PROJECT, ("glimpse.rules",)
    ),
    Rule("glimpse.store never imports glimpse.market", ("glimpse.store",), ("glimpse.market",)),
    Rule("glimpse imports no service package", ("glimpse",), SERVICES),
    *(
        Rule(f"{service} imports no other service", (service,), tuple(s for s in SERVICES if s != service))
        for service in SERVICES
    ),
)


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: set[str]) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.known = known
        self.deferred = 0  # depth of function bodies and TYPE_CHECKING blocks around the node
        self.found: list[Import] = []

    def _add(self, imported: str, node: ast.stmt) -> None:
        self.found.append(Import(self.module, imported, node.lineno, self.deferred == 0))

    def _deferred(self, node: ast.AST) -> None:
        self.deferred += 1
        self.generic_visit(node)
        self.deferred -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _deferred

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.deferred += 1
        for child in node.body:
            self.visit(child)
        self.deferred -= 1
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base_parts = self.package.split(".")
            base_parts = base_parts[: len(base_parts) - (node.level - 1)]
            base = ".".join([*base_parts, *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        for alias in node.names:
            # `from pkg import mod` depends on the module pkg.mod when there is one.
            candidate = f"{base}.{alias.name}"
            self._add(candidate if candidate in self.known else base, node)


def collect_imports(root: Path, packages: tuple[str, ...] = PROJECT) -> list[Import]:
    """Every import statement in the packages under `root`."""
    files = [
        path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
        if "__pycache__" not in path.parts
    ]
    known = {_module_name(root, path) for path in files}
    found: list[Import] = []
    for path in files:
        visitor = _ImportVisitor(_module_name(root, path), path.name == "__init__.py", known)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found.extend(visitor.found)
    return found


def rule_violations(imports: list[Import], rules: tuple[Rule, ...] = RULES) -> list[str]:
    return [
        f"{rule.name}: {imp.importer} (line {imp.line}) imports {imp.imported}"
        for rule in rules
        for imp in imports
        if _within(imp.importer, rule.importers)
        and _within(imp.imported, rule.forbidden)
        and not _within(imp.imported, rule.allowed)
    ]


def import_cycles(imports: list[Import], package: str) -> list[list[str]]:
    """The strongly connected components (Tarjan) of more than one module, or a module importing itself."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.at_import_time and _within(imp.importer, (package,)) and _within(imp.imported, (package,)):
            graph.setdefault(imp.importer, set()).add(imp.imported)
            graph.setdefault(imp.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


# The rules on the code base -------------------------------------------------------------------


def test_the_checker_reads_the_imports_of_every_package():
    imports = collect_imports(REPO)
    importers = {imp.importer.partition(".")[0] for imp in imports}
    assert importers == set(PROJECT)
    # the services do depend on the core, and the checker sees it
    for service in SERVICES:
        assert any(
            imp.importer.startswith(service) and _within(imp.imported, ("glimpse",)) for imp in imports
        )


def test_the_dependency_rules_hold():
    assert rule_violations(collect_imports(REPO)) == []


def test_operational_server_modules_have_no_import_cycle():
    assert import_cycles(collect_imports(REPO), "operational_server") == []


def top_level_entries(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "glimpse").iterdir() if p.name != "__pycache__")


def test_glimpse_has_at_most_eight_top_level_entries():
    entries = top_level_entries(REPO)
    assert len(entries) <= MAX_GLIMPSE_ENTRIES, entries


# Tests of the checker: a forbidden import in a copy of the tree is reported ---------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the project's packages, to add modules to."""
    for package in PROJECT:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


FORBIDDEN = [
    ("glimpse/rules/_probe.py", "from glimpse.store import db\n", "glimpse.rules imports nothing else"),
    ("glimpse/rules/_probe.py", "from ..runtime import clock\n", "glimpse.rules imports nothing else"),
    ("glimpse/rules/_probe.py", "import api\n", "glimpse.rules imports nothing else"),
    ("glimpse/store/_probe.py", "from glimpse.market.base import Broker\n", "glimpse.store never imports"),
    (
        "glimpse/store/_probe.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from glimpse import market\n",
        "glimpse.store never imports",
    ),
    ("glimpse/runtime/_probe.py", "def later():\n    import auxiliar.lister\n", "glimpse imports no service"),
    ("api/_probe.py", "from operational_server import service\n", "api imports no other service"),
    ("auxiliar/_probe.py", "import api.service\n", "auxiliar imports no other service"),
    (
        "operational_server/_probe.py",
        "from auxiliar.lister import service\n",
        "operational_server imports no",
    ),
]


@pytest.mark.parametrize(("path", "source", "rule"), FORBIDDEN)
def test_a_forbidden_import_is_reported(tree: Path, path: str, source: str, rule: str):
    assert rule_violations(collect_imports(tree)) == []
    (tree / path).write_text(source)
    violations = rule_violations(collect_imports(tree))
    module = path.removesuffix(".py").replace("/", ".")
    # the probe breaks the rule named (and possibly a broader one too), and nothing else is reported
    assert any(v.startswith(rule) for v in violations), violations
    assert violations and all(f" {module} (line " in v for v in violations), violations


def test_an_allowed_import_is_not_reported(tree: Path):
    (tree / "glimpse/rules/_probe.py").write_text(
        "import math\nfrom glimpse.rules import money\nfrom . import stops\n"
    )
    (tree / "api/_probe.py").write_text("from glimpse.store import db\n")
    assert rule_violations(collect_imports(tree)) == []


def test_a_module_level_cycle_is_reported(tree: Path):
    (tree / "operational_server/_probe_a.py").write_text("from operational_server import _probe_b\n")
    (tree / "operational_server/_probe_b.py").write_text("from ._probe_a import X\n")
    assert import_cycles(collect_imports(tree), "operational_server") == [
        ["operational_server._probe_a", "operational_server._probe_b"]
    ]


@pytest.mark.parametrize(
    "deferred",
    [
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ._probe_a import X\n",
        "import typing\nif typing.TYPE_CHECKING:\n    from ._probe_a import X\n",
        "def later():\n    from ._probe_a import X\n",
    ],
)
def test_a_cycle_closed_by_a_deferred_import_is_not_a_cycle(tree: Path, deferred: str):
    (tree / "operational_server/_probe_a.py").write_text("from operational_server import _probe_b\n")
    (tree / "operational_server/_probe_b.py").write_text(deferred)
    assert import_cycles(collect_imports(tree), "operational_server") == []


def test_top_level_entries_count_modules_and_folders_but_not_pycache(tree: Path):
    before = top_level_entries(tree)
    (tree / "glimpse" / "__pycache__").mkdir(exist_ok=True)
    (tree / "glimpse" / "_probe.py").write_text("")
    (tree / "glimpse" / "_probe_pkg").mkdir()
    assert top_level_entries(tree) == sorted([*before, "_probe.py", "_probe_pkg"])
