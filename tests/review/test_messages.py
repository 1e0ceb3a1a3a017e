"""The review channel message (pure): escaped in both languages, its buttons in every state, and drafts
shown whole (or said plainly not to be)."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.config import Settings
from bot.i18n import translator
from bot.review import messages
from bot.review.ids import ActionId, RequestRef, Status
from bot.review.records import LastDecision, RequestSnapshot, StepView
from bot.slack.blocks import quote_sections, slack_length
from tests.conftest import MANAGER, MANAGER2, NOW
from tests.review.ui_support import (
    HOSTILE,
    LOCALES,
    assert_valid_message,
    message_json,
    settings_for,
    snapshot,
)


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
    assert "ステップ 1/1（いずれか 1 人の承認）— <@U0MANAGER1>、<@U0MANAGER2> の確認待ち" in body
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
        assert ("トーン・表現、誤字脱字" if locale == "ja" else "Tone and wording, Typos") in raw


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
