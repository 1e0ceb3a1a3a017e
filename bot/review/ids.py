"""/sns-review identifiers (action, callback and block ids), the slice's closed sets (states, decisions,
outcomes, alert kinds, outbox kinds …), and the codecs for button values and modal metadata (pure).

Every closed set is a ``StrEnum`` whose values are what the store, outbox payloads and the
message catalog already hold, so renaming a member never changes stored data.

Button values and ``private_metadata`` only *point* at a request (id, revision, version): the
listener always re-reads the request and checks the rules against the store, so a forged or
stale value can at worst be refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

from bot.errors import BotError


class ActionId(StrEnum):
    #: "Ask for a review" on the App Home: opens the same modal as ``/sns-review``.
    START = "review.start"
    #: The same button on a Home published before the review slice owned it (such a view stays on a
    #: user's screen until the Home is published again, at the next ``app_home_opened``).
    START_FROM_OLD_HOME = "home.start_review"
    APPROVE = "review.approve"
    REQUEST_CHANGES = "review.request_changes"
    REJECT = "review.reject"
    COMMENT = "review.comment"
    RESUBMIT = "review.resubmit"
    PUBLISH = "review.publish"
    # Inputs inside modals (their values arrive with the submission, not as actions).
    ACCOUNT = "review.input.account"
    DRAFT = "review.input.draft"
    PLANNED = "review.input.planned"
    DUE = "review.input.due"
    LINK = "review.input.link"
    REVIEWERS = "review.input.reviewers"
    WANTED = "review.input.wanted"
    WHAT_WORKS = "review.input.what_works"
    WHAT_TO_CHANGE = "review.input.what_to_change"
    FEEDBACK_COMMENT = "review.input.comment"
    REASONS = "review.input.reasons"
    POST_URL = "review.input.post_url"
    PUBLISHED_AT = "review.input.published_at"


class CallbackId(StrEnum):
    REQUEST = "review.request_modal"
    RESUBMIT = "review.resubmit_modal"
    FEEDBACK = "review.feedback_modal"
    APPROVE = "review.approve_modal"
    PUBLISH = "review.publish_modal"


class BlockId(StrEnum):
    ACCOUNT = "review_account"
    DRAFT = "review_draft"
    PLANNED = "review_planned"
    DUE = "review_due"
    LINK = "review_link"
    REVIEWERS = "review_reviewers"
    WANTED = "review_wanted"
    WHAT_WORKS = "review_what_works"
    WHAT_TO_CHANGE = "review_what_to_change"
    COMMENT = "review_comment"
    REASONS = "review_reasons"
    POST_URL = "review_post_url"
    PUBLISHED_AT = "review_published_at"
    ACTIONS = "review_actions"


def reviewers_block_id(account_key: str) -> str:
    """One reviewers block per account: Slack keeps what was typed into an input whose block id stays
    the same across ``views.update``, so switching the account needs a new id to refill reviewers."""
    return f"{BlockId.REVIEWERS}.{account_key}"


class Subcommand(StrEnum):
    """``/sns-review <word>`` words that do not open the request modal (anything else is a draft)."""

    HELP = "help"
    LIST = "list"


class Status(StrEnum):
    PENDING = "pending"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"


#: States in which reviewers can still act (comments are also taken while changes are requested).
OPEN_FOR_DECISION = frozenset({Status.PENDING})
OPEN_FOR_COMMENT = frozenset({Status.PENDING, Status.CHANGES_REQUESTED})


class EventKind(StrEnum):
    REQUESTED = "requested"
    REMINDED = "reminded"
    ESCALATED = "escalated"
    COMMENTED = "commented"
    STEP_APPROVED = "step_approved"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    RESUBMITTED = "resubmitted"
    PUBLISHED = "published"


class Decision(StrEnum):
    """What a reviewer does from the channel message."""

    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"
    COMMENT = "comment"

    @property
    def needs_reasons(self) -> bool:
        return self in (Decision.REQUEST_CHANGES, Decision.REJECT)

    @property
    def action_id(self) -> ActionId:
        """The channel message's (and the Home's) button for this decision."""
        return _DECISION_ACTIONS[self]

    @classmethod
    def from_action(cls, action_id: str) -> Decision:
        """The decision a clicked button stands for (``KeyError`` for any other action id)."""
        return _DECISIONS_BY_ACTION[action_id]


_DECISION_ACTIONS = {
    Decision.APPROVE: ActionId.APPROVE,
    Decision.REQUEST_CHANGES: ActionId.REQUEST_CHANGES,
    Decision.REJECT: ActionId.REJECT,
    Decision.COMMENT: ActionId.COMMENT,
}
_DECISIONS_BY_ACTION: dict[str, Decision] = {action.value: d for d, action in _DECISION_ACTIONS.items()}


class Outcome(StrEnum):
    """What one reviewer action did (``DecisionResult.outcome``). Kept in outbox payloads and naming
    the catalog's ``review.outcome.*`` and ``review.dm.*`` texts, so the values never change."""

    COMMENTED = "commented"
    #: An "all" step still needs others.
    STEP_APPROVED = "step_approved"
    #: A step is done and the next one starts.
    ADVANCED = "advanced"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"


