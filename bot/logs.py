"""Logging: one line per event (text or JSON), with every configured secret redacted (I/O: stderr)."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.config import mask_database_url

# Token shapes that must never reach a log, whatever code path formats them.
_TOKEN_RE = re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)")
_MASK = "**********"


class RedactingFilter(logging.Filter):
    """Replaces known secret values and anything shaped like a Slack token in the final message."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _MASK)
        # A database URL's password, whatever its length or encoding (``postgresql://u:…@host``).
        return mask_database_url(_TOKEN_RE.sub(_MASK, text))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, plus ``extra`` fields."""

    _RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._RESERVED and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_text:
            out["exc"] = record.exc_text
        elif record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # Keep "one line per event": tracebacks and multi-line messages are folded.
        return super().format(record).replace("\n", " | ")


def configure_logging(*, level: str, fmt: str, secrets: Iterable[str], stream: Any = None) -> RedactingFilter:
    """Install one handler on the root logger (replacing earlier ones); returns its redaction, for
    text that is printed rather than logged."""
    handler = logging.StreamHandler(stream or sys.stderr)
    redaction = RedactingFilter(secrets)
    handler.addFilter(redaction)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Bolt and the SDK log request bodies at DEBUG; keep them at INFO or above unless asked.
    for noisy in ("slack_bolt", "slack_sdk", "aiohttp.access", "apscheduler", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLevelName(level)))
    return redaction
