"""User groups standing in for their members as approvers of a request (I/O: the store).

A request is created before its ack, when only the directory's cache may be read (no Slack call
before an ack): a user group Slack has not named the members of yet is stored as an approver itself.
Right after the ack (and again when someone is refused at a decision button) the listener asks Slack
and :func:`replace_group_approver` puts the members in the group's place. Meanwhile the channel
message mentions the group and says its members are not known yet; admins can decide as always.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import is_usergroup_id
from bot.review.models import ReviewApprover, ReviewRequest


async def stand_in_groups(session: AsyncSession, *, request_id: int) -> list[str]:
    """User groups that stand in as approvers of ``request_id`` (their members were not known when
    the request was made; see :func:`replace_group_approver`)."""
    rows = await session.scalars(
        select(ReviewApprover.user_id)
        .where(ReviewApprover.request_id == request_id, ReviewApprover.user_id.like("S%"))
        .distinct()
    )
    return sorted(u for u in rows.all() if is_usergroup_id(u))


async def replace_group_approver(
    session: AsyncSession, *, request_id: int, group_id: str, members: Iterable[str], fallback: Sequence[str]
) -> bool:
    """Put the members of user group ``group_id`` in its place, in every step of ``request_id`` where
    it stands in; a step left with nobody but the requester gets ``fallback`` (managers, admins), as
    :func:`~bot.review.policy.build_chain` does. True when the group stood in anywhere.

    Only writes approver rows: decisions already taken and the request's version are unchanged.
    """
    rows = (
        await session.scalars(
            select(ReviewApprover).where(
                ReviewApprover.request_id == request_id, ReviewApprover.user_id == group_id
            )
        )
    ).all()
    if not rows:
        return False
    requester = await session.scalar(select(ReviewRequest.requester_id).where(ReviewRequest.id == request_id))
    for row in rows:
        present = set(
            (
                await session.scalars(
                    select(ReviewApprover.user_id).where(
                        ReviewApprover.request_id == request_id, ReviewApprover.step == row.step
                    )
                )
            ).all()
        )
        users = [u for u in dict.fromkeys(sorted(members)) if u != requester]
        if not users and present == {group_id}:
            users = [u for u in dict.fromkeys(fallback) if u != requester]
        for user_id in users:
            if user_id not in present:
                session.add(
                    ReviewApprover(request_id=request_id, step=row.step, user_id=user_id, mode=row.mode)
                )
                present.add(user_id)
        await session.delete(row)
    await session.flush()
    return True
