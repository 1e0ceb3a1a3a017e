"""The demo's built-in config and a realistic quarter of sample data (I/O: writes to a passed-in session).

Everything is deterministic (a seeded random generator, a fixed "now"), so the demo prints the
same digests on every machine. The config is built in code — the user's config.toml is never
read — with Japanese names a Japanese SNS team would recognise.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest.models import Win
from bot.kpi.records import PostRecord
from bot.kpi.values import record_value, sync_accounts, upsert_posts
from bot.metrics import Metrics
from bot.periods import month_of, months_back
from bot.review.models import ReviewApprover, ReviewEvent, ReviewRequest, ReviewRevision

TOKYO = ZoneInfo("Asia/Tokyo")
#: The demo's "now": Monday 2026-11-30 09:00 in Tokyo, when the weekly digest of 2026-W48 is due.
DEMO_NOW = datetime(2026, 11, 30, 9, 0, tzinfo=TOKYO).astimezone(UTC)
#: The quarter of day-to-day activity (posts, reviews, wins), Monday to Sunday.
QUARTER_START = datetime(2026, 9, 1, tzinfo=TOKYO)
QUARTER_END = datetime(2026, 11, 30, tzinfo=TOKYO)

SATO = "U0DEMOSATO"
SUZUKI = "U0DEMOSUZU"
TANAKA = "U0DEMOTANA"
TAKAHASHI = "U0DEMOTAKA"
YAMAMOTO = "U0DEMOYAMA"
OPERATORS = (SATO, SUZUKI)
MANAGERS = (TANAKA, TAKAHASHI)

#: How user ids read in the terminal (Slack shows the real names by itself).
NAMES: Mapping[str, Mapping[str, str]] = {
    "ja": {
        SATO: "佐藤 美咲",
        SUZUKI: "鈴木 健太",
        TANAKA: "田中 部長",
        TAKAHASHI: "高橋 課長",
        YAMAMOTO: "山本 真理",
    },
    "en": {
        SATO: "Misaki Sato",
        SUZUKI: "Kenta Suzuki",
        TANAKA: "Tanaka (Director)",
        TAKAHASHI: "Takahashi (Manager)",
        YAMAMOTO: "Mari Yamamoto",
    },
}


def demo_config(*, locale: str, database_url: str) -> dict[str, Any]:
    """The demo's config as a TOML-shaped mapping."""
    return {
        "locale": locale,
        "timezone": "Asia/Tokyo",
        "database": {"url": database_url},
        "roles": {"managers": list(MANAGERS), "admins": [YAMAMOTO]},
        "review": {"channel": "C0DEMOREVW", "escalation_channel": "C0DEMOMGMT"},
        "digest": {
            "weekly": {"channels": ["C0DEMOTEAM"], "min_impressions": 500},
            "monthly": {"channels": ["C0DEMOMGMT"]},
        },
        "accounts": [
            {"key": "x_corp", "platform": "x", "handle": "@sakura_foods_jp", "name": "さくらフーズ公式 X"},
            {
                "key": "ig_recruit",
                "platform": "instagram",
                "handle": "@sakura_recruit",
                "name": "さくらフーズ採用 Instagram",
            },
        ],
        "kpis": [
            {
                "key": "recruiting_entries",
                "name": {"ja": "採用エントリー数", "en": "Recruiting entries"},
                "unit": "",
                "aggregate": "sum",
                "better": "higher",
                "target": 30,
                "why": {
                    "ja": "SNS 経由の応募は人材紹介より採用単価が低く、社風に合う人が集まります。",
                    "en": "Applicants who come through SNS cost less than agency hires and fit the culture better.",
                },
            },
            {
                "key": "engagement_rate",
                "name": {"ja": "エンゲージメント率", "en": "Engagement rate"},
                "unit": "%",
                "aggregate": "derived",
                "derive": "engagement_rate",
                "better": "higher",
                "target": 3.0,
                "why": {
                    "ja": "投稿がどれだけ「自分ごと」として読まれたかを表し、ファンづくりの先行指標です。",
                    "en": "How much people care about what we post; it leads fan growth.",
                },
            },
            {
                "key": "branded_search",
                "name": {"ja": "指名検索数", "en": "Branded searches"},
                "unit": "",
                "aggregate": "last",
                "better": "higher",
                "target": 12000,
                "why": {
                    "ja": "「さくらフーズ」で検索する人の数。SNS で生まれた関心が認知に変わったかを示します。",
                    "en": "People searching for our name: whether interest from SNS turned into awareness.",
                },
            },
            {
                "key": "impressions",
                "name": {"ja": "インプレッション数", "en": "Impressions"},
                "unit": "",
                "aggregate": "derived",
                "derive": "impressions",
                "better": "higher",
                "target": 150000,
                "why": {
                    "ja": "投稿が届いた回数。まず見てもらえなければ何も始まりません。",
                    "en": "How often our posts were seen: nothing starts without reach.",
                },
            },
        ],
    }


