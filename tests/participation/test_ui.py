"""Participation's Block Kit and text in both languages (pure): valid blocks, nobody shamed by name."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.i18n import translator
from bot.participation.ids import SectionMode
from bot.participation.records import HomePart, ManagerPart, ParticipationSummary
from bot.participation.ui import digest_section, home_section, nudge_message, snoozed_message, weekly_note
from bot.periods import parse_period
from bot.runtime.ports import RecentWins, WinBrief
from tests.fakes.blockkit import message_errors

SUMMARY = ParticipationSummary(
    managers=(
        ManagerPart("U1", decisions=2, median_decide_hours=1.5, reactions=1),
        ManagerPart("U2"),
        ManagerPart("U3"),
    ),
    requests=4,
    requesters=2,
    wins=1,
    median_decide_hours=1.5,
)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_named_thanks_participants_and_only_counts_the_others(locale: str) -> None:
    t = translator(locale)  # type: ignore[arg-type]
    section = digest_section(SUMMARY, mode=SectionMode.NAMED, t=t)
    assert section is not None
    text = "\n".join(section[1])
    assert "<@U1>" in text and "<@U2>" not in text and "<@U3>" not in text
    assert t("participation.digest.others", count=2) in section[1]
    counts = digest_section(SUMMARY, mode=SectionMode.COUNTS, t=t)
    assert counts is not None and not any("<@" in line for line in counts[1])
    assert digest_section(SUMMARY, mode=SectionMode.OFF, t=t) is None
    assert digest_section(ParticipationSummary(()), mode=SectionMode.NAMED, t=t) is None


def test_the_rate_line_in_japanese() -> None:
    section = digest_section(SUMMARY, mode=SectionMode.NAMED, t=translator("ja"))
    assert section is not None
    assert section[1][0] == "参加率: 33%（管理職 3 名中 1 名が参加）"
    assert weekly_note(reacted=2, total=5, t=translator("ja")) == (
        "先週は管理職 5 名中 2 名がリアクションしてくださいました。ありがとうございます。"
    )
    assert weekly_note(reacted=0, total=0, t=translator("ja")) is None


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_nudge_is_valid_block_kit_with_two_win_lines_and_escaped_text(locale: str) -> None:
    t = translator(locale)  # type: ignore[arg-type]
    wins = RecentWins(
        wins=(WinBrief("<!channel> 採用 40 件", "https://x/1"), WinBrief("再生 1 万回", None)),
        total=5,
        url="https://slack.com/archives/C1/p1",
    )
    message = nudge_message(user_id="U2", wins=wins, slot="w3", t=t)
    blocks = message.blocks_json()
    assert message_errors(blocks) is None
    body = blocks[1]["text"]["text"]
    assert "&lt;!channel&gt;" in body and "<!channel>" not in body
    assert body.count("\n• ") == 2
    actions = blocks[2]["elements"]
    assert actions[0]["url"] == "https://slack.com/archives/C1/p1"
    assert actions[1]["value"] == "w3"
    empty = nudge_message(user_id="U2", wins=RecentWins(), slot="w3", t=t)
    assert [e["action_id"] for e in empty.blocks_json()[2]["elements"]] == ["participation.snooze"]
    assert message_errors(snoozed_message(day=date(2026, 11, 23), t=t).blocks_json()) is None


@pytest.mark.parametrize("nudges_on", [True, False])
def test_the_home_section_shows_own_part_team_rate_and_the_switch(nudges_on: bool) -> None:
    t = translator("ja")
    part = HomePart(
        period=parse_period("monthly", "2026-11"),
        mine=ManagerPart("U2"),
        team_rate=50.0,
        team_took_part=1,
        team_size=2,
        nudges_on=nudges_on,
        feature_on=True,
    )
    blocks = [b.to_dict() for b in home_section(part, t)]
    assert message_errors(blocks) is None
    assert "チーム全体: 管理職の参加率 50%（2 名中 1 名）" in blocks[0]["text"]["text"]
    switch = blocks[1]["accessory"]["action_id"]
    assert switch == ("participation.nudges_off" if nudges_on else "participation.nudges_on")
    # Admins turned the feature off: the section says so and offers no switch.
    off = [b.to_dict() for b in home_section(replace(part, feature_on=False), t)]
    assert off[1]["elements"][0]["text"] == "参加のお知らせは、管理者によって全員オフに設定されています。"
    assert all("accessory" not in b for b in off)
