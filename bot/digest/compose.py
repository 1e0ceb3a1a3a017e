"""Digest arithmetic: turns facts fetched from the store into the numbers a digest shows (pure).

Nothing here reads the clock, the store or Slack: ``facts`` fetches :class:`ActivityFacts` and
KPI history, these functions decide what the week or month amounted to, and ``ui`` renders the
result for Slack and for the terminal. Both renderings read the same composed digest.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.actions.records import ReviewMemory
from bot.config import KpiSettings
from bot.kpi.status import achievement, meets_target
from bot.milestones.records import Found
from bot.participation.records import ParticipationSummary
from bot.periods import Period
from bot.workdays import WorkCalendar

#: Statuses of a request whose review is over (a published request was approved first).
FINISHED_STATUSES = ("approved", "rejected", "published")
#: Review events that are a reviewer's decision (their actors are the week's reviewers).
DECISION_EVENTS = ("step_approved", "approved", "changes_requested", "rejected")
#: Review events whose reason labels feed "most frequent change-request reasons".
REASON_EVENTS = ("changes_requested", "rejected")


@dataclass(frozen=True, slots=True)
class PostFact:
    """A published post with its latest metrics."""

    account_key: str
    url: str | None
    text: str
    author: str | None
    published_at: datetime
    impressions: int | None
    engagements: int | None

    @property
    def ratio(self) -> float | None:
        """Engagements per impression, or ``None`` when the post has no impressions yet.

        The ranking key: the store ranks with the same IEEE division (``facts._BEST_POSTS``),
        so both agree on ties, which ``rate``'s extra ``* 100`` rounding could break.
        """
        if not self.impressions or self.engagements is None:
            return None
        return self.engagements / self.impressions

    @property
    def rate(self) -> float | None:
        """Engagement rate in percent, or ``None`` when the post has no impressions yet."""
        ratio = self.ratio
        return None if ratio is None else ratio * 100


@dataclass(frozen=True, slots=True)
class AuthorFact:
    """How many of the period's posts one author published, and when the first one went out."""

    author: str
    posts: int
    first_published: datetime


@dataclass(frozen=True, slots=True)
class ReviewFact:
    """A review that ended (approved, rejected) inside the period."""

    request_id: int
    requester_id: str
    status: str
    created_at: datetime
    decided_at: datetime

    @property
    def cycle(self) -> timedelta:
        return self.decided_at - self.created_at


@dataclass(frozen=True, slots=True)
class WaitingFact:
    """A review request still waiting on its reviewers."""

    request_id: int
    requester_id: str
    account_key: str
    waiting_since: datetime
    channel_id: str | None
    message_ts: str | None
    reviewers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WinFact:
    """A win someone nominated with the "Share as SNS win" shortcut."""

    what: str
    permalink: str | None
    kpi_key: str | None
    nominated_by: str
    message_author: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ActivityFacts:
    """What the store holds about one week or month.

    The store answers the questions about posts in SQL, so a busy month costs a handful of rows,
    not one per post.

    Attributes:
        posts_published: how many posts were published in the period.
        best_posts: the period's best posts as the store ranks them (:func:`top_posts`' order and
            floor), at least as many as a digest shows; more, in any order, changes nothing.
        authors: the period's post authors (Slack users or platform names), one entry each.
        completed: reviews decided in the period.
        reviewers: who made a decision in the period, one entry per decision.
        requesters: who asked for a review in the period, one entry per request.
        waiting: reviews still waiting now (not limited to the period), in any order.
        wins: wins nominated in the period.
        reasons: reason keys given with change requests and rejections in the period.
    """

    period: Period
    posts_published: int = 0
    best_posts: tuple[PostFact, ...] = ()
    authors: tuple[AuthorFact, ...] = ()
    completed: tuple[ReviewFact, ...] = ()
    reviewers: tuple[str, ...] = ()
    requesters: tuple[str, ...] = ()
    waiting: tuple[WaitingFact, ...] = ()
    wins: tuple[WinFact, ...] = ()
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TopPost:
    post: PostFact
    rate: float


@dataclass(frozen=True, slots=True)
class WeeklyDigest:
    period: Period
    posts_published: int
    reviews_completed: int
    median_cycle_hours: float | None
    top_posts: tuple[TopPost, ...]
    min_impressions: int
    wins: tuple[WinFact, ...]
    authors: tuple[str, ...]
    reviewers: tuple[str, ...]
    waiting: tuple[WaitingFact, ...]
    #: How many of the managers reacted to the bot's posts in the week (``None``: not counted).
    managers_reacted: int | None = None
    managers_total: int = 0
    #: What the bot noticed the team achieved this week (:mod:`bot.milestones`), in detection order.
    milestones: tuple[Found, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.posts_published or self.reviews_completed or self.wins or self.waiting or self.milestones
        )