_X_POSTS = (
    "【新商品】冬限定「ゆず香る白だし鍋スープ」本日発売です🍲",
    "工場見学レポート：できたての白だしを試飲してきました",
    "社員がおすすめする、白だしで作る簡単おつまみレシピ 3 選",
    "いつもご愛用ありがとうございます。年末年始の配送スケジュールのお知らせ",
    "【プレゼント企画】フォロー＆リポストで冬ギフトセットが当たります",
    "管理栄養士監修：寒い日に体が温まるスープの選び方",
    "お客様の声：「子どもが野菜をよく食べるようになりました」",
    "ロングセラー「香りだし」が発売 30 周年を迎えました",
)
_IG_POSTS = (
    "【社員インタビュー】入社 2 年目、商品開発の 1 日に密着",
    "採用説明会のお知らせ（オンライン・12 月開催）",
    "リール：新人研修の様子をのぞいてみました",
    "先輩社員に聞く「さくらフーズを選んだ理由」",
    "オフィス紹介：社員食堂の人気メニュー",
)
_REASONS = (
    "tone",
    "unsupported_claim",
    "missing_asset",
    "timing_conflict",
    "brand_guideline",
    "legal_risk",
    "typo",
)
_REASON_WEIGHTS = (6, 4, 3, 2, 3, 2, 5)
_WINS = (
    ("採用説明会の告知投稿から 1 日で 18 件の申込がありました", "recruiting_entries"),
    ("冬限定スープの発売投稿が 2.1 万インプレッションを記録しました", "impressions"),
    ("営業部から「SNS を見て問い合わせた」という新規取引先の声が届きました", None),
    ("社員インタビューのリールに学生から 40 件以上のコメントが付きました", "engagement_rate"),
    ("プレゼント企画でフォロワーが 1 週間で 600 人増えました", None),
    ("「さくらフーズ 採用」の検索数が過去最高になりました", "branded_search"),
    ("工場見学レポートがテレビ局の目に留まり、取材依頼をいただきました", None),
)


def _metrics(rng: random.Random, *, instagram: bool) -> Metrics:
    impressions = rng.randint(1800, 9000) if instagram else rng.randint(600, 16000)
    rate = rng.uniform(2.2, 6.0) if instagram else rng.uniform(1.2, 4.4)
    engagements = round(impressions * rate / 100)
    likes = round(engagements * 0.7)
    return Metrics(
        impressions=impressions, engagements=engagements, likes=likes, comments=round(engagements * 0.1)
    )


def _post_record(
    rng: random.Random, *, n: int, at: datetime, instagram: bool, author: str | None
) -> PostRecord:
    text = rng.choice(_IG_POSTS if instagram else _X_POSTS)
    return PostRecord(
        platform="instagram" if instagram else "x",
        external_id=f"demo{n}",
        published_at=at.astimezone(UTC),
        url=f"https://www.instagram.com/p/Demo{n}/"
        if instagram
        else f"https://x.com/sakura_foods_jp/status/18{n:08d}",
        text=text,
        account_key="ig_recruit" if instagram else "x_corp",
        author=author,
        metrics=_metrics(rng, instagram=instagram),
    )


def _asked_before(at: datetime, *, n: int) -> datetime:
    """When the review of a post going out at ``at`` was asked for: two days before, in the working
    day (a weekend moves it back to the Friday before)."""
    asked = (at - timedelta(days=2)).replace(hour=(10, 11, 14, 15, 16)[n % 5])
    if asked.weekday() >= 5:
        asked -= timedelta(days=asked.weekday() - 4)
    return asked.astimezone(UTC)


async def _add_review(
    session: AsyncSession,
    rng: random.Random,
    *,
    number: int,
    requester: str,
    account: str,
    text: str,
    created: datetime,
    outcome: str,
) -> int:
    """A review request with its audit trail; ``outcome`` is ``published``, ``rejected`` or ``pending``."""
    manager = rng.choice(MANAGERS)
    request = ReviewRequest(
        requester_id=requester,
        account_key=account,
        status=outcome,
        current_step=0,
        revision=1,
        version=1,
        created_at=created,
        waiting_since=created,
        channel_id="C0DEMOREVW",
        message_ts=f"{int(created.timestamp())}.{number:06d}",
    )
    session.add(request)
    await session.flush()
    session.add(
        ReviewRevision(request_id=request.id, number=1, text=text, author_id=requester, created_at=created)
    )
    for user in MANAGERS:
        session.add(ReviewApprover(request_id=request.id, step=0, user_id=user, mode="any"))
    events = [
        ReviewEvent(
            request_id=request.id, kind="requested", actor_id=requester, revision=1, created_at=created
        )
    ]
    if outcome != "pending":
        decided = created + timedelta(hours=rng.choice((1, 2, 3, 5, 8, 20, 26, 44)) + rng.random())
        if rng.random() < 0.35 or outcome == "rejected":
            reasons = sorted(set(rng.choices(_REASONS, weights=_REASON_WEIGHTS, k=rng.choice((1, 2)))))
            kind = "rejected" if outcome == "rejected" else "changes_requested"
            when = decided if outcome == "rejected" else created + (decided - created) / 2
            events.append(
                ReviewEvent(
                    request_id=request.id,
                    kind=kind,
                    actor_id=manager,
                    revision=1,
                    created_at=when,
                    reasons=reasons,
                    what_to_change="表現を少し柔らかくしてください" if "tone" in reasons else None,
                )
            )
        if outcome != "rejected":
            events.append(
                ReviewEvent(
                    request_id=request.id, kind="approved", actor_id=manager, revision=1, created_at=decided
                )
            )
        request.decided_at = decided
    session.add_all(events)
    return request.id


