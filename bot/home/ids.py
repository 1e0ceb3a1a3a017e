"""App Home identifiers: action, callback and block ids (pure).

Approve / Request changes on the Home reuse ``bot.review.ids.ActionId`` and the review button value
(``RequestRef``), so the review listeners handle a click on the Home exactly like one in the channel;
away mode's pickers carry ``bot.away.ids`` and reach the away listeners; "record a KPI value"
carries ``bot.kpi.ids.ActionId.RECORD``, so the KPI listeners handle it; "Share a win" and the
digest preview carry ``bot.digest.ids.ActionId`` and reach the digest listeners.
"""

from __future__ import annotations

from enum import StrEnum


class BlockId(StrEnum):
    ACTIONS = "home_actions"
    ADMIN_ACTIONS = "home_admin_actions"
