"""Action item Block Kit and the modal's validation (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.actions.ids import AddTarget
from bot.actions.ui import build_add_modal, item_message, parse_add_modal, questions_message
from bot.errors import BotError
from bot.i18n import translator
from bot.periods import PeriodKind, parse_period
from tests.actions.test_records import item
from tests.conftest import make_settings
from tests.fakes.blockkit import block_errors

NOV = parse_period(PeriodKind.MONTHLY, "2026-11")
TARGET = AddTarget("2026-10", "C0MGMT0001", "1762041600.000100")


def view(what: Any, owner: Any, due: Any, metadata: str = TARGET.encode()) -> dict[str, Any]:
    return {
        "private_metadata": metadata,
        "state": {
            "values": {
                "actions_what": {"actions.input.what": {"value": what}},
                "actions_owner": {"actions.input.owner": {"selected_user": owner}},
                "actions_due": {"actions.input.due": {"selected_option": {"value": due}}},
            }
        },
    }


def test_a_valid_form_becomes_a_new_item() -> None:
    new = parse_add_modal(view("  投稿を\n2 本  ", "U0OWNER01", "2026-12"), current=NOV)
    assert (new.target, new.what, new.owner_id, new.due_month) == (
        TARGET,
        "投稿を 2 本",
        "U0OWNER01",
        "2026-12",
    )


@pytest.mark.parametrize(
    ("form", "key", "block"),
    [
        (view(None, "U0OWNER01", "2026-11"), "actions.errors.what_missing", "actions_what"),
        (view("x" * 301, "U0OWNER01", "2026-11"), "actions.errors.what_too_long", "actions_what"),
        (view("ok", None, "2026-11"), "actions.errors.owner_missing", "actions_owner"),
        (view("ok", "S0GROUP01", "2026-11"), "actions.errors.owner_missing", "actions_owner"),
        (view("ok", "U0OWNER01", "2026-10"), "actions.errors.bad_due", "actions_due"),  # the past
        (view("ok", "U0OWNER01", "2099-01"), "actions.errors.bad_due", "actions_due"),
        (view("ok", "U0OWNER01", "2026-11", metadata='{"period":"x"}'), "actions.errors.bad_target", None),
    ],
)
def test_bad_input_is_refused_at_its_input(form: dict[str, Any], key: str, block: str | None) -> None:
    with pytest.raises(BotError) as info:
        parse_add_modal(form, current=NOV)
    assert (info.value.key, info.value.block_id) == (key, block)


def test_modal_message_and_questions_are_valid_block_kit_in_both_languages() -> None:
    settings = make_settings()
    for locale in ("ja", "en"):
        t = translator(locale)  # type: ignore[arg-type]
        modal = build_add_modal(TARGET, current=NOV, t=t).to_dict()
        assert block_errors(modal["blocks"], limit=100) == []
        assert all(len(modal[k]["text"]) <= 24 for k in ("title", "submit", "close"))
        assert block_errors(item_message(item(1, "2026-10", "2026-11"), month=NOV, t=t).blocks_json()) == []
        questions = questions_message(settings, t)
        assert questions is not None and block_errors(questions.blocks_json()) == []


def test_configured_questions_replace_the_defaults_and_none_turns_them_off() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["digest"]["monthly"]["questions"] = [
            {"ja": "一番の学びは？", "en": "Best lesson?"},
            "<!here> OK?",
        ]

    settings = make_settings(change=change)
    message = questions_message(settings, translator("en"))
    assert message is not None
    assert message.text.splitlines()[1:] == ["1. Best lesson?", "2. &lt;!here&gt; OK?"]

    off = make_settings(change=lambda raw: raw["digest"]["monthly"].update(questions=[]))
    assert questions_message(off, translator("ja")) is None


def test_the_item_message_escapes_what_was_typed_in_its_blocks_and_its_notification_text() -> None:
    from dataclasses import replace

    hostile = replace(item(1, "2026-10", "2026-11"), what="<!channel> 投稿 & <https://evil|click>")
    message = item_message(hostile, month=NOV, t=translator("ja"))
    for text in (message.text, str(message.blocks_json())):
        assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt; 投稿 &amp; &lt;https://evil|click&gt;" in message.text
