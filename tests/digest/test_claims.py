"""The wait between attempts of a digest that did not go out."""

from __future__ import annotations

from datetime import timedelta

from bot.digest.claims import retry_delay


def test_retry_delay_doubles_up_to_half_an_hour_however_many_attempts() -> None:
    assert [retry_delay(n) // timedelta(minutes=1) for n in range(0, 9)] == [1, 1, 2, 4, 8, 16, 30, 30, 30]
    # A channel unreadable for a day takes the claim over ~42 times; the wait stays capped (it once
    # raised OverflowError from the 42nd attempt on: the send crashed instead of waiting).
    assert retry_delay(42) == retry_delay(10**6) == timedelta(minutes=30)
