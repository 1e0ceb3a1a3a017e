"""The bot token goes only to Slack's file hosts (or the configured SLACK_API_URL host), and a
download is cut off at the size limit."""

from __future__ import annotations

import pytest

from bot.slack.files import DownloadRefused, download, download_allowed
from tests.fakes.slack import FakeSlack

API = "https://slack.com/api/"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://files.slack.com/files-pri/T0001-F0FILE0001/download/kpi.csv", True),
        ("https://acme.enterprise.slack.com/files-pri/T0001-F1/download/kpi.csv", True),
        ("http://files.slack.com/files-pri/T0001-F1/download/kpi.csv", False),  # no token over HTTP
        ("https://files.slack.com:8443/files-pri/T0001-F1/kpi.csv", False),
        ("https://files.slack.com.evil.example/x.csv", False),
        ("https://evilslack.com/x.csv", False),
        ("https://user:pw@files.slack.com/x.csv", False),
        ("https://example.com/files-pri/x.csv", False),
        ("ftp://files.slack.com/x.csv", False),
        (None, False),
    ],
)
def test_only_slack_file_hosts_get_the_token(url: object, allowed: bool) -> None:
    assert download_allowed(url, api_url=API) is allowed


def test_the_configured_api_host_is_allowed_for_tests_and_nothing_else_on_it() -> None:
    api = "http://127.0.0.1:8123/api/"
    assert download_allowed("http://127.0.0.1:8123/files-pri/T-F1/download/a.csv", api_url=api)
    assert not download_allowed("http://127.0.0.1:9999/files-pri/T-F1/download/a.csv", api_url=api)


async def test_download_sends_the_bearer_token_and_stops_at_the_limit() -> None:
    async with FakeSlack() as slack:
        slack.download_token = "xoxb-1-right"
        info = slack.share_file(user="U0ALICE01", channel="D0ALICE01", name="a.csv", content=b"x" * 5000)
        url = info["url_private_download"]
        data = await download(url, token="xoxb-1-right", api_url=slack.api_url, max_bytes=10_000)
        assert data == b"x" * 5000
        assert slack.calls_to("download")[0].headers["authorization"] == "Bearer xoxb-1-right"
        with pytest.raises(DownloadRefused) as big:
            await download(url, token="xoxb-1-right", api_url=slack.api_url, max_bytes=4000)
        assert big.value.reason == "too_large"
        with pytest.raises(DownloadRefused) as html:
            await download(url, token="xoxb-1-wrong", api_url=slack.api_url, max_bytes=10_000)
        assert html.value.reason == "signed_out"
        calls = len(slack.calls)
        with pytest.raises(DownloadRefused) as elsewhere:
            await download(
                "https://example.com/a.csv", token="xoxb-1-right", api_url=slack.api_url, max_bytes=10
            )
        assert elsewhere.value.reason == "host"
        assert len(slack.calls) == calls
