"""Identifiers of the KPI feature: the "record a KPI value" modal's action, callback and block ids,
scheduler job ids and exactly-once key formats (pure).

The modal is opened from the App Home, but the KPI feature owns it: the Home's button carries
:attr:`ActionId.RECORD` and the KPI listeners answer it. The id strings predate that move and stay as
they were: Homes and modals already open in Slack carry them.
"""

from __future__ import annotations

from enum import StrEnum


class JobId(StrEnum):
    COLLECT = "kpi.collect"


class ActionId(StrEnum):
    #: The App Home's "record a KPI value" button.
    RECORD = "home.record_kpi"
    # Inputs inside the modal (their values arrive with the submission, not as actions).
    KPI = "home.input.kpi"
    VALUE = "home.input.value"
    MONTH = "home.input.month"
    #: The buttons of the preview of an export dropped into the bot's DM (value: the upload id).
    UPLOAD_IMPORT = "kpi.upload.import"
    UPLOAD_CANCEL = "kpi.upload.cancel"
    #: "Open /sns-kpi KEY" on a bot post (a pace alert, a milestone): the KPI's answer, shown only
    #: to the person who clicked. The button's value is the KPI key.
    OPEN_DETAIL = "kpi.open_detail"


class CallbackId(StrEnum):
    RECORD = "home.record_kpi_modal"


class BlockId(StrEnum):
    KPI = "home_kpi"
    VALUE = "home_value"
    MONTH = "home_month"


def claim_auth_key(platform: str, token_fingerprint: str) -> str:
    """Exactly-once key of "admins were told this platform token is rejected"."""
    return f"kpi.collector.auth:{platform}:{token_fingerprint}"


def claim_record_key(view_id: object, view_hash: object) -> str:
    """Exactly-once key of one submission of the "record a KPI value" modal (one modal, one value).

    The ``home:kpi_view:`` prefix predates the modal's move to the KPI feature; :mod:`bot.keys`
    prunes claims by it.
    """
    return f"home:kpi_view:{view_id}:{view_hash}"
