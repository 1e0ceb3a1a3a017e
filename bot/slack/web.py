"""The HTTP edge in front of Bolt: nothing unproven reaches it, and malformed HTTP is one log line
(Slack I/O edge, no feature logic)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.slack.verify import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureCheck

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _refused() -> web.Response:
    return web.json_response({"error": "invalid request"}, status=401)


def verified_only(check: SignatureCheck, *, health_path: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    """aiohttp middleware: 401, before Bolt sees it, for every request not proven to come from Slack.

    Bolt builds its context from the body (``user.id``, ``response_url``) *before* it verifies the
    signature, and a verifier that raises sends that unverified context to the error handler (see
    :mod:`bot.slack.verify`). So the whole check runs here first: the headers (cheap, no body read),
    then the HMAC over the body. Only ``GET`` of ``health_path`` is served without it.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "GET" and request.path == health_path:
            return await handler(request)
        timestamps = request.headers.getall(TIMESTAMP_HEADER, [])
        signatures = request.headers.getall(SIGNATURE_HEADER, [])
        if not check.headers_plausible(timestamps, signatures):
            log.info("refused a request not signed by Slack (%s %s)", request.method, request.path[:100])
            return _refused()
        try:
            body = await request.read()
        except web.HTTPException:  # larger than the server accepts: it cannot be proven
            log.info("refused a request too large to verify (%s)", request.content_length)
            return _refused()
        if not check.verify(timestamp=timestamps, signature=signatures, body=body):
            log.info("refused a request with a wrong signature (%s %s)", request.method, request.path[:100])
            return _refused()
        try:
            return await handler(request)
        except ValueError as exc:
            # Bolt's adapter parses the body before dispatching (JSON, UTF-8) and lets the error out
            # as a 500 with a traceback; a signed body it cannot read is answered plainly instead.
            log.warning("a signed request had a body that cannot be read: %s", type(exc).__name__)
            return web.json_response({"error": "invalid body"}, status=400)

    return middleware


class _MalformedHttpFilter(logging.Filter):
    """One line, no traceback, for HTTP the server could not parse (too-long header lines, bad bytes).

    NOTE: aiohttp's ``RequestHandler.handle_error`` logs every parser error with ``logger.exception``
    (aiohttp.server, ERROR with a traceback), so anyone can fill the log with tracebacks. The 400
    itself is right; only the record is shortened here.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.msg = "refused malformed HTTP (%s %s)"
            record.args = (exc.code, type(exc).__name__)
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


_QUIET = _MalformedHttpFilter()


def quiet_malformed_requests() -> None:
    """Install :class:`_MalformedHttpFilter` on aiohttp's server logger (once per process)."""
    logger = logging.getLogger("aiohttp.server")
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)
