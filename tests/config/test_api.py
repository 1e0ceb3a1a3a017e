"""``bot.config``'s public API is exactly what the rest of the code imports from it (httpx's
exported-members test, turned around): a name nobody imports is not public, and a name somebody
imports is not reached through a section module the package may reorganise."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import bot.config

ROOT = Path(__file__).resolve().parents[2]
CONSUMERS = ("bot", "tests", "bench", "migrations")


def _imported_from_package() -> dict[str, list[str]]:
    """Each name imported ``from bot.config`` outside the package, with where."""
    names: dict[str, list[str]] = {}
    for folder in CONSUMERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel.parts[:2] == ("bot", "config") or path == Path(__file__).resolve():
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "bot.config":
                    for alias in node.names:
                        names.setdefault(alias.name, []).append(str(rel))
                # The scan reads ``from bot.config import X`` only; a module import would hide X.
                if isinstance(node, ast.Import):
                    assert all(a.name != "bot.config" for a in node.names), f"{rel}: import bot.config"
                if isinstance(node, ast.ImportFrom) and node.module == "bot":
                    assert all(a.name != "config" for a in node.names), f"{rel}: from bot import config"
    return names


def test_all_is_exactly_what_other_modules_import() -> None:
    used = _imported_from_package()
    assert sorted(bot.config.__all__) == sorted(used), (
        "bot.config.__all__ must list exactly the names imported from bot.config; "
        f"imported but not exported: {sorted(set(used) - set(bot.config.__all__))}; "
        f"exported but imported nowhere: {sorted(set(bot.config.__all__) - set(used))}"
    )


def test_every_public_name_of_the_package_is_in_all() -> None:
    public = {
        name
        for name, value in vars(bot.config).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert public == set(bot.config.__all__)


def _isort_key(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions (isort's order, as ruff's RUF022 sorts ``__all__``)."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_without_duplicates() -> None:
    assert len(set(bot.config.__all__)) == len(bot.config.__all__)
    assert list(bot.config.__all__) == sorted(bot.config.__all__, key=_isort_key)
