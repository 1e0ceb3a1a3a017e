"""App Home identifiers: action, callback and block ids (pure).

Approve / Request changes on the Home reuse ``bot.review.ids.ActionId`` and the review button value
(``RequestRef``), so the review listeners handle a click on the Home exactly like one in the channel;
away mode's pickers carry ``bot.away.ids`` and reach the away listeners; "Share a win" and the
digest preview carry ``bot.digest.ids.ActionId`` and reach the digest listeners.
"""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    START_REVIEW = "home.start_review"
    RECORD_KPI = "home.record_kpi"
    # Inputs inside modals (their values arrive with the submission, not as actions).
    KPI = "home.input.kpi"
    VALUE = "home.input.value"
    MONTH = "home.input.month"


class CallbackId(StrEnum):
    RECORD_KPI = "home.record_kpi_modal"


class BlockId(StrEnum):
    ACTIONS = "home_actions"
    KPI = "home_kpi"
    VALUE = "home_value"
    MONTH = "home_month"
    ADMIN_ACTIONS = "home_admin_actions"