class ApprovalMode(StrEnum):
    """How a step is satisfied: one approval (``any``) or every approver's (``all``); config's
    ``ApprovalStep.mode`` and ``review_approver.mode`` hold these values."""

    ANY = "any"
    ALL = "all"


class AuthorityKind(StrEnum):
    """In what capacity someone decided (kept as ``data.as`` of the decision's event)."""

    #: A configured approver of the step, in their own seat.
    APPROVER = "approver"
    #: Speaking for away approvers who named them on the App Home.
    DELEGATE = "delegate"
    #: A configured manager or admin who holds no seat of the step.
    OVERRIDE = "override"


class AlertKind(StrEnum):
    """A reminder in the request's thread, or an escalation to the management channel (part of the
    exactly-once key ``review:<id>:<revision>:<step>:<kind>:<n>``)."""

    REMIND = "remind"
    ESCALATE = "escalate"


class DeliveryKind(StrEnum):
    """Outbox item kinds: the Slack side owed after each stored change (:mod:`bot.review.delivery`)."""

    CREATED = "review.created"
    DECIDED = "review.decided"
    RESUBMITTED = "review.resubmitted"
    PUBLISHED = "review.published"


_REF_RE = re.compile(r"^([0-9]{1,12}):([0-9]{1,6}):([0-9]{1,9})$")
#: The store's integer columns are 32-bit on PostgreSQL: a larger id would crash the lookup itself.
_MAX_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class RequestRef:
    """A pointer to a request as it was rendered: its id, draft revision and row version."""

    request_id: int
    revision: int
    version: int

    def encode(self) -> str:
        return f"{self.request_id}:{self.revision}:{self.version}"

    @classmethod
    def decode(cls, value: object) -> RequestRef:
        """Parse a button value; anything malformed is refused (nothing is changed)."""
        match = _REF_RE.match(value) if isinstance(value, str) else None
        numbers = [int(group) for group in match.groups()] if match is not None else []
        if not numbers or max(numbers) > _MAX_ID:
            raise BotError("review.errors.bad_reference")
        return cls(*numbers)


#: Steps a chain can have at most, for checking a step number read from a client.
_MAX_STEP = 999


@dataclass(frozen=True, slots=True)
class ModalMeta:
    """``private_metadata`` of a review modal: which request, what the modal is for, and — for a
    decision — the approval step it showed (a decision counts for that step only, so a repeated
    submission cannot approve the next one)."""

    ref: RequestRef | None = None
    decision: Decision | None = None
    step: int | None = None

    def encode(self) -> str:
        data: dict[str, str | int] = {}
        if self.ref is not None:
            data["r"] = self.ref.encode()
        if self.decision is not None:
            data["d"] = self.decision.value
        if self.step is not None:
            data["s"] = self.step
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: object) -> ModalMeta:
        try:
            data = json.loads(raw) if isinstance(raw, str) and raw else {}
        except ValueError:
            raise BotError("review.errors.bad_reference") from None
        if not isinstance(data, dict):
            raise BotError("review.errors.bad_reference")
        ref = RequestRef.decode(data["r"]) if "r" in data else None
        decision: Decision | None = None
        if "d" in data:
            try:
                decision = Decision(data["d"])
            except ValueError:
                raise BotError("review.errors.bad_reference") from None
        step: int | None = None
        if "s" in data:
            raw_step = data["s"]
            # bool is an int in Python; a client's true/false is not a step.
            if type(raw_step) is not int or not 0 <= raw_step <= _MAX_STEP:
                raise BotError("review.errors.bad_reference")
            step = raw_step
        return cls(ref=ref, decision=decision, step=step)
