"""Pure parts of the Home: the view within Slack's limits for any data and message links (away mode's
section and rules: tests/away; the "record a KPI value" modal: tests/kpi)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.home import ui
from bot.home.records import AdminData, CollectorState, DigestState, HomeData, ItemPage, ReviewItem
from bot.i18n import translator
from bot.kpi.status import KpiMonth, assess
from bot.periods import month_of
from bot.slack.blocks import divider
from tests.conftest import ADMIN, MANAGER, NOW, OPERATOR, make_settings


def _item(i: int, *, status: str = "pending") -> ReviewItem:
    return ReviewItem(
        id=i,
        revision=1,
        version=2,
        requester_id=OPERATOR,
        account_key="x_corp",
        status=status,
        text=f"draft {i} " + "x" * 400,
        planned_at=NOW + timedelta(days=1),
        waiting_since=NOW - timedelta(hours=i),
        channel_id="C0REVIEW01",
        message_ts=f"1767225601.{i:06d}",
    )


def _data(*, waiting: int, mine: int, kpis: int = 3, admin: bool = False) -> HomeData:
    settings = make_settings()
    kpi = settings.kpis[0]
    statuses = tuple(
        assess(
            kpi,
            KpiMonth(kpi.key, "2026-11", 10.0, 30.0),
            KpiMonth(kpi.key, "2026-10", 8.0, 30.0),
            elapsed=0.5,
        )
        for _ in range(kpis)
    )
    return HomeData(
        user_id=ADMIN if admin else MANAGER,
        now=NOW,
        is_manager=True,
        is_admin=admin,
        can_record=True,
        away_until=date(2026, 11, 20),
        waiting=ItemPage(tuple(_item(i) for i in range(min(waiting, 10))), waiting),
        mine=ItemPage(tuple(_item(100 + i, status="approved") for i in range(min(mine, 10))), mine),
        month=month_of(date(2026, 11, 18)),
        elapsed=0.58,
        kpis=statuses,
        digests=(),
        admin=AdminData(
            digests=(
                DigestState(
                    "weekly", ("C0MGMT0001",), "missed", "2026-W46", NOW, NOW + timedelta(days=5), None
                ),
                DigestState("monthly", (), "off", None, None, None, None),
            ),
            collectors=(CollectorState("x", "failed", NOW, NOW, 0, "boom " * 200),),
        )
        if admin
        else None,
    )


def test_home_with_any_amount_of_data_fits_100_blocks_and_validates_in_english() -> None:
    settings = make_settings(change=lambda raw: raw.update(locale="en"))
    view = ui.build_home(
        _data(waiting=500, mine=500, kpis=40, admin=True), settings=settings, t=translator("en")
    )
    view.validate_json()
    payload = view.to_dict()
    assert len(payload["blocks"]) <= 100
    text = str(payload)
    assert "*Reviews waiting on you (500)*" in text
    assert text.count("…and 490 more: see `/sns-review list`") == 2
    assert "…and 25 more · Details and charts" in text  # 15 KPIs shown of 40
    assert ":warning: *Weekly wins* → <#C0MGMT0001>" in text and "2026-W46 missed" in text
    assert ":no_entry_sign: Monthly KPI digest: no channel configured" in text
    assert ":palm_tree: You are away until 2026-11-20." in text


def test_cap_blocks_says_when_it_cut() -> None:
    capped = ui.cap_blocks([divider() for _ in range(150)], more="cut")
    assert len(capped) == 100
    assert capped[-1].to_dict() == {"type": "context", "elements": [{"type": "mrkdwn", "text": "cut"}]}
    assert ui.cap_blocks([divider()], more="cut") == [divider()]


def test_review_buttons_carry_the_review_features_ids_and_reference() -> None:
    block = ui.decision_buttons(replace(_item(7), version=3), translator("en")).to_dict()
    assert block["block_id"] == "home_review_7"
    assert [(e["action_id"], e["value"], e["text"]["text"]) for e in block["elements"]] == [
        ("review.approve", "7:1:3", "Approve"),
        ("review.request_changes", "7:1:3", "Request changes"),
    ]


def test_a_collectors_error_on_the_admins_home_is_in_the_admins_language() -> None:
    from bot.kpi import run_errors
    from bot.runtime.platforms import PlatformError, PlatformErrorKind

    stored = run_errors.encode([PlatformError(PlatformErrorKind.AUTH, platform="x", detail="HTTP 401")])
    assert stored is not None
    data = _data(waiting=0, mine=0, admin=True)
    assert data.admin is not None
    data = replace(
        data, admin=replace(data.admin, collectors=(CollectorState("x", "failed", NOW, NOW, 0, stored),))
    )
    texts = {}
    for locale in ("ja", "en"):
        t = translator(locale)
        texts[locale] = str(ui.build_home(data, settings=make_settings(), t=t).to_dict())
        expected = PlatformError(PlatformErrorKind.AUTH, platform="x", detail="HTTP 401").render(t)
        assert expected.split("（")[0].split(" (")[0] in texts[locale]
    assert "platforms.errors.auth" not in texts["en"] and '"key"' not in texts["en"]
