"""Downloading a file someone shared with the bot: ``url_private_download`` with the bot token, only
from a Slack host, never larger than a limit (Slack I/O edge; aiohttp).

The token goes in ``Authorization: Bearer …`` and only to ``files.slack.com`` (or another
``*.slack.com`` host over HTTPS: Enterprise Grid redirects there) or to the host of the configured
``SLACK_API_URL`` (which tests point at a fake Slack). Redirects are followed by hand, each hop
checked the same way: a URL or a redirect pointing anywhere else is refused before anything is sent.
Slack answers a download it refuses with its HTML sign-in page and a 200, so HTML is refused too.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import aiohttp

#: Redirect hops followed at most (Enterprise Grid sends one).
MAX_REDIRECTS = 3
_SLACK_FILES_HOST = "files.slack.com"


class DownloadRefused(Exception):
    """The file cannot be downloaded: ``reason`` is ``host`` (not a Slack URL), ``too_large``,
    ``signed_out`` (Slack's sign-in page: the token may not read it) or ``http`` (``detail``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason} {detail}".strip())
        self.reason = reason
        self.detail = detail


def download_allowed(url: object, *, api_url: str) -> bool:
    """Whether the bot token may be sent to ``url``: HTTPS to ``files.slack.com`` or another
    ``*.slack.com`` host on the default port, or the scheme, host and port of ``SLACK_API_URL``.
    No credentials in the URL, nothing else."""
    if not isinstance(url, str) or len(url) > 3000:
        return False
    try:
        target, api = urlsplit(url), urlsplit(api_url)
        host = (target.hostname or "").lower()
        if not host or target.username is not None or target.password is not None:
            return False
        if (
            target.scheme == "https"
            and target.port is None
            and (host == _SLACK_FILES_HOST or host.endswith(".slack.com"))
        ):
            return True
        return target.scheme in ("http", "https") and (target.scheme, host, target.port) == (
            api.scheme,
            (api.hostname or "").lower(),
            api.port,
        )
    except ValueError:  # a port that is not a number, a bad IPv6 literal
        return False


async def download(url: str, *, token: str, api_url: str, max_bytes: int, timeout: float = 60.0) -> bytes:
    """The file's bytes.

    Raises:
        DownloadRefused: see its reasons; nothing is sent to a host that is not allowed.
        aiohttp.ClientError, TimeoutError: the network failed.
    """
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        for _hop in range(MAX_REDIRECTS + 1):
            if not download_allowed(url, api_url=api_url):
                raise DownloadRefused("host", urlsplit(url).hostname or "?")
            headers = {"Authorization": f"Bearer {token}"}
            async with session.get(url, headers=headers, allow_redirects=False) as response:
                if response.status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location", "")
                    url = urljoin(url, location)
                    continue
                if response.status != 200:
                    raise DownloadRefused("http", str(response.status))
                if response.content_type == "text/html":
                    raise DownloadRefused("signed_out")
                if response.content_length is not None and response.content_length > max_bytes:
                    raise DownloadRefused("too_large", str(response.content_length))
                data = bytearray()
                async for piece in response.content.iter_chunked(1 << 16):
                    data += piece
                    if len(data) > max_bytes:  # stop reading: a lying or absent Content-Length
                        raise DownloadRefused("too_large", str(len(data)))
                return bytes(data)
    raise DownloadRefused("http", "too many redirects")
