"""The App Home's language section (bot.language.ui): valid Block Kit, the person's pick selected, Auto
in the reader's language and each language by its own name, the team's language named."""

from __future__ import annotations

from slack_sdk.models.views import View

from bot.i18n import translator
from bot.language.ids import ActionId, BlockId
from bot.language.ui import build_home_section
from bot.slack.locales import Choice


def test_the_section_shows_the_pick_and_names_the_team_language() -> None:
    (block,) = build_home_section(choice=Choice.EN, team_locale="ja", t=translator("en"))
    View(type="home", blocks=[block]).validate_json()
    data = block.to_dict()
    assert data["block_id"] == BlockId.LANGUAGE
    assert data["text"]["text"] == (
        "*:globe_with_meridians: Language*\nWhat only you see — direct messages, answers to your commands,"
        " forms and this Home — is in the language you pick here. Posts in channels stay in the team's"
        " language (日本語 (Japanese))."
    )
    selector = data["accessory"]
    assert selector["action_id"] == ActionId.CHOOSE
    assert [(o["value"], o["text"]["text"]) for o in selector["options"]] == [
        ("auto", "Auto (my Slack language)"),
        ("ja", "日本語 (Japanese)"),
        ("en", "English"),
    ]
    assert selector["initial_option"]["value"] == "en"


def test_in_japanese_auto_is_the_default_pick() -> None:
    (block,) = build_home_section(choice=Choice.AUTO, team_locale="en", t=translator("ja"))
    data = block.to_dict()
    assert data["text"]["text"].startswith("*:globe_with_meridians: 表示言語*\n")
    assert "チャンネルへの投稿はチームの言語（English（英語））のままです。" in data["text"]["text"]
    assert data["accessory"]["initial_option"]["value"] == "auto"
    assert data["accessory"]["placeholder"]["text"] == "言語を選択"
