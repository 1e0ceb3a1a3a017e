"""The weekly digest's milestone section: a week whose only news is a milestone is not "empty", and the
section sits right after the week's numbers, in both languages and within Slack's limits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.digest.compose import ActivityFacts, compose_weekly
from bot.digest.ui.weekly import weekly_message
from bot.i18n import translator
from bot.milestones.ids import TEAM, MilestoneKind
from bot.milestones.records import Found
from bot.periods import parse_period
from tests.conftest import make_settings
from tests.fakes import blockkit

WEEK = parse_period("weekly", "2026-W45")
FOUND = (
    Found(MilestoneKind.KPI_RECORD, "recruiting_entries", "2026-10", value=35, previous=32),
    Found(MilestoneKind.POSTS_TOTAL, TEAM, "1000", value=1003, previous=990),
)


@pytest.mark.parametrize(
    ("locale", "title"), [("ja", "*:tada: 達成したこと*"), ("en", "*:tada: Milestones*")]
)
def test_a_week_with_only_milestones_is_posted_with_its_section(locale: str, title: str) -> None:
    settings = make_settings(change=lambda raw: raw.update(locale=locale))
    quiet = compose_weekly(ActivityFacts(period=WEEK), min_impressions=100, top_n=5)
    assert quiet.empty
    digest = replace(quiet, milestones=FOUND)
    assert not digest.empty
    message = weekly_message(digest, settings=settings, t=translator(settings.locale), channel="C0MGMT0001")
    blocks = message.blocks_json()
    assert blockkit.message_errors(blocks) is None
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    (section,) = [t for t in texts if t.startswith(title)]
    assert section.count("\n") == 2  # the title and one line per milestone
    # Right after the week's numbers (the fields), before the top posts.
    fields_at = next(i for i, b in enumerate(blocks) if b["type"] == "section" and "fields" in b)
    assert blocks[fields_at + 1]["text"]["text"].startswith(title)
