"""Reading and checking the review modals' state (pure): every input parsed, each problem on its own block."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.i18n import translator
from bot.review import forms
from bot.review.ids import ActionId, BlockId, Decision
from bot.review.records import Feedback, PublishForm
from tests.conftest import MANAGER, MANAGER2, NOW, OPERATOR
from tests.review.ui_support import settings_for


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


def test_the_due_time_is_optional_not_in_the_past_and_not_after_the_planned_time() -> None:
    t, settings = translator("en"), settings_for("en")

    def check(due: datetime | None) -> dict[str, str]:
        state = _request_state()
        if due is not None:
            state[BlockId.DUE] = {
                ActionId.DUE: {"type": "datetimepicker", "selected_date_time": int(due.timestamp())}
            }
        form = forms.parse_request_modal(state)
        assert form.due_at == due
        assert form.due == (due or NOW + timedelta(days=1))
        return forms.validate_request(form, settings=settings, t=t, now=NOW, requester=OPERATOR)

    assert check(None) == {}
    assert check(NOW + timedelta(hours=3)) == {}
    assert check(NOW - timedelta(hours=1)) == {BlockId.DUE: "The due time is in the past."}
    assert check(NOW + timedelta(days=2)) == {
        BlockId.DUE: "The review cannot be due after the planned publish time."
    }


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


def test_publish_form_validation() -> None:
    t = translator("en")
    assert forms.validate_publish(PublishForm("https://x.com/a/status/1", NOW), t=t, now=NOW) == {}
    assert forms.validate_publish(PublishForm("not a url", NOW + timedelta(days=1)), t=t, now=NOW) == {
        BlockId.POST_URL: "Enter a full web address starting with https:// or http://.",
        BlockId.PUBLISHED_AT: "The publish time is in the future. Record the post once it is live.",
    }
