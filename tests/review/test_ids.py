"""Button values and modal metadata codecs (pure): garbage is refused, never guessed."""

from __future__ import annotations

import pytest

from bot.review.ids import ModalMeta, RequestRef


def test_codecs_refuse_garbage() -> None:
    from bot.errors import BotError

    for bad in ("", "1:2", "a:b:c", "1:2:3:4", None, 5, "9" * 13 + ":1:1"):
        with pytest.raises(BotError):
            RequestRef.decode(bad)
    for bad in ("{", "[]", '{"r": "x"}', '{"d": "delete_everything"}'):
        with pytest.raises(BotError):
            ModalMeta.decode(bad)
    assert ModalMeta.decode("") == ModalMeta()
