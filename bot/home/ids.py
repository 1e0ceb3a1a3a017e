"""App Home identifiers (action, callback and block ids) and the message-link codec of "share a win" (pure).

Approve / Request changes on the Home reuse ``bot.review.ids.ActionId`` and the review button value
(``RequestRef``), so the review listeners handle a click on the Home exactly like one in the channel;
away mode's pickers carry ``bot.away.ids`` and reach the away listeners;
"record a KPI value" carries ``bot.kpi.ids.ActionId.RECORD``, so the KPI listeners handle it.
"""

from __future__ import annotations

import re
from enum import StrEnum

from bot.digest.ids import WinTarget


class ActionId(StrEnum):
    SHARE_WIN = "home.share_win"
    DIGEST_PREVIEW = "home.digest_preview"
    # Inputs inside modals (their values arrive with the submission, not as actions).
    WIN_LINK = "home.input.win_link"


class CallbackId(StrEnum):
    SHARE_WIN = "home.share_win_modal"


class BlockId(StrEnum):
    ACTIONS = "home_actions"
    WIN_LINK = "home_win_link"
    ADMIN_ACTIONS = "home_admin_actions"


#: ``https://<workspace>.slack.com/archives/C0123/p1767225601000200`` (a "Copy link" of a message);
#: the ``p`` number is the message ts without its dot (10 digits, then 6).
_PERMALINK_RE = re.compile(
    r"^https://[A-Za-z0-9.-]*slack\.com/archives/([CGD][A-Z0-9]{2,})/p(\d{10})(\d{6})(?:[?#].*)?$"
)


def parse_message_link(text: str) -> WinTarget | None:
    """The message a "Copy link" URL points at (its thread ``ts`` is ignored), or ``None``."""
    match = _PERMALINK_RE.match(text.strip())
    if match is None:
        return None
    return WinTarget(channel_id=match.group(1), message_ts=f"{match.group(2)}.{match.group(3)}")
