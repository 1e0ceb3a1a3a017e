"""Identifiers of the KPI feature: scheduler job ids and exactly-once key formats (pure)."""

from __future__ import annotations

from enum import StrEnum


class JobId(StrEnum):
    COLLECT = "kpi.collect"


def claim_auth_key(platform: str, token_fingerprint: str) -> str:
    """Exactly-once key of "admins were told this platform token is rejected"."""
    return f"kpi.collector.auth:{platform}:{token_fingerprint}"
