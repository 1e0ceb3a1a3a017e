"""The review modals (pure): they validate in both languages, prefill, show the whole draft and the step
a decision is for, and carry the request's reference."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.i18n import translator
from bot.review import modals
from bot.review.ids import BlockId, CallbackId, Decision, ModalMeta, RequestRef
from bot.review.records import StepView
from bot.slack.blocks import quote_sections
from tests.conftest import MANAGER, MANAGER2, NOW, make_settings
from tests.review.ui_support import HOSTILE, LOCALES, assert_valid_view, settings_for, snapshot


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
