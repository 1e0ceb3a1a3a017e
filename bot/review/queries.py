"""Reading reviews from the store: one request as it is now, the listings of ``/sns-review list`` and the
App Home, and the clauses other features share (I/O through a passed-in AsyncSession; no Slack).

Every reader returns request snapshots (:class:`~bot.review.records.RequestSnapshot`) built with a
fixed number of batched statements, whatever the number of requests.

Public API used by other features (keep the names): :func:`open_for_clause`,
:func:`waiting_on_clause`; cycle time lives in :mod:`bot.review.policy`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kpi.models import Post
from bot.review.ids import ApprovalMode, EventKind, Status
from bot.review.models import ReviewApprover, ReviewEvent, ReviewRequest, ReviewRevision
from bot.review.records import LastDecision, RequestList, RequestSnapshot, StepView
from bot.review.refusals import ReviewNotFound

if TYPE_CHECKING:
    #: A SELECT of any columns (SQLAlchemy 2.1 types a SELECT by each of its columns).
    AnySelect: TypeAlias = Select[*tuple[Any, ...]]

#: Rows shown by ``/sns-review list`` per section.
LIST_LIMIT = 20

_APPROVAL_KINDS = (EventKind.STEP_APPROVED.value, EventKind.APPROVED.value)
_DECISION_KINDS = (
    EventKind.APPROVED.value,
    EventKind.CHANGES_REQUESTED.value,
    EventKind.REJECTED.value,
    EventKind.PUBLISHED.value,
)
_OPEN_STATUSES = (Status.PENDING.value, Status.CHANGES_REQUESTED.value, Status.APPROVED.value)


#: The request columns a snapshot needs (listings read these, not ORM entities).
_REQUEST_COLUMNS = (
    ReviewRequest.id,
    ReviewRequest.requester_id,
    ReviewRequest.account_key,
    ReviewRequest.status,
    ReviewRequest.current_step,
    ReviewRequest.revision,
    ReviewRequest.version,
    ReviewRequest.planned_at,
    ReviewRequest.due_at,
    ReviewRequest.link_url,
    ReviewRequest.feedback_wanted,
    ReviewRequest.channel_id,
    ReviewRequest.message_ts,
    ReviewRequest.created_at,
    ReviewRequest.waiting_since,
    ReviewRequest.decided_at,
    ReviewRequest.published_at,
)


def _post_url_of(request_id: Any) -> Any:
    """The URL (else the external id) of the newest post published through the request."""
    return (
        select(case((and_(Post.url.is_not(None), Post.url != ""), Post.url), else_=Post.external_id))
        .where(Post.review_request_id == request_id)
        .order_by(Post.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _listing(*where: ColumnElement[bool]) -> AnySelect:
    """Requests matching ``where`` with their current revision's text and their post's URL, so
    a listing needs two more statements (approvers, events) and no ORM entities."""
    return (
        select(
            *_REQUEST_COLUMNS,
            ReviewRevision.text.label("text"),
            _post_url_of(ReviewRequest.id).label("post_url"),
        )
        .outerjoin(
            ReviewRevision,
            and_(
                ReviewRevision.request_id == ReviewRequest.id, ReviewRevision.number == ReviewRequest.revision
            ),
        )
        .where(*where)
    )


# The reading statements are built once, with bound parameters: building and cache-keying a
# statement of this size costs about 0.5 ms a call, as much as running it on an indexed store.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_USER: BindParameter[str] = bindparam("user_id", type_=String)
_TEXTS = select(ReviewRevision.request_id, ReviewRevision.number, ReviewRevision.text).where(
    ReviewRevision.request_id.in_(_IDS)
)
_APPROVERS = (
    select(ReviewApprover.request_id, ReviewApprover.step, ReviewApprover.user_id, ReviewApprover.mode)
    .where(ReviewApprover.request_id.in_(_IDS))
    .order_by(ReviewApprover.request_id, ReviewApprover.step, ReviewApprover.id)
)
_EVENTS = (
    select(
        ReviewEvent.request_id,
        ReviewEvent.kind,
        ReviewEvent.actor_id,
        ReviewEvent.revision,
        ReviewEvent.step,
        ReviewEvent.created_at,
        ReviewEvent.reasons,
        ReviewEvent.data,
    )
    # No ``kind IN (…)`` here: SQLite would then walk the (kind, created_at) index over the whole
    # history instead of the request_id one; the loop in snapshots skips the other kinds anyway.
    .where(ReviewEvent.request_id.in_(_IDS))
    .order_by(ReviewEvent.id)
)
_POST_URLS = (
    select(Post.review_request_id, Post.url, Post.external_id)
    .where(Post.review_request_id.in_(_IDS))
    .order_by(Post.id)
)


def open_for_clause(user_id: ColumnElement[str]) -> ColumnElement[bool]:
    """``user_id``'s unfinished requests: waiting, changes requested, or approved and not yet
    marked as published. The one definition for ``/sns-review list`` and the App Home."""
    return and_(ReviewRequest.requester_id == user_id, ReviewRequest.status.in_(_OPEN_STATUSES))


def waiting_on_clause(user_id: ColumnElement[str]) -> ColumnElement[bool]:
    """Pending requests whose current step lists ``user_id`` and that the user has not yet approved
    in this revision (an "all" step keeps waiting on the others after one approval); never the
    user's own. The one definition for ``/sns-review list`` and the App Home.

    EXISTS from the pending requests, not a join from the approver rows: a manager who approves
    everything has an approver row on every request ever made (50,000 at size L), and SQLite,
    without statistics, walked all of them through (user_id, request_id) to find the pending few.
    """
    in_step = exists().where(
        ReviewApprover.request_id == ReviewRequest.id,
        ReviewApprover.step == ReviewRequest.current_step,
        ReviewApprover.user_id == user_id,
    )
    approved = exists().where(
        ReviewEvent.request_id == ReviewRequest.id,
        ReviewEvent.kind.in_(_APPROVAL_KINDS),
        ReviewEvent.actor_id == user_id,
        ReviewEvent.revision == ReviewRequest.revision,
        ReviewEvent.step == ReviewRequest.current_step,
    )
    return and_(
        ReviewRequest.status == Status.PENDING.value,
        ReviewRequest.requester_id != user_id,
        in_step,
        ~approved,
    )


#: ``/sns-review list``, mine: newest first; waiting on the user: longest waiting first.
_OPEN_FOR = (
    _listing(open_for_clause(_USER))
    .order_by(ReviewRequest.created_at.desc(), ReviewRequest.id.desc())
    .limit(LIST_LIMIT)
)
_WAITING_ON = (
    _listing(waiting_on_clause(_USER))
    .order_by(ReviewRequest.waiting_since, ReviewRequest.id)
    .limit(LIST_LIMIT)
)
#: How many there are in all, asked only when a listing is full (most lists are short).
_COUNT_OPEN_FOR = select(func.count()).select_from(ReviewRequest).where(open_for_clause(_USER))
_COUNT_WAITING_ON = select(func.count()).select_from(ReviewRequest).where(waiting_on_clause(_USER))


async def _listed(session: AsyncSession, stmt: AnySelect, params: Mapping[str, Any]) -> list[RequestSnapshot]:
    rows = (await session.execute(stmt, dict(params))).all()
    return await snapshots(
        session,
        rows,
        texts={(r.id, r.revision): r.text for r in rows if r.text is not None},
        post_urls={r.id: r.post_url for r in rows if r.post_url},
    )


async def snapshots(
    session: AsyncSession,
    rows: Sequence[Any],
    *,
    texts: Mapping[tuple[int, int], str] | None = None,
    post_urls: Mapping[int, str] | None = None,
) -> list[RequestSnapshot]:
    """Snapshots of ``rows`` (``ReviewRequest`` entities or rows of :data:`_REQUEST_COLUMNS`) with
    at most four batched queries, whatever the number of rows: revision texts and post URLs unless
    given (a listing reads them with its rows), approvers, events."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    if texts is None:
        texts = {
            (request_id, number): text
            for request_id, number, text in await session.execute(_TEXTS, {"ids": ids})
        }
    approvers: dict[int, dict[int, tuple[list[str], str]]] = defaultdict(dict)
    approver_rows = await session.execute(_APPROVERS, {"ids": ids})
    for request_id, step, user_id, mode in approver_rows:
        approvers[request_id].setdefault(step, ([], mode))[0].append(user_id)
    approvals: dict[tuple[int, int, int], list[str]] = defaultdict(list)
    last: dict[int, LastDecision] = {}
    invited: dict[int, tuple[str, ...]] = {}
    event_rows = await session.execute(_EVENTS, {"ids": ids})
    for request_id, kind, actor_id, revision, step, created_at, reasons, data in event_rows:
        if kind in _APPROVAL_KINDS and actor_id:
            # A delegate's approval fills the seats of the away approvers it was made for, too.
            approvals[(request_id, revision, step or 0)].extend(
                [actor_id, *_listed_users(data, "on_behalf_of")]
            )
        elif kind == EventKind.REQUESTED.value:
            invited[request_id] = _listed_users(data, "invitees")
        if kind in _DECISION_KINDS:
            last[request_id] = LastDecision(EventKind(kind), actor_id, created_at, tuple(reasons or ()))
    if post_urls is None:
        found: dict[int, str] = {}
        post_rows = await session.execute(_POST_URLS, {"ids": ids})
        for owner, url, external_id in post_rows:
            if owner is not None:  # always: the statement reads the posts of ``ids``
                found[owner] = url or external_id  # the newest post wins
        post_urls = found
    out = []
    for row in rows:
        steps = tuple(
            StepView(
                number=number,
                approvers=tuple(users),
                mode=ApprovalMode.ALL if mode == ApprovalMode.ALL else ApprovalMode.ANY,
                approved_by=tuple(dict.fromkeys(approvals.get((row.id, row.revision, number), []))),
            )
            for number, (users, mode) in sorted(approvers.get(row.id, {}).items())
        )
        out.append(
            RequestSnapshot(
                id=row.id,
                requester_id=row.requester_id,
                account_key=row.account_key,
                status=Status(row.status),
                current_step=row.current_step,
                revision=row.revision,
                version=row.version,
                text=texts.get((row.id, row.revision), ""),
                planned_at=row.planned_at,
                due_at=row.due_at,
                link_url=row.link_url,
                feedback_wanted=row.feedback_wanted or "",
                channel_id=row.channel_id,
                message_ts=row.message_ts,
                created_at=row.created_at,
                waiting_since=row.waiting_since,
                decided_at=row.decided_at,
                published_at=row.published_at,
                steps=steps,
                last_decision=last.get(row.id),
                post_url=post_urls.get(row.id),
                invitees=invited.get(row.id, ()),
            )
        )
    return out