async def seed(session: AsyncSession, *, settings: Any) -> None:
    """Fill an empty store with the demo's quarter (and a year of KPI history for MoM/YoY)."""
    rng = random.Random(20261130)
    await sync_accounts(session, accounts=settings.accounts)
    records: list[PostRecord] = []
    n = 0
    # A year of lighter history, so the 12-month chart and year-over-year change have data.
    for month in months_back(month_of(QUARTER_START.date()).previous(), 10):
        for i in range(20):
            n += 1
            at = datetime(month.start.year, month.start.month, 1 + i * 27 // 20, 12 + i % 8, tzinfo=TOKYO)
            records.append(_post_record(rng, n=n, at=at, instagram=i % 3 == 2, author=None))
    # The quarter: X on Tue/Thu/Fri, Instagram on Wed/Sat, each through a review.
    day = QUARTER_START
    review_number = 0
    while day < QUARTER_END:
        for weekday, instagram in ((1, False), (2, True), (3, False), (4, False), (5, True)):
            if day.weekday() != weekday:
                continue
            n += 1
            review_number += 1
            author = OPERATORS[n % 2]
            at = day.replace(hour=rng.choice((8, 12, 18, 20)))
            record = _post_record(rng, n=n, at=at, instagram=instagram, author=author)
            records.append(record)
            await _add_review(
                session,
                rng,
                number=review_number,
                requester=author,
                account=record.account_key or "x_corp",
                text=record.text,
                created=_asked_before(at, n=n),
                outcome="published",
            )
        if day.weekday() == 0 and rng.random() < 0.3:  # now and then a draft is turned down
            review_number += 1
            await _add_review(
                session,
                rng,
                number=review_number,
                requester=rng.choice(OPERATORS),
                account="x_corp",
                text="【速報】業界 No.1 の売上を達成しました！",
                created=day.replace(hour=11).astimezone(UTC),
                outcome="rejected",
            )
        day += timedelta(days=1)
    await upsert_posts(session, records, source="demo", now=DEMO_NOW)
    # Two drafts still waiting on the managers.
    for hours, author, text in (
        (50, SUZUKI, "年末年始の営業日のお知らせ"),
        (20, SATO, "【社員インタビュー】品質管理チームの仕事"),
    ):
        review_number += 1
        await _add_review(
            session,
            rng,
            number=review_number,
            requester=author,
            account="x_corp",
            text=text,
            created=DEMO_NOW - timedelta(hours=hours),
            outcome="pending",
        )
    # Wins, one every other week, the last two in the digest's week.
    for i, (what, kpi) in enumerate(_WINS):
        at = (
            (QUARTER_END - timedelta(days=69 - i * 10)).astimezone(UTC)
            if i < 5
            else (QUARTER_END - timedelta(days=7 - i, hours=-10)).astimezone(UTC)
        )
        session.add(
            Win(
                channel_id="C0DEMOTEAM",
                message_ts=f"{int(at.timestamp())}.000100",
                permalink=f"https://sakura-foods.slack.com/archives/C0DEMOTEAM/p{int(at.timestamp())}000100",
                message_author=OPERATORS[i % 2],
                what_happened=what,
                kpi_key=kpi,
                nominated_by=MANAGERS[i % 2] if i % 3 else OPERATORS[(i + 1) % 2],
                created_at=at,
            )
        )
    # Recorded KPIs: 13 months of month-level values.
    months = months_back(month_of(QUARTER_END.date() - timedelta(days=1)), 13)
    entries = (17, 19, 22, 18, 21, 24, 23, 26, 25, 27, 24, 28, 34)
    searches = (9100, 9300, 9800, 9600, 10100, 10300, 10200, 10800, 11000, 11400, 11900, 12300, 12900)
    for month, entry, search in zip(months, entries, searches, strict=True):
        await record_value(
            session,
            kpi="recruiting_entries",
            month=month.label,
            day=None,
            value=entry,
            source="demo",
            user_id=YAMAMOTO,
            now=DEMO_NOW,
        )
        await record_value(
            session,
            kpi="branded_search",
            month=month.label,
            day=None,
            value=search,
            source="demo",
            user_id=YAMAMOTO,
            now=DEMO_NOW,
        )