@dataclass(frozen=True, slots=True)
class KpiPoint:
    """A KPI's value and target for one month (``YYYY-MM``)."""

    month: str
    value: float | None
    target: float | None


@dataclass(frozen=True, slots=True)
class KpiSummary:
    """One KPI in the monthly digest: the month against its target, last month and last year.

    Attributes:
        history: the 12 months ending with the digest's month, oldest first (the chart).
        achievement: percent of target, as :func:`bot.kpi.status.achievement` decides it everywhere.
        mom_delta / yoy_delta: the difference to last month / the same month last year.
        mom_pct / yoy_pct: the same as a percentage of the earlier value.
    """

    kpi: KpiSettings
    month: str
    value: float | None
    target: float | None
    previous: float | None
    last_year: float | None
    history: tuple[KpiPoint, ...]

    @property
    def achievement(self) -> float | None:
        return achievement(self.value, self.target, self.kpi.better)

    @property
    def mom_delta(self) -> float | None:
        return _delta(self.value, self.previous)

    @property
    def yoy_delta(self) -> float | None:
        return _delta(self.value, self.last_year)

    @property
    def mom_pct(self) -> float | None:
        return _pct(self.value, self.previous)

    @property
    def yoy_pct(self) -> float | None:
        return _pct(self.value, self.last_year)

    @property
    def on_target(self) -> bool | None:
        """Whether the month met its target in the KPI's good direction (``None``: nothing to compare)."""
        return meets_target(self.value, self.target, self.kpi.better)

    def direction(self) -> Literal["up", "down", "flat"] | None:
        """How the value moved since last month, at the precision it is shown with."""
        delta = self.mom_delta
        if delta is None:
            return None
        shown = round(delta, self.kpi.decimals)
        if shown == 0:
            return "flat"
        return "up" if shown > 0 else "down"


@dataclass(frozen=True, slots=True)
class MonthlyDigest:
    """The KPI digest of a month, or of a fiscal quarter (``period.kind``; see ``bot.digest.quarterly``)."""

    period: Period
    kpis: tuple[KpiSummary, ...]
    posts_published: int
    best_posts: tuple[TopPost, ...]
    min_impressions: int
    requesters: tuple[str, ...]
    reviewers: tuple[str, ...]
    reviews_completed: int
    median_cycle_hours: float | None
    wins: tuple[WinFact, ...]
    top_reasons: tuple[tuple[str, int], ...]
    #: Last month's action items and those carried over (the review's memory; bot.actions).
    memory: ReviewMemory | None = None
    #: The managers' part in the month (``None``: ``[digest.monthly] participation = "off"``).
    participation: ParticipationSummary | None = None

    @property
    def history_end(self) -> str:
        """The last month of the chart's 12 months (``YYYY-MM``): the digest's month, or its quarter's last."""
        return self.period.months()[-1].label

    @property
    def empty(self) -> bool:
        has_values = any(k.value is not None for k in self.kpis)
        remembers = self.memory is not None and not self.memory.empty
        # A month in which the team only took part (reactions, replies, requests still open) is
        # still the team's month: its participation section is posted, not "no records".
        took_part = self.participation is not None and self.participation.any_activity
        activity = self.posts_published or self.reviews_completed or self.wins
        return not (has_values or activity or remembers or took_part)


def _delta(value: float | None, earlier: float | None) -> float | None:
    return None if value is None or earlier is None else value - earlier


def _pct(value: float | None, earlier: float | None) -> float | None:
    if value is None or earlier is None or earlier == 0:
        return None
    return (value - earlier) / abs(earlier) * 100


def top_posts(posts: Iterable[PostFact], *, min_impressions: int, limit: int) -> tuple[TopPost, ...]:
    """The best posts by engagement rate among those with at least ``min_impressions`` impressions.

    Ties on the rate go to the post with more engagements, then to the earlier post, so the
    order never depends on how the store returned the rows.
    """
    ranked = [post for post in posts if post.ratio is not None and (post.impressions or 0) >= min_impressions]
    ranked.sort(key=lambda post: (-(post.ratio or 0.0), -(post.engagements or 0), post.published_at))
    return tuple(TopPost(post, post.rate or 0.0) for post in ranked[:limit])


