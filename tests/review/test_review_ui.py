"""Review Block Kit (pure): every surface validates in both languages, user text is escaped, modals parse."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.config import Settings
from bot.i18n import translator
from bot.review import forms, listing, messages, modals, notices
from bot.review.ids import ActionId, BlockId, CallbackId, Decision, ModalMeta, Outcome, RequestRef, Status
from bot.review.records import (
    DecisionResult,
    Feedback,
    LastDecision,
    PublishForm,
    PublishResult,
    RequestList,
    RequestSnapshot,
    ResubmitResult,
    StepView,
)
from bot.slack.blocks import Message, quote_sections, slack_length
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


@pytest.mark.parametrize("locale", LOCALES)
def test_review_message_escapes_everything_the_user_typed(locale: str) -> None:
    settings = settings_for(locale)
    request = snapshot(
        text=HOSTILE, feedback_wanted="<!here> please", link_url="https://example.com/a?b=<c>|d"
    )
    message = messages.build_review_message(request, settings=settings, t=translator(locale))  # type: ignore[arg-type]
    assert_valid_message(message)
    raw = message_json(message)
    for ping in ("<!channel>", "<@U0EVIL001>", "<https://evil.example|", "<!here>", "<!subteam"):
        assert ping not in raw
    assert (
        "&gt; 新作です &lt;!channel&gt; &lt;@U0EVIL001&gt; &lt;https://evil.example|click here&gt; &amp; "
        in raw
    )
    assert "&lt;!here&gt; please" in raw
    assert "<https://example.com/a?b=%3Cc%3E%7Cd|https://example.com/a?b=&lt;c&gt;|d>" not in raw
    assert "https://example.com/a?b=%3Cc%3E%7Cd" in raw


def test_pending_message_has_four_buttons_carrying_the_reference_and_a_confirm_on_reject() -> None:
    settings = settings_for("ja")
    message = messages.build_review_message(snapshot(), settings=settings, t=translator("ja"))
    actions = next(b for b in message.blocks_json() if b["type"] == "actions")
    assert [(e["action_id"], e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        (ActionId.APPROVE, "承認", "7:1:3"),
        (ActionId.REQUEST_CHANGES, "差し戻す", "7:1:3"),
        (ActionId.REJECT, "却下", "7:1:3"),
        (ActionId.COMMENT, "コメント", "7:1:3"),
    ]
    reject = actions["elements"][2]
    assert reject["confirm"]["title"]["text"] == "この投稿案を却下しますか？"
    assert RequestRef.decode(reject["value"]) == RequestRef(7, 1, 3)
    body = message_json(message)
    assert "ステップ 1/1（いずれか 1 人の承認）— <@U0MANAGER1>, <@U0MANAGER2> の確認待ち" in body
    assert "X の文字数計算" in body
    assert message.text == "<@U0ALICE01> さんから X 公式 (@example_corp) のレビュー依頼: レビュー待ち"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("status", "kind", "buttons"),
    [
        (Status.APPROVED, "approved", [ActionId.PUBLISH]),
        (Status.CHANGES_REQUESTED, "changes_requested", [ActionId.RESUBMIT]),
        (Status.REJECTED, "rejected", []),
        (Status.PUBLISHED, "published", []),
    ],
)
def test_decided_message_replaces_the_buttons_with_the_status(
    locale: str, status: Status, kind: str, buttons: list[str]
) -> None:
    t = translator(locale)  # type: ignore[arg-type]
    decided = NOW + timedelta(hours=2)
    request = snapshot(
        status=status,
        decided_at=decided,
        published_at=decided,
        post_url="https://x.com/example_corp/status/1",
        last_decision=LastDecision(kind, MANAGER, decided, ("tone", "typo")),
    )
    message = messages.build_review_message(request, settings=settings_for(locale), t=t)
    assert_valid_message(message)
    actions = [b for b in message.blocks_json() if b["type"] == "actions"]
    assert [e["action_id"] for a in actions for e in a["elements"]] == buttons
    raw = message_json(message)
    if status is not Status.PUBLISHED:
        assert "<@U0MANAGER1>" in raw
        assert f"<!date^{int(decided.timestamp())}^" in raw
    if status is Status.CHANGES_REQUESTED:
        assert ("トーン・表現, 誤字脱字" if locale == "ja" else "Tone and wording, Typos") in raw


def test_request_modal_prefills_shows_limits_and_cuts_overlong_text_with_a_notice() -> None:
    settings, t = settings_for("ja"), translator("ja")
    long_text = "あ" * 3500
    view = modals.build_request_modal(
        settings=settings, t=t, draft=long_text, reviewers=[MANAGER, MANAGER2], now=NOW
    )
    raw = assert_valid_view(view)
    assert raw["callback_id"] == CallbackId.REQUEST
    assert raw["title"]["text"] == "投稿レビューを依頼"
    blocks = {b.get("block_id"): b for b in raw["blocks"]}
    assert blocks[BlockId.DRAFT]["element"]["initial_value"] == "あ" * 3000
    assert (
        blocks[BlockId.DRAFT]["hint"]["text"]
        == "文字数の上限 — X 公式: 280（X の計算: 日本語は 1 文字 2、URL は 23）"
    )
    assert "3,500 文字" in raw["blocks"][1]["elements"][0]["text"]
    assert blocks["review_reviewers.x_corp"]["element"]["initial_users"] == [MANAGER, MANAGER2]
    assert blocks[BlockId.ACCOUNT]["dispatch_action"] is True
    # Tomorrow 10:00 in Tokyo.
    planned = blocks[BlockId.PLANNED]["element"]["initial_date_time"]
    assert datetime.fromtimestamp(planned, UTC) == datetime(2026, 11, 19, 1, 0, tzinfo=UTC)


def test_request_modal_for_another_account_shows_its_limit_and_a_fresh_reviewers_block() -> None:
    view = modals.build_request_modal(
        settings=settings_for("en"),
        t=translator("en"),
        draft="",
        reviewers=[],
        now=NOW,
        account_key="ig_recruit",
    )
    raw = assert_valid_view(view)
    blocks = {b.get("block_id"): b for b in raw["blocks"]}
    assert blocks[BlockId.DRAFT]["hint"]["text"] == "Length limits — Instagram 採用: 2,200 characters"
    assert "initial_users" not in blocks["review_reviewers.ig_recruit"]["element"]
    assert blocks[BlockId.ACCOUNT]["element"]["initial_option"]["value"] == "ig_recruit"


def _request_state(
    *,
    account: str = "x_corp",
    text: str | None = "こんにちは",
    planned: datetime | None = None,
    link: str | None = None,
    reviewers: list[str] | None = None,
    wanted: str | None = None,
) -> dict[str, Any]:
    planned = planned or NOW + timedelta(days=1)
    return {
        BlockId.ACCOUNT: {
            ActionId.ACCOUNT: {
                "type": "static_select",
                "selected_option": {"value": account, "text": {"type": "plain_text", "text": account}},
            }
        },
        BlockId.DRAFT: {ActionId.DRAFT: {"type": "plain_text_input", "value": text}},
        BlockId.PLANNED: {
            ActionId.PLANNED: {"type": "datetimepicker", "selected_date_time": int(planned.timestamp())}
        },
        BlockId.LINK: {ActionId.LINK: {"type": "url_text_input", "value": link}},
        f"review_reviewers.{account}": {
            ActionId.REVIEWERS: {
                "type": "multi_users_select",
                "selected_users": reviewers if reviewers is not None else [MANAGER],
            }
        },
        BlockId.WANTED: {ActionId.WANTED: {"type": "plain_text_input", "value": wanted}},
    }


def test_parse_request_modal_reads_every_input() -> None:
    form = forms.parse_request_modal(
        _request_state(
            text="\n  一行目\n二行目  \n",
            link="https://example.com/x",
            wanted=" トーン ",
            reviewers=[MANAGER, MANAGER2],
        )
    )
    assert form.account_key == "x_corp"
    assert form.text == "一行目\n二行目"
    assert form.planned_at == NOW + timedelta(days=1)
    assert form.link_url == "https://example.com/x"
    assert form.reviewers == (MANAGER, MANAGER2)
    assert form.wanted == "トーン"
    assert form.reviewers_block == "review_reviewers.x_corp"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "ja",
            "X の上限は 280 です（日本語は 1 文字 2、URL は 23 として計算）。この投稿案は 282 です（2 超過）。",
        ),
        ("en", "X allows 280 (Japanese characters count 2, links 23); this draft counts 282 (2 too many)."),
    ],
)
def test_validate_refuses_a_japanese_x_draft_over_the_weighted_limit(locale: str, expected: str) -> None:
    form = forms.parse_request_modal(_request_state(text="あ" * 141))
    errors = forms.validate_request(
        form, settings=settings_for(locale), t=translator(locale), now=NOW, requester=OPERATOR
    )  # type: ignore[arg-type]
    assert errors == {BlockId.DRAFT: expected}
    ok = forms.parse_request_modal(_request_state(text="あ" * 140))
    assert (
        forms.validate_request(
            ok, settings=settings_for(locale), t=translator(locale), now=NOW, requester=OPERATOR
        )
        == {}
    )  # type: ignore[arg-type]


def test_validate_instagram_counts_characters() -> None:
    t = translator("ja")
    settings = settings_for("ja")
    fine = forms.parse_request_modal(_request_state(account="ig_recruit", text="あ" * 2200))
    assert forms.validate_request(fine, settings=settings, t=t, now=NOW, requester=OPERATOR) == {}
    over = forms.parse_request_modal(_request_state(account="ig_recruit", text="あ" * 2201))
    assert forms.validate_request(over, settings=settings, t=t, now=NOW, requester=OPERATOR) == {
        BlockId.DRAFT: "Instagram 採用 の上限は 2,200 文字ですが、この投稿案は 2,201 文字です（1 文字超過）。"
    }


def test_validate_reports_each_problem_on_its_own_block() -> None:
    t = translator("en")
    form = forms.parse_request_modal(
        _request_state(
            text="  ", planned=NOW - timedelta(hours=1), link="javascript:alert(1)", reviewers=[OPERATOR]
        )
    )
    assert forms.validate_request(form, settings=settings_for("en"), t=t, now=NOW, requester=OPERATOR) == {
        BlockId.DRAFT: "Write the draft you want reviewed.",
        BlockId.PLANNED: "The planned publish time is in the past.",
        BlockId.LINK: "Enter a full web address starting with https:// or http://.",
        "review_reviewers.x_corp": "Choose at least one reviewer other than yourself.",
    }
    unknown = forms.parse_request_modal(_request_state(account="nope"))
    assert forms.validate_request(unknown, settings=settings_for("en"), t=t, now=NOW, requester=OPERATOR)[
        BlockId.ACCOUNT
    ] == ("Choose one of the configured accounts.")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("decision", list(Decision))
def test_feedback_and_approve_modals_validate_and_carry_the_reference(
    locale: str, decision: Decision
) -> None:
    settings, t = settings_for(locale), translator(locale)  # type: ignore[arg-type]
    request = snapshot(text=HOSTILE)
    if decision is Decision.APPROVE:
        view = modals.build_approve_modal(request, settings=settings, t=t)
    else:
        view = modals.build_feedback_modal(request, decision=decision, settings=settings, t=t)
    raw = assert_valid_view(view)
    step = None if decision is Decision.COMMENT else request.current_step
    assert ModalMeta.decode(raw["private_metadata"]) == ModalMeta(
        ref=RequestRef(7, 1, 3), decision=decision, step=step
    )
    assert "<!channel>" not in json.dumps(raw)
    reasons = [b for b in raw["blocks"] if b.get("block_id") == BlockId.REASONS]
    if decision is Decision.APPROVE:
        assert reasons == []
    else:
        assert reasons[0]["optional"] is (not decision.needs_reasons)
        assert len(reasons[0]["element"]["options"]) == 7


def test_reason_labels_are_natural_japanese() -> None:
    view = modals.build_feedback_modal(
        snapshot(), decision=Decision.REQUEST_CHANGES, settings=settings_for("ja"), t=translator("ja")
    )
    raw = view.to_dict()
    reasons = next(b for b in raw["blocks"] if b.get("block_id") == BlockId.REASONS)
    assert [o["text"]["text"] for o in reasons["element"]["options"]] == [
        "トーン・表現",
        "根拠のない主張",
        "画像・素材の不足",
        "時期・タイミングの重複",
        "ブランドガイドライン",
        "法務・コンプライアンス上のリスク",
        "誤字脱字",
    ]
    assert raw["title"]["text"] == "修正を依頼"
    assert raw["submit"]["text"] == "差し戻す"


def test_custom_reasons_beyond_ten_switch_to_a_multi_select() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["review"]["custom_reasons"] = {
            f"extra{i}": {"ja": f"追加{i}", "en": f"Extra {i}"} for i in range(5)
        }

    settings = make_settings(change=change)
    view = modals.build_feedback_modal(
        snapshot(), decision=Decision.REJECT, settings=settings, t=translator("ja")
    )
    raw = assert_valid_view(view)
    reasons = next(b for b in raw["blocks"] if b.get("block_id") == BlockId.REASONS)
    assert reasons["element"]["type"] == "multi_static_select"
    assert reasons["element"]["options"][-1]["text"]["text"] == "追加4"


def test_feedback_validation() -> None:
    settings, t = settings_for("en"), translator("en")
    values = {
        BlockId.REASONS: {
            ActionId.REASONS: {
                "type": "checkboxes",
                "selected_options": [{"value": "tone"}, {"value": "tone"}],
            }
        },
        BlockId.WHAT_WORKS: {ActionId.WHAT_WORKS: {"type": "plain_text_input", "value": " Good hook "}},
        BlockId.WHAT_TO_CHANGE: {ActionId.WHAT_TO_CHANGE: {"type": "plain_text_input", "value": None}},
        BlockId.COMMENT: {ActionId.FEEDBACK_COMMENT: {"type": "plain_text_input", "value": None}},
    }
    feedback = forms.parse_feedback_modal(values)
    assert feedback == Feedback(what_works="Good hook", reasons=("tone",))
    assert forms.validate_feedback(feedback, decision=Decision.REQUEST_CHANGES, settings=settings, t=t) == {}
    assert forms.validate_feedback(
        Feedback(comment="x"), decision=Decision.REJECT, settings=settings, t=t
    ) == {BlockId.REASONS: "Choose at least one reason."}
    assert forms.validate_feedback(
        Feedback(reasons=("made_up",)), decision=Decision.COMMENT, settings=settings, t=t
    ) == {
        BlockId.REASONS: "One of the reasons is no longer offered; please choose again.",
        BlockId.COMMENT: "Write a comment (or what works / what to change).",
    }


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("outcome", "status", "button"),
    [
        ("changes_requested", Status.CHANGES_REQUESTED, ActionId.RESUBMIT),
        ("approved", Status.APPROVED, ActionId.PUBLISH),
        ("rejected", Status.REJECTED, None),
        ("commented", Status.PENDING, None),
        ("advanced", Status.PENDING, None),
        ("step_approved", Status.PENDING, None),
    ],
)
def test_decision_reply_and_dm_escape_feedback_and_offer_the_next_step(
    locale: str, outcome: str, status: Status, button: str | None
) -> None:
    settings, t = settings_for(locale), translator(locale)  # type: ignore[arg-type]
    feedback = Feedback(
        what_works="<!channel> hook", what_to_change="fix <@U0EVIL001>", comment="a & b", reasons=("tone",)
    )
    result = DecisionResult(
        request=snapshot(status=status),
        decision=Decision.REQUEST_CHANGES,
        actor_id=MANAGER,
        feedback=feedback,
        outcome=Outcome(outcome),
        at=NOW,
    )
    reply = notices.build_decision_reply(result, settings=settings, t=t)
    dm = notices.build_decision_dm(result, settings=settings, t=t)
    for message in (reply, dm):
        assert_valid_message(message)
        raw = message_json(message)
        assert "<!channel>" not in raw and "<@U0EVIL001>" not in raw
        assert "&lt;!channel&gt; hook" in raw and "a &amp; b" in raw
    dm_buttons = [e["action_id"] for b in dm.blocks_json() if b["type"] == "actions" for e in b["elements"]]
    assert dm_buttons == ([button] if button else [])
    assert "https://slack.com/archives/C0REVIEW01/p1763427600000100" in message_json(dm)


def test_decision_reply_text_in_japanese() -> None:
    result = DecisionResult(
        request=snapshot(status=Status.CHANGES_REQUESTED),
        decision=Decision.REQUEST_CHANGES,
        actor_id=MANAGER,
        feedback=Feedback(what_to_change="語尾を柔らかく", reasons=("tone", "typo")),
        outcome=Outcome.CHANGES_REQUESTED,
        at=NOW,
    )
    reply = notices.build_decision_reply(result, settings=settings_for("ja"), t=translator("ja"))
    assert reply.blocks_json()[0]["text"]["text"] == (
        ":arrows_counterclockwise: <@U0MANAGER1> さんが修正を依頼しました（第 1 版）。\n"
        "*理由:* トーン・表現, 誤字脱字\n"
        "*修正してほしい点:* 語尾を柔らかく\n"
        "<@U0ALICE01> さん、投稿案を修正して「再提出」を押してください。"
    )


def test_resubmit_reply_shows_a_readable_diff_with_escaping() -> None:
    request = snapshot(revision=2, text="一行目\n<!channel> 修正後\n三行目", feedback_wanted="")
    result = ResubmitResult(request=request, previous_text="一行目\n修正前\n三行目", at=NOW)
    message = notices.build_resubmit_reply(result, t=translator("ja"))
    assert_valid_message(message)
    blocks = message.blocks_json()
    assert blocks[0]["text"]["text"] == "<@U0ALICE01> さんが投稿案を再提出しました（第 2 版）。"
    assert blocks[1]["text"]["text"] == (
        "*変更点* （− 削除、+ 追加）:\n```\n  一行目\n- 修正前\n+ &lt;!channel&gt; 修正後\n  三行目\n```"
    )
    assert blocks[2]["elements"][0]["text"] == "現在の確認待ち: <@U0MANAGER1>, <@U0MANAGER2>"


@pytest.mark.parametrize("locale", LOCALES)
def test_other_surfaces_validate(locale: str) -> None:
    settings, t = settings_for(locale), translator(locale)  # type: ignore[arg-type]
    request = snapshot(status=Status.APPROVED, text=HOSTILE)
    assert_valid_view(
        modals.build_resubmit_modal(snapshot(status=Status.CHANGES_REQUESTED), settings=settings, t=t)
    )
    assert_valid_view(modals.build_publish_modal(request, settings=settings, t=t, now=NOW))
    assert_valid_view(modals.build_refusal_view("<@U0MANAGER1> already approved", t=t))
    published = PublishResult(request=request, url="https://x.com/example_corp/status/1", published_at=NOW)
    for message in (
        notices.build_published_reply(published, settings=settings, t=t),
        notices.build_reminder(request, number=2, settings=settings, t=t),
        notices.build_escalation(request, settings=settings, t=t),
        notices.build_created_dm(request, settings=settings, t=t),
        listing.build_list(RequestList(mine=(request,), waiting=(snapshot(),)), settings=settings, t=t),
        listing.build_list(RequestList(), settings=settings, t=t),
        listing.build_help(settings, t),
    ):
        assert_valid_message(message)
        assert "<!channel>" not in message_json(message)


def test_list_links_each_request_to_its_message() -> None:
    message = listing.build_list(
        RequestList(mine=(snapshot(),), waiting=()), settings=settings_for("en"), t=translator("en")
    )
    raw = message_json(message)
    assert "<https://slack.com/archives/C0REVIEW01/p1763427600000100|冬の新商品のお知らせです。>" in raw
    assert "Your open requests (1)" in raw
    assert "No reviews are waiting on you." in raw


def test_a_full_list_says_how_many_there_are_and_how_many_are_not_shown() -> None:
    shown = tuple(snapshot(id=n) for n in range(20))
    full = RequestList(mine=shown, waiting=shown[:3], mine_total=31, waiting_total=3)
    raw = message_json(listing.build_list(full, settings=settings_for("en"), t=translator("en")))
    assert "Your open requests (31)" in raw
    assert "…and 11 more (newest first above)" in raw
    assert "Waiting on you (3)" in raw and "longest waiting first" not in raw  # all 3 are shown
    assert listing.build_list(full, settings=settings_for("en"), t=translator("en")).text == (
        "31 open request(s), 3 review(s) waiting on you"
    )


def test_publish_form_validation() -> None:
    t = translator("en")
    assert forms.validate_publish(PublishForm("https://x.com/a/status/1", NOW), t=t, now=NOW) == {}
    assert forms.validate_publish(PublishForm("not a url", NOW + timedelta(days=1)), t=t, now=NOW) == {
        BlockId.POST_URL: "Enter a full web address starting with https:// or http://.",
        BlockId.PUBLISHED_AT: "The publish time is in the future. Record the post once it is live.",
    }


def test_codecs_refuse_garbage() -> None:
    from bot.errors import BotError

    for bad in ("", "1:2", "a:b:c", "1:2:3:4", None, 5, "9" * 13 + ":1:1"):
        with pytest.raises(BotError):
            RequestRef.decode(bad)
    for bad in ("{", "[]", '{"r": "x"}', '{"d": "delete_everything"}'):
        with pytest.raises(BotError):
            ModalMeta.decode(bad)
    assert ModalMeta.decode("") == ModalMeta()


def test_pending_message_names_the_current_steps_approvers_who_are_away() -> None:
    from datetime import date

    request = snapshot()
    step_user = request.step.approvers[0]
    away = {step_user: date(2026, 11, 27), "U0SOMEONE9": date(2026, 12, 1)}  # the second is not in the step
    message = messages.build_review_message(
        request, settings=settings_for("ja"), t=translator("ja"), away=away
    )
    blocks = message.blocks_json()
    assert blocks[-1]["type"] == "context"
    assert blocks[-1]["elements"][0]["text"] == (
        f"不在のためリマインドしていない方: <@{step_user}> さん（11/27 まで不在）"
    )
    plain = messages.build_review_message(request, settings=settings_for("ja"), t=translator("ja"))
    assert plain.blocks_json()[-1]["type"] == "actions"


# ---------------------------------------------------------------------------------------------
# Issue 13 item 5: the whole draft, in as many sections as it takes
# ---------------------------------------------------------------------------------------------

_ENTITY = re.compile(r"&(amp|lt|gt);")
_PIECES = st.sampled_from(
    [
        "&",
        "<",
        ">",
        "<!channel>",
        "a",
        "あ",
        "\n",
        "😀",
        "👍🏽",
        "👨\u200d👩\u200d👧",
        "🇯🇵",
        "e\u0301",
        "1\ufe0f\u20e3",
    ]
)


def _unescape(text: str) -> str:
    return _ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)


def _longest_joined_run(text: str) -> int:
    """The longest run of code points that attach to the one before (only these can force a cut)."""
    longest = run = 0
    for char in text:
        joins = unicodedata.combining(char) or char in "\u200d\ufe0f\u20e3" or 0x1F3FB <= ord(char) <= 0x1F3FF
        run = run + 1 if joins else 0
        longest = max(longest, run)
    return longest


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=400).map("".join), st.integers(60, 3000))
def test_quote_sections_keep_every_character_and_never_cut_an_entity_or_a_character(
    text: str, limit: int
) -> None:
    # A run of joined code points longer than a section (no person types one) is cut anyway.
    assume(_longest_joined_run(text) < 20)
    sections = quote_sections(text, limit=limit)
    assert sections
    lines = [line for section in sections for line in section.split("\n")]
    for section in sections:
        assert slack_length(section) <= limit
        assert "<" not in section and ">" not in section.replace("&gt; ", "").replace("&gt;", "")
        assert all(_ENTITY.match(section, i) for i, ch in enumerate(section) if ch == "&")
    bodies = [_unescape(line[5:] if line.startswith("&gt; ") else "") for line in lines]
    # Nothing is left out: the pieces, in order, are the text without its line breaks.
    assert "".join(bodies) == text.replace("\n", "")
    # A line is cut only between characters: never before a combining mark, a variation selector, a
    # keycap or a skin tone, nor after a zero-width joiner.
    joined = "".join(bodies)
    line_starts, at = set(), 0
    for line in text.split("\n"):
        line_starts.add(at)
        at += len(line)
    at = 0
    for body in bodies:
        if body and at not in line_starts:
            assert not (unicodedata.combining(body[0]) or body[0] in "\u200d\ufe0f\u20e3"), repr(body)
            assert not 0x1F3FB <= ord(body[0]) <= 0x1F3FF and joined[at - 1] != "\u200d", repr(body)
        at += len(body)


def test_a_draft_split_between_lines_reads_back_exactly() -> None:
    draft = "\n".join(f"{i:03d} & <条件> " + "本文" * 40 for i in range(60))
    sections = quote_sections(draft)
    assert len(sections) > 1
    lines = [line for section in sections for line in section.split("\n")]
    assert "\n".join(_unescape(line[5:]) for line in lines) == draft


def _largest_accepted_draft(request: RequestSnapshot, settings: Settings, t: Any) -> str:
    """The longest draft of escapable text the request form still accepts for ``request``."""
    low, high = 1, 3000
    while low < high:
        middle = (low + high + 1) // 2
        text = ("注意 & <条件> " * 400)[:middle]
        if messages.draft_overflow(replace(request, text=text), settings=settings, t=t) == 0:
            low = middle
        else:
            high = middle - 1
    return ("注意 & <条件> " * 400)[:low]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_draft_accepted_at_submit_stays_whole_through_every_later_state(locale: str) -> None:
    """The room kept at submit covers what the message gains later: a full "approved so far", every
    approver away with a delegate, a decision with every reason, a long note and link."""
    settings, t = settings_for(locale), translator(locale)  # type: ignore[arg-type]
    approvers = tuple(f"U0APPR{i:04d}" for i in range(12))
    request = snapshot(
        steps=(StepView(0, approvers, "all"),),
        feedback_wanted="確認 & <お願い> " * 100,
        link_url="https://example.com/" + "a" * 1900,
        invitees=tuple(f"U0PICK{i:04d}" for i in range(5)),
    )
    text = _largest_accepted_draft(request, settings, t)
    assert len(text) > 1500  # a realistic long draft still fits
    later = [
        replace(request, text=text, steps=(StepView(0, approvers, "all", approvers[:-1]),)),
        replace(
            request,
            text=text,
            status=Status.CHANGES_REQUESTED,
            last_decision=LastDecision("changes_requested", MANAGER, NOW, tuple(settings.review.reasons)),
        ),
        replace(
            request, text=text, status=Status.APPROVED, last_decision=LastDecision("approved", MANAGER, NOW)
        ),
    ]
    away = {u: NOW.date() for u in approvers}
    delegates = dict.fromkeys(approvers, "U0DELEGATE1")
    for state in later:
        message = messages.build_review_message(state, settings=settings, t=t, away=away, delegates=delegates)
        assert_valid_message(message)
        blocks = message.blocks_json()
        assert t("review.message.draft_cut", length=f"{len(text):,}") not in json.dumps(
            blocks, ensure_ascii=False
        )
        quoted = [b["text"]["text"] for b in blocks if b.get("text", {}).get("text", "").startswith("&gt;")]
        assert quoted == quote_sections(text), state.status
    # One character more is refused at submit.
    assert messages.draft_overflow(replace(request, text=text + "&"), settings=settings, t=t) > 0


def test_a_draft_stored_before_the_check_says_plainly_that_its_end_is_not_shown() -> None:
    """A request made before drafts were checked at submit: never a silent cut, the buttons stay."""
    t = translator("ja")
    request = snapshot(text="&" * 3000)
    message = messages.build_review_message(request, settings=settings_for("ja"), t=t)
    assert_valid_message(message)
    raw = json.dumps(message.blocks_json(), ensure_ascii=False)
    assert "この投稿案（3,000 文字）は長すぎるため、ここでは末尾を表示できていません。" in raw
    assert message.blocks_json()[-1]["type"] == "actions"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("decision", [Decision.APPROVE, Decision.REQUEST_CHANGES, Decision.REJECT])
def test_decision_modals_show_the_whole_draft_and_the_step_they_decide(
    locale: str, decision: Decision
) -> None:
    settings, t = settings_for(locale), translator(locale)  # type: ignore[arg-type]
    text = "\n".join(f"{i}: & <規約> " + "あ" * 90 for i in range(40))  # ≈ 4,300 characters quoted
    request = snapshot(
        text=text, current_step=1, steps=(StepView(0, (MANAGER,), "any"), StepView(1, (MANAGER2,), "any"))
    )
    if decision is Decision.APPROVE:
        view = modals.build_approve_modal(request, settings=settings, t=t)
    else:
        view = modals.build_feedback_modal(request, decision=decision, settings=settings, t=t)
    raw = assert_valid_view(view)
    quoted = [
        b["text"]["text"] for b in raw["blocks"] if b.get("text", {}).get("text", "").startswith("&gt;")
    ]
    assert quoted == quote_sections(text) and len(quoted) > 1
    assert ModalMeta.decode(raw["private_metadata"]).step == 1
    about = raw["blocks"][1]["elements"][0]["text"]
    assert ("ステップ 2/2" if locale == "ja" else "step 2 of 2") in about


def test_the_review_message_names_the_reviewers_the_requester_picked_and_away_delegates() -> None:
    from datetime import date

    t = translator("ja")
    request = snapshot(invitees=("U0PICKED01",))
    message = messages.build_review_message(
        request,
        settings=settings_for("ja"),
        t=t,
        away={MANAGER: date(2026, 11, 27)},
        delegates={MANAGER: MANAGER2},
    )
    assert_valid_message(message)
    raw = json.dumps(message.blocks_json(), ensure_ascii=False)
    assert (
        "フィードバックの依頼先: <@U0PICKED01>（コメントしていただけます。承認の判断は上記の承認者が行います）"
        in raw
    )
    assert f"<@{MANAGER}> さん（11/27 まで不在、代理: <@{MANAGER2}> さん）" in raw
