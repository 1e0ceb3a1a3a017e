"""Slack limits with a year of heavy data, the win modals, and the terminal rendering of mrkdwn."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.views import View

from bot.config import Settings
from bot.digest.compose import (
    ActivityFacts,
    KpiPoint,
    PostFact,
    ReviewFact,
    WaitingFact,
    WinFact,
    compose_monthly,
    compose_weekly,
)
from bot.digest.ids import ActionId, BlockId, CallbackId, WinTarget
from bot.digest.ui.monthly import monthly_message
from bot.digest.ui.text import plain_text
from bot.digest.ui.weekly import weekly_message
from bot.digest.ui.wins import (
    WinInput,
    build_win_link_modal,
    build_win_modal,
    parse_win_link_modal,
    parse_win_modal,
)
from bot.i18n import Translator, translator
from bot.periods import months_back, parse_period
from bot.slack.blocks import block_text_length
from tests.conftest import BASE_CONFIG, make_settings
from tests.digest.reference import post_facts
from tests.fakes import blockkit

START = datetime(2025, 12, 1, tzinfo=UTC)
LONG = "とても長い投稿本文です。" * 60 + " <!channel> & <@U0ALICE01>"


def heavy_facts(period_kind: str, label: str) -> ActivityFacts:
    """A year of a busy team: 2,000 posts, 900 reviews, 400 wins, 150 waiting reviews."""
    period = parse_period(period_kind, label)  # type: ignore[arg-type]
    users = [f"U0USER{i:04d}" for i in range(300)]
    posts = tuple(
        PostFact(
            "x_corp",
            f"https://x.com/example_corp/status/{i}?q=" + "x" * 300,
            LONG,
            users[i % 300],
            START + timedelta(hours=4 * i),
            1000 + i,
            10 + i % 97,
        )
        for i in range(2000)
    )
    completed = tuple(
        ReviewFact(
            i,
            users[i % 300],
            "approved",
            START + timedelta(hours=9 * i),
            START + timedelta(hours=9 * i + i % 50),
        )
        for i in range(900)
    )
    waiting = tuple(
        WaitingFact(
            i,
            users[i % 300],
            "ig_recruit",
            START + timedelta(hours=i),
            "C0REVIEW01",
            f"17600000{i:02d}.000100",
            tuple(users[:40]),
        )
        for i in range(150)
    )
    wins = tuple(
        WinFact(
            LONG,
            "https://acme.slack.com/archives/C1/p" + "1" * 16,
            "engagement_rate",
            users[i % 300],
            None,
            START + timedelta(hours=i),
        )
        for i in range(400)
    )
    return ActivityFacts(
        period=period,
        **post_facts(posts),
        completed=completed,
        reviewers=tuple(users[i % 300] for i in range(3000)),
        requesters=tuple(users),
        waiting=waiting,
        wins=wins,
        reasons=tuple(f"reason_{i % 40}" for i in range(2000)),
    )


def assert_within_slack_limits(message: Any) -> list[dict[str, Any]]:
    blocks = message.blocks_json()
    assert len(blocks) <= 50
    assert sum(block_text_length(b) for b in blocks) <= 12_000
    for block in blocks:
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            for field in block.get("fields", []):
                assert len(field["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
    assert blockkit.message_errors(blocks) is None
    assert 0 < len(message.kwargs()["text"]) <= 4000
    return blocks


def more_pattern(t: Translator) -> str:
    """ "…and N more" of items or of people (ja: 「…ほか N 件」 / 「…ほか N 名」)."""
    keys = ("common.words.and_more", "common.words.and_more_people")
    forms = sorted({re.escape(t(key, count=999)).replace("999", r"(\d+)") for key in keys})
    return "|".join(f"(?:{form})" for form in forms)


def many_kpis_settings() -> Settings:
    def change(raw: dict[str, Any]) -> None:
        template = raw["kpis"][1]
        raw["kpis"] = []
        raw.pop("search_console")
        for i in range(45):
            kpi = copy.deepcopy(template)
            kpi["key"] = f"kpi_{i:02d}"
            kpi["name"] = {"ja": f"とても長い指標の名前 {i}" * 3, "en": f"A rather long KPI name {i}" * 3}
            kpi["why"] = {"ja": "理由がとても長く説明されています。" * 20, "en": "A long reason. " * 40}
            raw["kpis"].append(kpi)

    return make_settings(change=change)


def test_weekly_with_a_year_of_heavy_data_fits_one_message() -> None:
    settings = make_settings(change=lambda raw: raw["digest"]["weekly"].update(top_posts=20))
    digest = compose_weekly(heavy_facts("weekly", "2026-W47"), min_impressions=100, top_n=20)
    for locale in ("ja", "en"):
        t = translator(locale)  # type: ignore[arg-type]
        blocks = assert_within_slack_limits(weekly_message(digest, settings=settings, t=t, channel="C1"))
        body = "\n".join(str(b) for b in blocks)
        cut_counts = [int(next(g for g in m.groups() if g)) for m in re.finditer(more_pattern(t), body)]
        assert 390 <= max(c for c in cut_counts if c <= 400)  # wins: at most 10 of 400 shown
        assert 140 in cut_counts  # waiting: 10 of 150 shown
        assert 270 in cut_counts  # shout-outs: 30 of 300 people named
        assert "<!channel>" not in body
        # The closing invitation survives any cut.
        assert blocks[-1]["elements"][0]["text"] == t("digest.weekly.closing")


def test_monthly_with_many_kpis_and_heavy_data_fits_one_message() -> None:
    settings = many_kpis_settings()
    month = parse_period("monthly", "2026-11")
    labels = [p.label for p in months_back(month, 13)]
    history = {
        k.key: [KpiPoint(label, 3.0 + i / 10, 3.0) for i, label in enumerate(labels)] for k in settings.kpis
    }
    digest = compose_monthly(
        heavy_facts("monthly", "2026-11"), kpis=settings.kpis, history=history, min_impressions=100, best_n=10
    )
    for locale in ("ja", "en"):
        t = translator(locale)  # type: ignore[arg-type]
        blocks = assert_within_slack_limits(monthly_message(digest, settings=settings, t=t, channel="C1"))
        cut = [b for b in blocks if b["type"] == "context" and "…" in b["elements"][0]["text"]]
        assert cut, "sections that do not fit are counted in an 'and N more' line"
        assert blocks[-1]["elements"][0]["text"] == t("digest.monthly.closing")
        # The fallback text carries every KPI's narrative line, cut to Slack's recommended size.
        assert len(monthly_message(digest, settings=settings, t=t, channel="C1").kwargs()["text"]) <= 4000


def test_win_modal_is_valid_and_round_trips() -> None:
    settings = make_settings()
    t = translator("ja")
    target = WinTarget(channel_id="C0DIGEST1", message_ts="1767225601.000200", author="U0ALICE01")
    view = build_win_modal(target=target, message_text="採用リール公開 <!here>", settings=settings, t=t)
    payload = view.to_dict()
    assert blockkit.view_errors(payload) == []
    View(**payload).validate_json()
    assert payload["callback_id"] == CallbackId.WIN_MODAL
    assert WinTarget.decode(payload["private_metadata"]) == target
    assert "&lt;!here&gt;" in payload["blocks"][0]["elements"][0]["text"]
    kpi_block = payload["blocks"][2]
    assert kpi_block["optional"] is True
    assert [o["value"] for o in kpi_block["element"]["options"]] == [k["key"] for k in BASE_CONFIG["kpis"]]


def test_parse_win_modal() -> None:
    settings = make_settings()

    def state(what: str | None, kpi: str | None) -> dict[str, Any]:
        option = (
            {"selected_option": {"value": kpi, "text": {"type": "plain_text", "text": kpi}}}
            if kpi
            else {"selected_option": None}
        )
        return {
            "state": {
                "values": {
                    BlockId.WIN_WHAT: {ActionId.WIN_WHAT: {"type": "plain_text_input", "value": what}},
                    BlockId.WIN_KPI: {ActionId.WIN_KPI: {"type": "static_select", **option}},
                }
            }
        }

    win, problems = parse_win_modal(
        state("  採用エントリー 12 件  ", "recruiting_entries"), settings=settings
    )
    assert win == WinInput(what="採用エントリー 12 件", kpi_key="recruiting_entries") and problems == {}
    assert parse_win_modal(state("   ", None), settings=settings) == (
        None,
        {BlockId.WIN_WHAT: "digest.errors.win_empty"},
    )
    assert parse_win_modal(state("ok", "gone"), settings=settings) == (
        None,
        {BlockId.WIN_KPI: "digest.errors.unknown_kpi"},
    )


def test_win_link_modal_is_valid_and_parses() -> None:
    payload = build_win_link_modal(t=translator("ja")).to_dict()
    assert blockkit.view_errors(payload) == []
    View(**payload).validate_json()
    assert payload["callback_id"] == CallbackId.WIN_LINK_MODAL
    link = " https://acme.slack.com/archives/C0TEAM0001/p1767225601000200 "
    typed = {"state": {"values": {BlockId.WIN_LINK: {ActionId.WIN_LINK: {"value": link}}}}}
    assert parse_win_link_modal(typed) == link.strip()
    assert parse_win_link_modal({"state": {"values": {}}}) == ""


def test_plain_text_of_mrkdwn() -> None:
    text = "*Top* <https://x.com/a_b/c_d|post &amp; more> by <@U0ALICE01> at <!date^1763700000^{date}|2026-11-21> :tada: _why_"
    assert (
        plain_text(text, names={"U0ALICE01": "佐藤"})
        == "Top post & more (https://x.com/a_b/c_d) by @佐藤 at 2026-11-21 🎉 why"
    )


def test_people_past_the_limit_are_counted_as_people() -> None:
    from bot.digest.ui.document import people

    ids = [f"U0PERSON{i:02d}" for i in range(7)]
    assert people(ids, translator("ja"), limit=5).endswith("<@U0PERSON04> …ほか 2 名")
    assert people(ids, translator("en"), limit=5).endswith("<@U0PERSON04> …and 2 more")


def test_every_emoji_of_the_digest_catalogs_reads_as_an_emoji_in_the_terminal() -> None:
    """`sns-bot digest … --preview` and `sns-bot demo` show no ``:shortcode:`` of a digest section."""
    from importlib import resources

    found: set[str] = set()
    for locale in ("ja", "en"):
        for name in ("digest", "quarterly", "participation", "actions", "milestones", "digest_updates"):
            text = resources.files("bot.i18n").joinpath(f"{locale}/{name}.toml").read_text(encoding="utf-8")
            found |= set(re.findall(r":[a-z_]+:", text))
    assert found
    for code in sorted(found):
        assert ":" not in plain_text(f"{code} x"), code
