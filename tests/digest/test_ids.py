"""The message link a person pastes to share a win from the App Home."""

from __future__ import annotations

import pytest

from bot.digest.ids import parse_message_link


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://acme.slack.com/archives/C0TEAM0001/p1767225601000200", ("C0TEAM0001", "1767225601.000200")),
        (
            " https://acme.enterprise.slack.com/archives/G0PRIV0001/p1767225601000200?thread_ts=1.2 ",
            ("G0PRIV0001", "1767225601.000200"),
        ),
        ("https://slack.com/archives/D0DM000001/p1767225601000200#x", ("D0DM000001", "1767225601.000200")),
        ("https://example.com/archives/C0TEAM0001/p1767225601000200", None),
        ("https://acme.slack.com/archives/C0TEAM0001/p17672256010002", None),
        ("<!channel>", None),
    ],
)
def test_message_links(link: str, expected: tuple[str, str] | None) -> None:
    target = parse_message_link(link)
    assert (None if target is None else (target.channel_id, target.message_ts)) == expected
