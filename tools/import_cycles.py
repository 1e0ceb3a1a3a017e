"""Prints the import cycles of ``bot/`` and exits 1 when there is one (a CI check; reads source only).

Every import counts: at module level, inside functions, and under ``if TYPE_CHECKING:`` (a cycle
hidden in a function or behind TYPE_CHECKING is still two modules that cannot be understood, tested
or moved apart). ``--packages`` also collapses modules into their top-level package (``bot.review``,
``bot.kpi``, …) and prints the cycles between packages, e.g. two features reading each other.

Usage::

    python -m tools.import_cycles [ROOT] [--packages] [--edges] [--skip-type-checking]
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

PACKAGE = "bot"


def module_files(root: Path) -> dict[str, Path]:
    """Every module of the package under ``root``, by dotted name (a package is its ``__init__``)."""
    modules: dict[str, Path] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _type_checking_lines(tree: ast.AST) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            ):
                ranges.append((node.lineno, node.end_lineno or node.lineno))
    return ranges


def _imported_names(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The dotted names ``node`` imports (``from a import b`` may be module ``a.b`` or a name in ``a``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is one of ``modules`` (``bot.config.Settings`` → ``bot.config``)."""
    parts = name.split(".")
    while parts and ".".join(parts) not in modules:
        parts.pop()
    return ".".join(parts) or None


def import_graph(root: Path, *, type_checking: bool = True) -> dict[str, set[str]]:
    """Module → the modules of the package it imports (anywhere in its source)."""
    modules = module_files(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skip = [] if type_checking else _type_checking_lines(tree)
        for node in ast.walk(tree):
            line = getattr(node, "lineno", -1)
            if any(start <= line <= end for start, end in skip):
                continue
            for imported in _imported_names(node, name, path.name == "__init__.py"):
                if imported != PACKAGE and not imported.startswith(PACKAGE + "."):
                    continue
                target = _resolve(imported, modules)
                if target is not None and target not in (name, PACKAGE):
                    graph[name].add(target)
    return graph


def collapse(graph: Mapping[str, set[str]], depth: int = 2) -> dict[str, set[str]]:
    """The graph between packages: ``bot.review.ui`` → ``bot.review`` (``depth`` dotted parts)."""
    out: dict[str, set[str]] = {}
    for source, targets in graph.items():
        top = ".".join(source.split(".")[:depth])
        out.setdefault(top, set())
        for target in targets:
            other = ".".join(target.split(".")[:depth])
            if other != top:
                out[top].add(other)
                out.setdefault(other, set())
    return out


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop(0)
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.import_cycles", description=__doc__.split("\n")[0])
    parser.add_argument("root", nargs="?", default=".", type=Path, help="the repository (default: .)")
    parser.add_argument("--packages", action="store_true", help="also print cycles between packages")
    parser.add_argument("--edges", action="store_true", help="print every module's imports")
    parser.add_argument(
        "--skip-type-checking", action="store_true", help="ignore imports under `if TYPE_CHECKING:`"
    )
    args = parser.parse_args(argv)
    graph = import_graph(args.root, type_checking=not args.skip_type_checking)
    if args.edges:
        for module in sorted(graph):
            print(module, "->", ", ".join(sorted(graph[module])) or "-")
    found = [("module", graph, c) for c in cycles(graph)]
    if args.packages:
        packages = collapse(graph)
        found += [("package", packages, c) for c in cycles(packages)]
    for kind, edges, component in found:
        print(f"{kind} cycle: {', '.join(component)} import each other:")
        for source in component:  # the arrows inside the group: one of them has to go
            for target in sorted(edges[source] & set(component)):
                print(f"  {source} -> {target}")
    if not found:
        print("no import cycle in bot/")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
