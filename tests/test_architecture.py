"""The package layout's rules, read from the source: imports go one way, and nowhere round in a circle."""
from __future__ import annotations

import ast
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PACKAGES = ("robot", "recognizer", "tablebot")
# What the recognizer must never import: it reads pictures and knows nothing of browsers, schedulers or web apps.
NOT_FOR_THE_RECOGNIZER = ("robot", "selenium", "apscheduler", "flask", "werkzeug", "sqlalchemy")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (PROJECT / package).rglob("*.py"):
            name = ".".join(path.relative_to(PROJECT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def project_graph() -> dict[str, set[str]]:
    mods = modules()

    def owner(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in mods.items():
        targets = {owner(t) for t in imported(path) if t.split(".")[0] in PACKAGES}
        # `from robot.x import y` names the package `robot` on the way: not an edge to it.
        graph[name] = {t for t in targets if t and t != name and t not in PACKAGES}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_the_projects_modules():
    graph = project_graph()
    assert len(graph) > 40  # the walk found the tree
    assert cycles(graph) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_recognizer_imports_nothing_of_the_robot_or_its_libraries():
    bad = {name: sorted(t for t in imported(path) if t.split(".")[0] in NOT_FOR_THE_RECOGNIZER)
           for name, path in modules().items() if name.startswith("recognizer")}
    assert {name: found for name, found in bad.items() if found} == {}


def test_the_shared_package_imports_neither_the_robot_nor_the_recognizer():
    bad = {name: sorted(t for t in imported(path) if t.split(".")[0] in ("robot", "recognizer"))
           for name, path in modules().items() if name.startswith("tablebot")}
    assert {name: found for name, found in bad.items() if found} == {}


def test_commands_live_in_their_own_modules():
    """Only robot/commands/ and the recognizer's CLI modules define click commands."""
    allowed = ("robot.commands", "robot.cli", "recognizer.cli", "recognizer.read_cli", "recognizer.training.cli",
               "tablebot.cli")
    with_click = [name for name, path in modules().items()
                  if "click" in {t.split(".")[0] for t in imported(path)} and not name.startswith(allowed)]
    assert with_click == []
