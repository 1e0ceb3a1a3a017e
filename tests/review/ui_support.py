"""Helpers of the review Block Kit tests: settings per language, a request snapshot, and Slack's limits checked
on every message and view."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.config import Settings
from bot.review.ids import Status
from bot.review.records import RequestSnapshot, StepView
from bot.slack.blocks import Message
from tests.conftest import MANAGER, MANAGER2, NOW, OPERATOR, make_settings
from tests.fakes import blockkit

HOSTILE = "新作です <!channel> <@U0EVIL001> <https://evil.example|click here> & <!subteam^S0X> 1 > 0"
LOCALES = ("ja", "en")


def settings_for(locale: str) -> Settings:
    return make_settings(change=lambda raw: raw.update(locale=locale))


def snapshot(**changes: Any) -> RequestSnapshot:
    base = RequestSnapshot(
        id=7,
        requester_id=OPERATOR,
        account_key="x_corp",
        status=Status.PENDING,
        current_step=0,
        revision=1,
        version=3,
        text="冬の新商品のお知らせです。\n詳細は https://example.com/winter をご覧ください。",
        planned_at=NOW + timedelta(days=1),
        due_at=NOW + timedelta(days=1),
        link_url="https://example.com/image.png",
        feedback_wanted="トーンは適切ですか？",
        channel_id="C0REVIEW01",
        message_ts="1763427600.000100",
        created_at=NOW,
        waiting_since=NOW,
        decided_at=None,
        published_at=None,
        steps=(StepView(0, (MANAGER, MANAGER2), "any"),),
    )
    return replace(base, **changes)


def message_json(message: Message) -> str:
    return json.dumps(message.kwargs(), ensure_ascii=False)


def assert_valid_message(message: Message) -> None:
    assert message.text
    assert blockkit.message_errors(message.blocks_json()) is None


def assert_valid_view(view: Any) -> dict[str, Any]:
    raw = view.to_dict()
    assert blockkit.view_errors(raw) == []
    return raw
