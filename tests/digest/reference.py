"""The digests' post questions answered the slow, obvious way: from every post of the period.

The store answers them in SQL (``bot.digest.facts._POST_AUTHORS`` / ``_BEST_POSTS``); tests build
:class:`ActivityFacts` from plain post lists with :func:`post_facts` and check the store against it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from bot.digest.compose import AuthorFact, PostFact


def post_facts(posts: Sequence[PostFact]) -> dict[str, Any]:
    """``ActivityFacts`` fields for ``posts``: every post is a candidate, authors counted here."""
    counts = Counter(p.author for p in posts if p.author is not None)
    first = {}
    for post in sorted(posts, key=lambda p: p.published_at):
        if post.author is not None:
            first.setdefault(post.author, post.published_at)
    return {
        "posts_published": len(posts),
        "best_posts": tuple(posts),
        "authors": tuple(AuthorFact(a, n, first[a]) for a, n in counts.items()),
    }


def shout_outs_by_hand(posts: Iterable[PostFact], requesters: Iterable[str]) -> tuple[str, ...]:
    """The digest's shout-out list from every post: Slack users among the authors in publishing
    order, then the requesters; most entries first, ties in the order first seen."""
    items = [
        p.author
        for p in sorted(posts, key=lambda p: (p.published_at, p.author or ""))
        if p.author
        and p.author[0] in "UW"
        and p.author.isalnum()
        and p.author.isupper()
        and len(p.author) > 2
    ]
    items += [r for r in requesters if r]
    counts = Counter(items)
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(item, index)
    return tuple(sorted(counts, key=lambda v: (-counts[v], first_seen[v])))
