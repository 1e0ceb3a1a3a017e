"""The language selector through signed requests (bot.language.listeners): a pick is stored and the
Home drawn again in it; a forged value is refused in the person's language and changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from bot.language.ids import ActionId, BlockId
from bot.runtime.deps import Deps
from bot.slack.locales import Choice
from bot.slack.models import UserLocale
from tests.conftest import OPERATOR
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import home_envelope, next_home, open_home


def _pick(fake_slack: FakeSlack, user: str, value: str) -> dict[str, object]:
    return payloads.block_action(
        ActionId.CHOOSE,
        user_id=user,
        block_id=BlockId.LANGUAGE,
        view=home_envelope(fake_slack, user),
        action={
            "type": "static_select",
            "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
        },
    )


async def _stored(deps: Deps) -> list[tuple[str, str]]:
    async with deps.sessions() as session:
        return [(r.user_id, r.locale) for r in (await session.scalars(select(UserLocale))).all()]


async def test_a_pick_is_stored_and_auto_forgets_it(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.users[OPERATOR] = {"locale": "en-US"}
    home = await open_home(sender, fake_slack, OPERATOR)
    assert home["blocks"][0]["text"]["text"] == "Your SNS dashboard"

    published = len(fake_slack.calls_to("views.publish"))
    assert (await sender.interactive(_pick(fake_slack, OPERATOR, "ja"))).status == 200
    home = await next_home(fake_slack, OPERATOR, after=published)
    assert home["blocks"][0]["text"]["text"] == "SNS ダッシュボード"
    assert await _stored(deps) == [(OPERATOR, "ja")]

    published = len(fake_slack.calls_to("views.publish"))
    assert (await sender.interactive(_pick(fake_slack, OPERATOR, "auto"))).status == 200
    home = await next_home(fake_slack, OPERATOR, after=published)
    assert home["blocks"][0]["text"]["text"] == "Your SNS dashboard"  # Slack's en-US again
    assert await _stored(deps) == []


async def test_a_forged_value_is_refused_in_the_readers_language(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.users[OPERATOR] = {"locale": "en-US"}
    await open_home(sender, fake_slack, OPERATOR)
    published = len(fake_slack.calls_to("views.publish"))
    assert (await sender.interactive(_pick(fake_slack, OPERATOR, "fr"))).status == 200
    (told,) = await fake_slack.wait_for("chat.postMessage")
    assert told.params["channel"] == OPERATOR
    assert told.params["text"] == "That language is not available. Choose Auto, 日本語 or English."
    home = await next_home(fake_slack, OPERATOR, after=published)  # showing what is stored: Auto
    assert [b for b in home["blocks"] if b.get("block_id") == BlockId.LANGUAGE][0]["accessory"][
        "initial_option"
    ]["value"] == Choice.AUTO
    assert await _stored(deps) == []
