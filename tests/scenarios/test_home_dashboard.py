"""The App Home as people see it after a signed ``app_home_opened``: an operator, a manager with
pending reviews (Approve from the Home works like in the channel), an admin, and a user with 500 open
items (Slack's 100-block limit holds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from bot.digest.models import DigestRun
from bot.kpi.models import CollectorRun
from bot.kpi.values import record_value
from bot.review.ids import ActionId as ReviewActionId
from bot.review.ids import CallbackId as ReviewCallbackId
from bot.review.models import ReviewRequest
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, MANAGER, MANAGER2, MGMT_CHANNEL, NOW, OPERATOR
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import add_many, add_request, buttons, home_envelope, next_home, open_home, texts


async def test_operator_sees_own_requests_with_status_and_thread_link_and_the_team_kpis(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    first = await add_request(
        deps,
        requester=OPERATOR,
        approvers=[MANAGER],
        text="採用イベントの告知 <!channel>",
        message_ts="1767225601.000100",
    )
    second = await add_request(deps, requester=OPERATOR, approvers=[MANAGER], at=NOW + timedelta(minutes=5))
    async with deps.sessions.begin() as session:
        await session.execute(
            update(ReviewRequest).where(ReviewRequest.id == second.id).values(status="changes_requested")
        )
        await record_value(
            session,
            kpi="recruiting_entries",
            month="2026-11",
            day=None,
            value=21,
            source="slack",
            user_id=ADMIN,
            now=NOW,
        )

    view = await open_home(sender, fake_slack, OPERATOR)
    body = texts(view)

    assert view["blocks"][0]["text"]["text"] == "SNS ダッシュボード"
    assert "2026年11月18日 時点・担当者として表示しています" in body
    assert "*あなたのレビュー待ち（0 件）*" in body
    assert "レビュー待ちはありません。:tada:" in body
    assert "*あなたの進行中の依頼（2 件）*" in body
    assert (
        ":hourglass_flowing_sand: *レビュー待ち*・X 公式 · "
        "<https://slack.com/archives/C0REVIEW01/p1767225601000100|スレッドを開く>\n"
        "&gt; 採用イベントの告知 &lt;!channel&gt;"
    ) in body
    assert ":pencil2: *差し戻し中: 修正できたら再提出してください*・X 公式\n&gt; 新商品の告知です" in body
    assert "<!channel>" not in body  # a draft never pings anyone from the Home
    # This month's KPIs at a glance: value, target, % of target and the pace signal.
    assert "*2026年11月の指標*・今月の 58% が経過" in body
    assert "*採用エントリー数*　21／目標 30（達成率 70%）\n:large_green_circle: 目標ペースです" in body
    assert (
        "*指名検索数*　実績はまだありません（目標 12,000）\n:white_circle: 比較できる実績がまだありません"
        in body
    )
    assert "まだレポートは投稿されていません。" in body
    # Operators may not record KPI values here (setters = managers), have no away mode and no admin part.
    assert buttons(view) == [(ReviewActionId.START.value, "review"), ("home.share_win", "win")]
    assert "不在設定" not in body
    assert "管理者向け" not in body
    assert first.id < second.id


async def test_manager_sees_reviews_oldest_first_and_approve_on_the_home_works_like_in_the_channel(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    newer = await add_request(
        deps, requester=OPERATOR, approvers=[MANAGER, MANAGER2], text="新しい方", at=NOW
    )
    older = await add_request(
        deps,
        requester=OPERATOR,
        approvers=[MANAGER, MANAGER2],
        text="古い方",
        at=NOW - timedelta(hours=30),
        message_ts="1767225601.000200",
    )
    await add_request(deps, requester=OPERATOR, approvers=[MANAGER2], text="他の人宛て")

    view = await open_home(sender, fake_slack, MANAGER)
    body = texts(view)
    assert "*あなたのレビュー待ち（2 件）*" in body
    assert body.index("古い方") < body.index("新しい方")
    assert "他の人宛て" not in body
    assert "<@U0ALICE01>・*X 公式*・投稿予定 <!date^" in body
    assert buttons(view)[:7] == [
        (ReviewActionId.START.value, "review"),
        ("home.record_kpi", "kpi"),
        ("home.share_win", "win"),
        # A manager can open the introduction they got once (bot.welcome).
        ("welcome.reopen", "welcome"),
        (ReviewActionId.APPROVE.value, f"{older.id}:1:1"),
        (ReviewActionId.REQUEST_CHANGES.value, f"{older.id}:1:1"),
        (ReviewActionId.APPROVE.value, f"{newer.id}:1:1"),
    ]
    assert "*不在設定*" in body

    # Approve on the Home: the review feature's listener takes it from here (its approve modal).
    click = payloads.block_action(
        ReviewActionId.APPROVE.value,
        f"{older.id}:1:1",
        user_id=MANAGER,
        block_id=f"home_review_{older.id}",
        view=home_envelope(fake_slack, MANAGER),
    )
    assert (await sender.interactive(click)).status == 200
    opened = (await fake_slack.wait_for("views.open"))[0].params["view"]
    assert opened["callback_id"] == ReviewCallbackId.APPROVE.value
    submit = payloads.view_submission(
        ReviewCallbackId.APPROVE.value, {}, private_metadata=opened["private_metadata"], user_id=MANAGER
    )
    assert (await sender.interactive(submit)).status == 200
    await deps.inflight.drain(5)

    view = await open_home(sender, fake_slack, MANAGER)
    body = texts(view)
    assert "*あなたのレビュー待ち（1 件）*" in body
    assert "古い方" not in body and "新しい方" in body


async def test_admin_sees_digest_schedule_and_collectors_and_gets_a_preview_in_dm(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    posted_at = datetime(2026, 11, 16, 0, 0, 5, tzinfo=UTC)  # Monday 09:00:05 JST
    async with deps.sessions.begin() as session:
        session.add_all(
            [
                DigestRun(
                    kind="weekly",
                    period="2026-W46",
                    channel_id=MGMT_CHANNEL,
                    status="posted",
                    attempts=1,
                    message_ts="1794787205.000100",
                    created_at=posted_at,
                    posted_at=posted_at,
                ),
                DigestRun(
                    kind="monthly",
                    period="2026-10",
                    channel_id=MGMT_CHANNEL,
                    status="failed",
                    attempts=3,
                    error="not_in_channel",
                    created_at=datetime(2026, 11, 2, 0, 0, tzinfo=UTC),
                ),
                CollectorRun(
                    platform="x",
                    started_at=NOW - timedelta(hours=3),
                    finished_at=NOW - timedelta(hours=3) + timedelta(seconds=40),
                    status="ok",
                    posts_updated=12,
                    posts_seen=42,
                    posts_new=3,
                ),
                CollectorRun(
                    platform="instagram",
                    started_at=NOW - timedelta(hours=3),
                    finished_at=NOW - timedelta(hours=3),
                    status="failed",
                    posts_updated=0,
                    error="OAuthException: token expired",
                ),
            ]
        )

    view = await open_home(sender, fake_slack, ADMIN)
    body = texts(view)
    assert "管理者として表示しています" in body
    assert "• 週次ハイライト 2026-W46・<https://slack.com/archives/C0MGMT0001/p1794787205000100|開く>" in body
    assert (
        ":white_check_mark: *週次ハイライト* → <#C0MGMT0001>\n    前回: 2026-W46 投稿済み (<!date^1794787205^"
        in body
    )
    assert "次回: <!date^1795392000^{date_short_pretty} {time}|2026-11-23 09:00>" in body
    assert ":x: *月次 KPI レポート* → <#C0MGMT0001>\n    前回: 2026-10 失敗" in body
    assert "次回: <!date^1796083200^{date_short_pretty} {time}|2026-12-01 09:00>" in body
    assert "    _エラー:_ `not_in_channel`" in body
    # The data-freshness line: when each platform was last collected and how many posts it measured.
    assert (
        ":white_check_mark: *X*: <!date^1794952840^" in body and "更新・投稿 42 件（新規 3 件）・正常" in body
    )
    assert (
        ":x: *Instagram*: <!date^" in body and "・失敗" in body and "`OAuthException: token expired`" in body
    )
    assert ("home.digest_preview", "weekly") in buttons(view)

    click = payloads.block_action(
        "home.digest_preview", "weekly", user_id=ADMIN, view=home_envelope(fake_slack, ADMIN)
    )
    assert (await sender.interactive(click)).status == 200
    sent = await fake_slack.wait_for("chat.postMessage", count=2)
    assert [c.params["channel"] for c in sent] == [ADMIN, ADMIN]
    assert sent[0].params["text"].startswith(":eyes: 2026-W46 の週次ハイライトのプレビューです。")
    assert "metadata" not in sent[1].params  # never mistaken for the channel post
    assert fake_slack.messages(MGMT_CHANNEL) == []  # nothing was posted to the channel


async def test_a_user_with_500_open_items_gets_a_home_within_100_blocks(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    await add_many(deps, requester=OPERATOR, approver=MANAGER, count=500)
    await add_many(deps, requester=MANAGER, approver=MANAGER2, count=500)

    view = await open_home(sender, fake_slack, MANAGER)
    body = texts(view)
    assert len(view["blocks"]) <= 100
    assert "*あなたのレビュー待ち（500 件）*" in body
    assert "*あなたの進行中の依頼（500 件）*" in body
    assert body.count("…ほか 490 件は `/sns-review list` でご確認ください") == 2
    assert "下書き 000" in body and "下書き 009" in body and "下書き 010" not in body  # oldest first
    approve = [v for a, v in buttons(view) if a == ReviewActionId.APPROVE.value]
    assert len(approve) == 10


async def test_home_opened_on_the_messages_tab_publishes_nothing_and_bursts_publish_once(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    from bot.home.publisher import HomePublisher

    messages = payloads.event(
        payloads.app_home_opened(user_id=OPERATOR, tab="messages"), event_id="Ev0MSGTAB1"
    )
    assert (await sender.event(messages)).status == 200
    await open_home(sender, fake_slack, OPERATOR)
    publisher = deps.home
    assert isinstance(publisher, HomePublisher)
    await publisher.drain()  # the first publish has finished (the Home is now known)
    count = len(fake_slack.calls_to("views.publish"))
    for _ in range(10):  # e.g. ten KPI values imported at once
        deps.home.refresh()
    await publisher.drain()
    assert len(fake_slack.calls_to("views.publish")) == count + 1
    view = await next_home(fake_slack, OPERATOR, after=count)
    assert view["blocks"][0]["text"]["text"] == "SNS ダッシュボード"
