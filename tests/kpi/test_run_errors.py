"""A collector run's stored errors read in each reader's language; older plain text shown as it is (pure)."""

from __future__ import annotations

from bot.errors import BotError
from bot.i18n import translator
from bot.kpi import run_errors
from bot.runtime.platforms import PlatformError, PlatformErrorKind


def test_errors_are_stored_as_keys_and_read_in_either_language() -> None:
    errors: list[BotError] = [
        PlatformError(PlatformErrorKind.AUTH, platform="X", detail="401"),
        BotError("common.errors.unexpected", ref="KeyError"),
    ]
    stored = run_errors.encode(errors)
    assert stored is not None and "common.errors.unexpected" in stored
    for locale in ("ja", "en"):
        t = translator(locale)
        assert run_errors.render(stored, t) == "\n".join(e.render(t) for e in errors)
    assert run_errors.render(stored, translator("ja")) != run_errors.render(stored, translator("en"))
    assert run_errors.encode([]) is None


def test_text_stored_before_keys_and_unknown_keys_are_shown_as_they_are() -> None:
    t = translator("en")
    assert run_errors.render("X: トークンが無効です", t) == "X: トークンが無効です"
    assert run_errors.render('{"not": "a list"}', t) == '{"not": "a list"}'
    assert run_errors.render('[{"key": "no.such.key", "params": {}}]', t) == "no.such.key"


def test_a_platform_error_keeps_its_platform_name_and_when_to_retry() -> None:
    error = PlatformError(PlatformErrorKind.RATE_LIMITED, platform="x", detail="HTTP 429", retry_after=3601)
    stored = run_errors.encode([error])
    assert stored is not None
    for locale in ("ja", "en"):
        assert run_errors.render(stored, translator(locale)) == error.render(translator(locale))
    assert run_errors.render(stored, translator("ja")).endswith("約61分後に再試行できます。")
