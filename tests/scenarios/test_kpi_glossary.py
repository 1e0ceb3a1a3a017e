"""Every number explains itself (issue 17 item 1), through signed requests: ``/sns-kpi help KEY`` shows
the KPI's four-part glossary entry in Japanese and English, and the "What does this mean?" button next
to a KPI — on the monthly digest, the ``/sns-kpi`` answer and the App Home — opens a modal with the
clicked KPI's entry for whoever clicked."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.digest.jobs import run_digest_job
from bot.i18n import translator
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, MGMT_CHANNEL, OPERATOR, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import home_envelope, open_home, texts
from tests.scenarios.digest_seed import jst
from tests.scenarios.test_digest_monthly import seed_year

CHANNEL = "C0TEAM0001"

#: The four parts of the built-in engagement-rate entry, as a manager reads them.
ENGAGEMENT_RATE = {
    "ja": [
        (
            "この指標とは",
            "投稿が表示された回数に対して、いいね・返信・シェア・保存・クリックなどの反応があった割合です。",
        ),
        ("測り方", "その月に公開した投稿のエンゲージメント数 ÷ インプレッション数 × 100"),
        ("よい水準の目安", "企業アカウントでは X でおおむね 1〜3%、Instagram で 2〜5%"),
        ("数値を動かすためにできること", "問いかけや返信を促す投稿"),
    ],
    "en": [
        (
            "What it is",
            "How many responses — likes, replies, shares, saves, clicks — posts get for every 100 times",
        ),
        ("How it is measured", "Engagements ÷ impressions × 100, over the posts published in the month"),
        ("What a good range looks like", "On X roughly 1–3 %, on Instagram 2–5 %"),
        ("What the team can do to move it", "Ask a question or invite a reply"),
    ],
}


@pytest.fixture(params=["ja", "en"])
def locale(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack, locale: str) -> Settings:
    # The people who ask and click read ``locale`` in Slack; the channel posts are in it too.
    for user in (OPERATOR, MANAGER):
        fake_slack.users[user] = {"locale": {"ja": "ja-JP", "en": "en-US"}[locale]}
    return make_settings(
        db_url=db_url, api_url=fake_slack.api_url, change=lambda raw: raw.update(locale=locale)
    )


def _sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def _assert_entry(blocks: list[dict[str, Any]], locale: str) -> None:
    """The four parts in order, each with its heading and its text."""
    sections = _sections(blocks)
    assert len(sections) == 4
    for section, (heading, text) in zip(sections, ENGAGEMENT_RATE[locale], strict=True):
        assert section.startswith(f"*{heading}*\n")
        assert text in section


async def _ask(sender: SlackSender, fake_slack: FakeSlack, text: str, *, name: str) -> dict[str, Any]:
    before = len(fake_slack.calls_to("response_url"))
    url = fake_slack.response_url(name)
    response = await sender.command(
        payloads.slash_command("/sns-kpi", text, user_id=OPERATOR, channel_id=CHANNEL, response_url=url)
    )
    assert (response.status, response.body) == (200, b"")  # acknowledged at once, answered after
    call = (await fake_slack.wait_for("response_url", count=before + 1))[before]
    assert call.path.endswith(f"/{name}")
    return call.params


async def test_help_key_shows_the_four_parts_of_the_entry(
    sender: SlackSender, fake_slack: FakeSlack, locale: str
) -> None:
    answer = await _ask(sender, fake_slack, "help engagement_rate", name="help")
    assert answer["response_type"] == "ephemeral"
    _assert_entry(answer["blocks"], locale)
    assert (
        answer["blocks"][0]["text"]["text"]
        == {
            "ja": "エンゲージメント率：この数字の意味",
            "en": "Engagement rate: what this number means",
        }[locale]
    )
    notes = " ".join(e["text"] for b in answer["blocks"] if b["type"] == "context" for e in b["elements"])
    # The KPI's own "why" and target from the config come with the entry.
    assert {"ja": "反応の深さを表します。", "en": "How deeply people react."}[locale] in notes
    assert {"ja": "月間目標: 3%", "en": "Monthly target: 3%"}[locale] in notes


async def test_help_for_an_unknown_key_is_refused_with_the_keys(
    sender: SlackSender, fake_slack: FakeSlack, locale: str
) -> None:
    answer = await _ask(sender, fake_slack, "help <!channel>", name="unknown")
    assert "recruiting_entries, engagement_rate, branded_search" in answer["text"]
    assert "<!channel>" not in answer["text"]


async def test_a_recorded_kpi_without_an_entry_says_what_is_missing(
    sender: SlackSender, fake_slack: FakeSlack, locale: str
) -> None:
    answer = await _ask(sender, fake_slack, "help branded_search", name="missing")
    sections = _sections(answer["blocks"])
    assert len(sections) == 4
    assert all("[kpis.glossary]" in s for s in sections)  # nothing invented for a KPI only the team knows


async def _click_glossary(
    sender: SlackSender, fake_slack: FakeSlack, key: str, *, user: str, **where: Any
) -> dict[str, Any]:
    before = len(fake_slack.calls_to("views.open"))
    click = payloads.block_action("kpi.glossary", key, user_id=user, **where)
    assert (await sender.interactive(click)).status == 200
    call = (await fake_slack.wait_for("views.open", count=before + 1))[before]
    assert call.params["trigger_id"] == click["trigger_id"]  # opened for whoever clicked
    return dict(call.params["view"])


def _glossary_buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        b["accessory"]["value"] for b in blocks if b.get("accessory", {}).get("action_id") == "kpi.glossary"
    ]


async def test_the_button_on_the_monthly_digest_opens_the_clicked_kpi(
    deps: Deps, clock: FixedClock, sender: SlackSender, fake_slack: FakeSlack, locale: str
) -> None:
    await seed_year(deps)
    clock.set(jst(2026, 12, 1, 9))
    await run_digest_job(deps, "monthly")
    digest = fake_slack.messages(MGMT_CHANNEL)[0]
    # A button beside every KPI, carrying that KPI's key.
    assert _glossary_buttons(digest["blocks"]) == ["recruiting_entries", "engagement_rate", "branded_search"]

    view = await _click_glossary(
        sender, fake_slack, "engagement_rate", user=MANAGER, channel_id=MGMT_CHANNEL, message=digest
    )
    assert view["callback_id"] == "kpi.glossary_modal"
    assert view["title"]["text"] == {"ja": "指標の説明", "en": "About this KPI"}[locale]
    _assert_entry(view["blocks"], locale)


async def test_the_button_on_the_kpi_answer_and_the_home_opens_the_clicked_kpi(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack, locale: str
) -> None:
    answer = await _ask(sender, fake_slack, "", name="status")
    assert _glossary_buttons(answer["blocks"]) == ["recruiting_entries", "engagement_rate", "branded_search"]
    view = await _click_glossary(sender, fake_slack, "engagement_rate", user=OPERATOR, channel_id=CHANNEL)
    _assert_entry(view["blocks"], locale)

    home = await open_home(sender, fake_slack, OPERATOR)
    assert _glossary_buttons(home["blocks"]) == ["recruiting_entries", "engagement_rate", "branded_search"]
    view = await _click_glossary(
        sender, fake_slack, "recruiting_entries", user=OPERATOR, view=home_envelope(fake_slack, OPERATOR)
    )
    assert {"ja": "採用エントリー数：この数字の意味", "en": "Recruiting entries: what this number means"}[
        locale
    ] in texts(view)


async def test_a_button_value_that_is_not_a_kpi_opens_an_explanation(
    sender: SlackSender, fake_slack: FakeSlack, locale: str
) -> None:
    view = await _click_glossary(sender, fake_slack, "<!here>", user=OPERATOR, channel_id=CHANNEL)
    text = texts(view)
    assert "&lt;!here&gt;" in text and "<!here>" not in text
    assert {"ja": "チームの指標ではありません", "en": "is not one of the team's KPIs"}[locale] in text


async def test_a_config_entry_overrides_the_built_in_part(fake_slack: FakeSlack, db_url: str) -> None:
    from bot.kpi.glossary import Part, entry

    def change(raw: dict[str, Any]) -> None:
        raw["kpis"][1]["glossary"] = {
            "good": {"ja": "当社は 3% 以上が目標です。", "en": "We aim for 3 % or more."}
        }

    settings = make_settings(db_url=db_url, api_url=fake_slack.api_url, change=change)
    kpi = settings.kpi_def("engagement_rate")
    assert kpi is not None
    ja, en = entry(kpi, translator("ja")), entry(kpi, translator("en"))
    assert (ja.part(Part.GOOD), en.part(Part.GOOD)) == (
        "当社は 3% 以上が目標です。",
        "We aim for 3 % or more.",
    )
    assert en.part(Part.WHAT) == translator("en")("glossary.derived.engagement_rate.what")  # the rest stays
    assert replace(kpi, glossary=replace(kpi.glossary, good=None)) != kpi


async def test_the_modal_is_in_the_language_of_whoever_clicks(
    sender: SlackSender, fake_slack: FakeSlack, locale: str
) -> None:
    other = {"ja": "en", "en": "ja"}[locale]
    fake_slack.users[OPERATOR] = {"locale": {"ja": "ja-JP", "en": "en-US"}[other]}
    view = await _click_glossary(sender, fake_slack, "engagement_rate", user=OPERATOR, channel_id=CHANNEL)
    _assert_entry(view["blocks"], other)


async def test_a_kpi_clicked_inside_a_modal_is_pushed_over_it(
    sender: SlackSender, fake_slack: FakeSlack, locale: str
) -> None:
    """The welcome re-opened from the Home lists the KPIs with their buttons: a click there stacks the
    entry on the open modal (Slack refuses ``views.open`` over a modal)."""
    modal = {"id": "V0WELCOME1", "type": "modal", "callback_id": "welcome.modal", "blocks": []}
    click = payloads.block_action("kpi.glossary", "engagement_rate", user_id=MANAGER, view=modal)
    assert (await sender.interactive(click)).status == 200
    (pushed,) = await fake_slack.wait_for("views.push")
    assert pushed.params["trigger_id"] == click["trigger_id"]
    _assert_entry(pushed.params["view"]["blocks"], locale)
    assert fake_slack.calls_to("views.open") == []