def _listed_users(data: object, key: str) -> tuple[str, ...]:
    """User ids listed under ``key`` in an event's ``data`` (anything else is ignored)."""
    users = data.get(key) if isinstance(data, dict) else None
    return tuple(u for u in users if isinstance(u, str)) if isinstance(users, list) else ()


async def load_row(session: AsyncSession, request_id: int) -> ReviewRequest:
    """The request's row, read again from the store (for a change guarded by its version).

    Raises:
        ReviewNotFound: no such request.
    """
    # populate_existing: after losing a race the row must be read again, not served from the identity map.
    row = await session.get(ReviewRequest, request_id, populate_existing=True)
    if row is None:
        raise ReviewNotFound("review.errors.not_found")
    return row


async def get_request(session: AsyncSession, *, request_id: int) -> RequestSnapshot:
    """The request as it is now.

    Raises:
        ReviewNotFound: no such request.
    """
    return (await snapshots(session, [await load_row(session, request_id)]))[0]


async def open_requests_for(session: AsyncSession, *, user_id: str) -> list[RequestSnapshot]:
    """``user_id``'s own requests that are not finished (waiting, changes requested, approved but not
    yet published), newest first, at most :data:`LIST_LIMIT`."""
    return await _listed(session, _OPEN_FOR, {"user_id": user_id})


async def waiting_on(session: AsyncSession, *, user_id: str) -> list[RequestSnapshot]:
    """Pending requests whose *current* step lists ``user_id`` and that ``user_id`` has not approved
    yet (:func:`waiting_on_clause`), the longest-waiting first, at most :data:`LIST_LIMIT`."""
    return await _listed(session, _WAITING_ON, {"user_id": user_id})


async def list_for(session: AsyncSession, *, user_id: str) -> RequestList:
    """``/sns-review list``: both listings, and their totals (counted only when a listing is full)."""
    mine = await open_requests_for(session, user_id=user_id)
    waiting = await waiting_on(session, user_id=user_id)
    params = {"user_id": user_id}
    return RequestList(
        mine=tuple(mine),
        waiting=tuple(waiting),
        mine_total=len(mine)
        if len(mine) < LIST_LIMIT
        else int(await session.scalar(_COUNT_OPEN_FOR, params) or 0),
        waiting_total=(
            len(waiting)
            if len(waiting) < LIST_LIMIT
            else int(await session.scalar(_COUNT_WAITING_ON, params) or 0)
        ),
    )