def median_hours(reviews: Iterable[ReviewFact], calendar: WorkCalendar | None = None) -> float | None:
    """Median time from request to decision, in hours (``None`` without reviews): working hours of
    ``calendar`` (the reminders' calendar: nights, weekends and holidays left out), or wall-clock
    hours without one."""
    if calendar is None:
        hours = [review.cycle / timedelta(hours=1) for review in reviews]
    else:
        hours = [calendar.business_hours_between(r.created_at, r.decided_at) for r in reviews]
    return statistics.median(hours) if hours else None


def _distinct(values: Iterable[str | None]) -> tuple[str, ...]:
    """Distinct values, most frequent first, then in first-seen order (the shout-out order)."""
    items = [v for v in values if v]
    counts = Counter(items)
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(item, index)
    return tuple(sorted(counts, key=lambda v: (-counts[v], first_seen[v])))


def _is_slack_user(value: str | None) -> bool:
    # Post.author holds a Slack user id for posts published through a review, else a platform name.
    return value is not None and len(value) > 2 and value[0] in "UW" and value.isalnum() and value.isupper()


def shout_outs(authors: Iterable[AuthorFact], requesters: Iterable[str]) -> tuple[str, ...]:
    """Who gets a shout-out: Slack users who published posts, then ``requesters``; most entries
    first (a post or a request each), ties in the order first seen (first post, then request)."""
    counts: Counter[str] = Counter()
    for fact in sorted(authors, key=lambda a: (a.first_published, a.author)):
        if _is_slack_user(fact.author):
            counts[fact.author] += fact.posts
    counts.update(r for r in requesters if r)
    return tuple(sorted(counts, key=lambda person: -counts[person]))  # stable: first seen wins ties


def compose_weekly(
    facts: ActivityFacts, *, min_impressions: int, top_n: int, calendar: WorkCalendar | None = None
) -> WeeklyDigest:
    """The weekly wins digest for ``facts.period`` (review times in ``calendar``'s working hours)."""
    # Authors get a shout-out for published posts and for drafts that made it through review.
    requesters_of_finished = [r.requester_id for r in facts.completed if r.status != "rejected"]
    return WeeklyDigest(
        period=facts.period,
        posts_published=facts.posts_published,
        reviews_completed=len(facts.completed),
        median_cycle_hours=median_hours(facts.completed, calendar),
        top_posts=top_posts(facts.best_posts, min_impressions=min_impressions, limit=top_n),
        min_impressions=min_impressions,
        wins=tuple(sorted(facts.wins, key=lambda w: w.created_at)),
        authors=shout_outs(facts.authors, requesters_of_finished),
        reviewers=_distinct(facts.reviewers),
        waiting=tuple(sorted(facts.waiting, key=lambda w: (w.waiting_since, w.request_id))),
    )


def summarize_kpi(kpi: KpiSettings, points: Sequence[KpiPoint]) -> KpiSummary:
    """One KPI's summary from its 13 months of history (same month last year … this month).

    Fewer points are accepted: missing earlier months simply have no comparison.
    """
    if not points:
        raise ValueError("a KPI summary needs at least the month itself")
    current = points[-1]
    previous = points[-2].value if len(points) >= 2 else None
    last_year = points[-13].value if len(points) >= 13 else None
    return KpiSummary(
        kpi=kpi,
        month=current.month,
        value=current.value,
        target=current.target,
        previous=previous,
        last_year=last_year,
        history=tuple(points[-12:]),
    )


def compose_monthly(
    facts: ActivityFacts,
    *,
    kpis: Sequence[KpiSettings],
    history: Mapping[str, Sequence[KpiPoint]],
    min_impressions: int,
    best_n: int,
    reasons_n: int = 5,
    calendar: WorkCalendar | None = None,
) -> MonthlyDigest:
    """The monthly KPI digest for ``facts.period``; ``history`` holds 13 months per KPI key."""
    reason_counts = Counter(facts.reasons)
    top_reasons = sorted(reason_counts.items(), key=lambda item: (-item[1], item[0]))[:reasons_n]
    return MonthlyDigest(
        period=facts.period,
        kpis=tuple(summarize_kpi(kpi, history[kpi.key]) for kpi in kpis if history.get(kpi.key)),
        posts_published=facts.posts_published,
        best_posts=top_posts(facts.best_posts, min_impressions=min_impressions, limit=best_n),
        min_impressions=min_impressions,
        requesters=_distinct(facts.requesters),
        reviewers=_distinct(facts.reviewers),
        reviews_completed=len(facts.completed),
        median_cycle_hours=median_hours(facts.completed, calendar),
        wins=tuple(sorted(facts.wins, key=lambda w: w.created_at)),
        top_reasons=tuple(top_reasons),
    )
