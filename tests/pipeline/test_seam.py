"""The operational server's modules depend on each other one way: no import cycle, not even for type hints."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "operational_server"


def imports_of(path: Path) -> set[str]:
    """Every operational_server module `path` imports, including under TYPE_CHECKING."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "operational_server":
                found.update(f"operational_server.{a.name}" for a in node.names)
            elif node.module.startswith("operational_server."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("operational_server."))
    return found


def graph() -> dict[str, set[str]]:
    return {f"operational_server.{p.stem}": imports_of(p) for p in PACKAGE.glob("*.py")}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_operational_server_modules_import_each_other_one_way():
    edges = graph()
    assert "operational_server.cycle" in edges["operational_server.session"]
    assert find_cycle(edges) is None, f"import cycle: {find_cycle(edges)}"


def test_the_cycle_does_not_know_the_session():
    # The cycle needs the broker calls and the reconciler, never the session that runs it.
    assert imports_of(PACKAGE / "cycle.py") <= {"operational_server.orders", "operational_server.reconcile"}
    assert "operational_server.session" not in imports_of(PACKAGE / "reconcile.py") | imports_of(
        PACKAGE / "orders.py"
    )
