"""``[digest]`` (pure): where and when the weekly, monthly and quarterly digests are posted, whether
they come with a PDF page, and how late a missed one may still be."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any, Literal

from bot.config.reader import Reader
from bot.config.values import LocalizedText, check_cron, is_channel_id

#: At most this many questions open the monthly digest's thread (two or three read best).
QUESTIONS_MAX = 5


@dataclass(frozen=True, slots=True)
class WeeklyDigestSettings:
    channels: tuple[str, ...] = ()
    cron: str = "0 9 * * mon"
    min_impressions: int = 100
    top_posts: int = 5
    #: What a week with no activity does: post one short line, or skip.
    when_empty: Literal["post", "skip"] = "post"


@dataclass(frozen=True, slots=True)
class MonthlyDigestSettings:
    channels: tuple[str, ...] = ()
    #: ``None``: first Japanese business day at ``at``.
    cron: str | None = None
    at: time = time(9, 0)
    best_posts: int = 3
    when_empty: Literal["post", "skip"] = "post"
    #: Questions that open the digest's thread; ``None``: the catalog's defaults, ``()``: none.
    questions: tuple[LocalizedText, ...] | None = None
    #: The managers' participation section: thank by name those who took part (the rest only counted),
    #: totals only, or no section.
    participation: Literal["named", "counts", "off"] = "named"
    #: Attach the digest as a one-page A4 PDF in its thread (for people who read it on paper).
    pdf: bool = True


@dataclass(frozen=True, slots=True)
class QuarterlyDigestSettings:
    """The fiscal quarter's digest for executives; off unless ``enabled``."""

    enabled: bool = False
    channels: tuple[str, ...] = ()
    #: The quarter's digest goes out on this business day (1 = the first) of the month after it.
    business_day: int = 1
    at: time = time(9, 0)
    best_posts: int = 5
    when_empty: Literal["post", "skip"] = "post"
    pdf: bool = True

    @property
    def active_channels(self) -> tuple[str, ...]:
        """Where it is posted: nowhere unless enabled."""
        return self.channels if self.enabled else ()


@dataclass(frozen=True, slots=True)
class DigestSettings:
    catch_up_days: float = 3
    weekly: WeeklyDigestSettings = WeeklyDigestSettings()
    monthly: MonthlyDigestSettings = MonthlyDigestSettings()
    quarterly: QuarterlyDigestSettings = QuarterlyDigestSettings()
    #: A claim on a digest post older than this is considered abandoned (the poster died).
    lease_seconds: int = 120


def read_digest(r: Reader, raw: Mapping[str, Any]) -> DigestSettings:
    t = r.table(raw, "digest", "")
    r.known(t, "digest", ("catch_up_days", "weekly", "monthly", "quarterly", "lease_seconds"))
    catch_up = r.get(t, "catch_up_days", "digest", (int, float), 3)
    if catch_up < 0:
        r.add("digest.catch_up_days", "negative")
        catch_up = 3
    lease = r.get(t, "lease_seconds", "digest", int, 120)
    if lease < 10:
        r.add("digest.lease_seconds", "bad_choice", value=str(lease), choices="≥ 10")
        lease = 120
    weekly = _weekly(r, t)
    monthly = _monthly(r, t)
    quarterly = _quarterly(r, t)
    return DigestSettings(
        catch_up_days=float(catch_up),
        weekly=weekly,
        monthly=monthly,
        quarterly=quarterly,
        lease_seconds=lease,
    )


def _channels(r: Reader, raw: Mapping[str, Any], path: str) -> tuple[str, ...]:
    return r.ids(raw, "channels", path, is_channel_id, "channel")


