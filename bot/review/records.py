"""Plain data that crosses the review layers: form inputs, who decides, request snapshots and results (pure).

The store modules (queries, commands, alerts) build these; the Block Kit modules (modals, messages,
notices, listing) render them; nothing here touches Slack or SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.review.ids import ApprovalMode, Decision, EventKind, Outcome, RequestRef, Status


@dataclass(frozen=True, slots=True)
class Decider:
    """Who is deciding, as the listener resolved it (the store is never asked about Slack roles).

    Attributes:
        user_id: the person who clicked or submitted.
        is_admin: a configured admin.
        is_manager: a configured manager (user id or member of a manager user group; admins too).
        delegators: approvers who are away today and named ``user_id`` as their delegate on the
            App Home (``bot.away.queries.delegators_of``).
    """

    user_id: str
    is_admin: bool = False
    is_manager: bool = False
    delegators: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RequestForm:
    """What the request (or resubmit) modal holds, as typed; ``forms.validate_request`` checks it."""

    account_key: str | None
    text: str
    planned_at: datetime | None
    link_url: str | None
    reviewers: tuple[str, ...]
    wanted: str
    #: The reviewers input's block id (it names the account the form was showing).
    reviewers_block: str = ""
    #: When the review is due, if the requester chose a time (default: ``planned_at``).
    due_at: datetime | None = None

    @property
    def due(self) -> datetime | None:
        """The request's due time: the one chosen, else the planned publish time."""
        return self.due_at or self.planned_at


@dataclass(frozen=True, slots=True)
class Feedback:
    what_works: str = ""
    what_to_change: str = ""
    comment: str = ""
    reasons: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.what_works or self.what_to_change or self.comment or self.reasons)


@dataclass(frozen=True, slots=True)
class PublishForm:
    url: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class StepView:
    """One approval step as it stands for the current revision."""

    number: int
    approvers: tuple[str, ...]
    mode: ApprovalMode
    approved_by: tuple[str, ...] = ()

    @property
    def waiting_on(self) -> tuple[str, ...]:
        return tuple(u for u in self.approvers if u not in self.approved_by)


@dataclass(frozen=True, slots=True)
class LastDecision:
    kind: EventKind
    actor_id: str | None
    at: datetime
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RequestSnapshot:
    """A request as it is now: what every surface (message, DM, modal, list) needs to render it."""

    id: int
    requester_id: str
    account_key: str
    status: Status
    current_step: int
    revision: int
    version: int
    text: str
    planned_at: datetime | None
    due_at: datetime | None
    link_url: str | None
    feedback_wanted: str
    channel_id: str | None
    message_ts: str | None
    created_at: datetime
    waiting_since: datetime
    decided_at: datetime | None
    published_at: datetime | None
    steps: tuple[StepView, ...] = ()
    last_decision: LastDecision | None = None
    post_url: str | None = None
    #: Reviewers the requester picked who approve no step: notified, may comment (issue 13 item 4).
    invitees: tuple[str, ...] = ()

    @property
    def ref(self) -> RequestRef:
        return RequestRef(self.id, self.revision, self.version)

    @property
    def step(self) -> StepView | None:
        return self.steps[self.current_step] if 0 <= self.current_step < len(self.steps) else None


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """What one reviewer action did (see :class:`~bot.review.ids.Outcome`)."""

    request: RequestSnapshot
    decision: Decision
    actor_id: str
    feedback: Feedback
    outcome: Outcome
    at: datetime
    #: The step the actor decided on (for ``advanced``: the finished one).
    step: int = 0
    #: Away approvers the actor decided for, as their App Home delegate.
    on_behalf_of: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResubmitResult:
    request: RequestSnapshot
    previous_text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PublishResult:
    request: RequestSnapshot
    url: str
    published_at: datetime


@dataclass(frozen=True, slots=True)
class RequestList:
    """``/sns-review list``: the caller's open requests and the reviews waiting on them, at most
    ``queries.LIST_LIMIT`` of each, with how many there are in all."""

    mine: tuple[RequestSnapshot, ...] = ()
    waiting: tuple[RequestSnapshot, ...] = field(default_factory=tuple)
    mine_total: int = 0
    waiting_total: int = 0

    @property
    def mine_count(self) -> int:
        return max(self.mine_total, len(self.mine))

    @property
    def waiting_count(self) -> int:
        return max(self.waiting_total, len(self.waiting))


def first_state(
    *, planned_at: datetime | None, now: datetime, due_at: datetime | None = None
) -> dict[str, Any]:
    """How every request starts, stored or previewed: pending at its first step, revision 1, due at
    ``due_at`` (default: its planned publish time), waiting since ``now`` (the one place that says so)."""
    return {
        "status": Status.PENDING,
        "current_step": 0,
        "revision": 1,
        "version": 1,
        "planned_at": planned_at,
        "due_at": due_at or planned_at,
        "created_at": now,
        "waiting_since": now,
    }
