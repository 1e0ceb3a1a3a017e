"""Migration 0014 on a store that "Mark as published" filled before: the review's URL-keyed row and
the imported row of the same post become one row (the measured one, with the requester and the review
link); a URL-keyed X post gets its status id; a post only a review knows stays as it is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from bot import db

NOW = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)
ALICE = "U0ALICE01"

_POST = (
    "INSERT INTO post (id, account_key, platform, external_id, url, text, published_at, author,"
    " review_request_id, source, created_at, likes)"
    " VALUES (:id, :account, :platform, :ext, :url, :text, :at, :author, :review, :source, :at, :likes)"
)


def _post(**values: Any) -> dict[str, Any]:
    return {"author": None, "review": None, "text": "", "likes": None, "at": NOW, **values}


async def _seed(url: str) -> None:
    engine = db.make_engine(url)
    try:
        async with engine.begin() as conn:
            for key, platform in (("x_corp", "x"), ("ig_recruit", "instagram"), ("note_corp", "note")):
                await conn.execute(
                    text("INSERT INTO account (key, platform, handle) VALUES (:k, :p, '')"),
                    {"k": key, "p": platform},
                )
            reel = "https://www.instagram.com/reel/Ddr9jGEmLMp/"
            status = "https://twitter.com/example_corp/status/1860000000000000001"
            rows = [
                # Instagram: review row keyed by URL + the Meta export's row of the same post.
                _post(
                    id=1,
                    account="ig_recruit",
                    platform="instagram",
                    ext=reel,
                    url=reel,
                    text="冬",
                    author=ALICE,
                    review=7,
                    source="review",
                ),
                _post(
                    id=2,
                    account="ig_recruit",
                    platform="instagram",
                    ext="18182686576415017",
                    url="https://www.instagram.com/p/Ddr9jGEmLMp/",
                    author="example_recruit",
                    likes=40,
                    source="import",
                ),
                # X: a review row keyed by URL that no export has reported yet.
                _post(
                    id=3,
                    account="x_corp",
                    platform="x",
                    ext=status,
                    url=status,
                    author=ALICE,
                    review=8,
                    source="review",
                ),
                # note: no platform id in its URLs; nothing to merge with.
                _post(
                    id=4,
                    account="note_corp",
                    platform="note",
                    ext="https://note.com/e/n/n1",
                    url="https://note.com/e/n/n1",
                    author=ALICE,
                    review=9,
                    source="review",
                ),
                # A generic import keyed an X post by its URL; the X export stored it again by id.
                _post(
                    id=5,
                    account="x_corp",
                    platform="x",
                    ext="https://x.com/example_corp/status/1870000000000000005",
                    url="https://x.com/example_corp/status/1870000000000000005",
                    source="import",
                    likes=1,
                ),
                _post(
                    id=6,
                    account="x_corp",
                    platform="x",
                    ext="1870000000000000005",
                    url="https://x.com/example_corp/status/1870000000000000005",
                    author="example_corp",
                    source="import",
                    likes=2,
                ),
                # …and another it keyed by URL only.
                _post(
                    id=7,
                    account="x_corp",
                    platform="x",
                    ext="https://x.com/example_corp/status/1870000000000000007",
                    url="https://x.com/example_corp/status/1870000000000000007",
                    source="import",
                ),
            ]
            for row in rows:
                await conn.execute(text(_POST), row)
            await conn.execute(
                text(
                    "INSERT INTO metric_snapshot (post_id, captured_at, source, likes) VALUES (2, :at, 'import', 40)"
                ),
                {"at": NOW},
            )
    finally:
        await engine.dispose()


async def _rows(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    engine = db.make_engine(url)
    try:
        async with engine.connect() as conn:
            posts = (
                await conn.execute(
                    text(
                        "SELECT id, external_id, author, review_request_id, likes, text FROM post ORDER BY id"
                    )
                )
            ).all()
            snapshots = (await conn.execute(text("SELECT post_id, likes FROM metric_snapshot"))).all()
        return [tuple(p) for p in posts], [tuple(s) for s in snapshots]
    finally:
        await engine.dispose()


def test_duplicates_become_one_post_with_the_requester(unmigrated_db_url: str) -> None:
    db.upgrade(unmigrated_db_url, "0009")
    asyncio.run(_seed(unmigrated_db_url))

    db.upgrade(unmigrated_db_url)

    posts, snapshots = asyncio.run(_rows(unmigrated_db_url))
    assert posts == [
        (2, "18182686576415017", ALICE, 7, 40, "冬"),
        (3, "1860000000000000001", ALICE, 8, None, ""),
        (4, "https://note.com/e/n/n1", ALICE, 9, None, ""),
        (6, "1870000000000000005", "example_corp", None, 2, ""),
        (7, "1870000000000000007", None, None, None, ""),
    ]
    assert snapshots == [(2, 40)]


def test_the_migration_does_not_import_the_apps_permalink_rules() -> None:
    """A migration does what it did when written: it carries its own copy of the URL rules it
    uses, so a later change to ``bot.kpi.permalinks`` cannot change what it merged."""
    import ast
    from pathlib import Path

    path = next(Path(__file__).parents[2].glob("migrations/versions/*_0014-*.py"))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {name for name in imported if name and name.startswith("bot")}, imported