def _weekly(r: Reader, t: Mapping[str, Any]) -> WeeklyDigestSettings:
    w = r.table(t, "weekly", "digest")
    r.known(w, "digest.weekly", ("channels", "cron", "min_impressions", "top_posts", "when_empty"))
    w_cron = r.get(w, "cron", "digest.weekly", str, "0 9 * * mon")
    if (why := check_cron(w_cron)) is not None:
        r.add("digest.weekly.cron", "bad_cron", value=w_cron, reason=why)
    min_imp = r.get(w, "min_impressions", "digest.weekly", int, 100)
    if min_imp < 0:
        r.add("digest.weekly.min_impressions", "negative")
        min_imp = 100
    top = r.get(w, "top_posts", "digest.weekly", int, 5)
    if not 1 <= top <= 20:
        r.add("digest.weekly.top_posts", "bad_choice", value=str(top), choices="1 … 20")
        top = 5
    return WeeklyDigestSettings(
        channels=_channels(r, w, "digest.weekly"),
        cron=w_cron,
        min_impressions=min_imp,
        top_posts=top,
        when_empty=r.choice(w, "when_empty", "digest.weekly", ("post", "skip"), "post"),
    )


def _monthly(r: Reader, t: Mapping[str, Any]) -> MonthlyDigestSettings:
    m = r.table(t, "monthly", "digest")
    r.known(
        m,
        "digest.monthly",
        ("channels", "cron", "at", "best_posts", "when_empty", "participation", "pdf", "questions"),
    )
    m_cron = r.get(m, "cron", "digest.monthly", str, None)
    if m_cron is not None and (why := check_cron(m_cron)) is not None:
        r.add("digest.monthly.cron", "bad_cron", value=m_cron, reason=why)
    best = r.get(m, "best_posts", "digest.monthly", int, 3)
    if not 1 <= best <= 10:
        r.add("digest.monthly.best_posts", "bad_choice", value=str(best), choices="1 … 10")
        best = 3
    return MonthlyDigestSettings(
        channels=_channels(r, m, "digest.monthly"),
        cron=m_cron,
        at=r.hhmm(m, "at", "digest.monthly", time(9)),
        best_posts=best,
        when_empty=r.choice(m, "when_empty", "digest.monthly", ("post", "skip"), "post"),
        questions=_questions(r, m),
        participation=r.choice(m, "participation", "digest.monthly", ("named", "counts", "off"), "named"),
        pdf=r.get(m, "pdf", "digest.monthly", bool, True),
    )


def _quarterly(r: Reader, t: Mapping[str, Any]) -> QuarterlyDigestSettings:
    path = "digest.quarterly"
    q = r.table(t, "quarterly", "digest")
    r.known(q, path, ("enabled", "channels", "business_day", "at", "best_posts", "when_empty", "pdf"))
    enabled = r.get(q, "enabled", path, bool, False)
    channels = _channels(r, q, path)
    if enabled and not channels:
        r.add(f"{path}.channels", "missing")
    day = r.get(q, "business_day", path, int, 1)
    if not 1 <= day <= 10:
        r.add(f"{path}.business_day", "bad_choice", value=str(day), choices="1 … 10")
        day = 1
    best = r.get(q, "best_posts", path, int, 5)
    if not 1 <= best <= 10:
        r.add(f"{path}.best_posts", "bad_choice", value=str(best), choices="1 … 10")
        best = 5
    return QuarterlyDigestSettings(
        enabled=enabled,
        channels=channels,
        business_day=day,
        at=r.hhmm(q, "at", path, time(9)),
        best_posts=best,
        when_empty=r.choice(q, "when_empty", path, ("post", "skip"), "post"),
        pdf=r.get(q, "pdf", path, bool, True),
    )


def _questions(r: Reader, m: Mapping[str, Any]) -> tuple[LocalizedText, ...] | None:
    """``questions = ["…", { ja = "…", en = "…" }]``: up to :data:`QUESTIONS_MAX`, each a text for
    both languages or one per language; ``[]`` asks none."""
    if "questions" not in m:
        return None
    items = r.get(m, "questions", "digest.monthly", list, [])
    if len(items) > QUESTIONS_MAX:
        r.add("digest.monthly.questions", "too_many", max=QUESTIONS_MAX)
    out: list[LocalizedText] = []
    for i, item in enumerate(items[:QUESTIONS_MAX]):
        name = f"questions[{i}]"
        if isinstance(item, str) and not item.strip():
            r.add(f"digest.monthly.{name}", "missing")
            continue
        out.append(r.localized({name: item}, name, "digest.monthly", required=True))
    return tuple(out)
