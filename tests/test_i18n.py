"""Both catalogs hold the same keys with the same placeholders, and every key the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

from bot.i18n import LOCALES, catalog, placeholders

ROOT = Path(__file__).resolve().parent.parent
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
#: Proper nouns that stay in Latin letters in Japanese text too.
_BRANDS = re.compile(
    r"Instagram|YouTube|TikTok|LinkedIn|Facebook|Threads|\bnote\b|Slack|Google|Search Console|Meta|Excel"
)


def test_catalogs_have_the_same_keys() -> None:
    ja, en = catalog("ja"), catalog("en")
    assert sorted(set(ja) - set(en)) == [], "keys only in ja"
    assert sorted(set(en) - set(ja)) == [], "keys only in en"


def test_catalogs_have_the_same_placeholders() -> None:
    ja, en = catalog("ja"), catalog("en")
    different = {
        k: (placeholders(ja[k]), placeholders(en[k]))
        for k in ja
        if placeholders(ja[k]) != placeholders(en[k])
    }
    assert different == {}


def test_no_message_is_empty_and_japanese_reads_as_japanese() -> None:
    for locale in LOCALES:
        empty = [k for k, v in catalog(locale).items() if not v.strip()]
        assert empty == [], f"empty messages in {locale}"
    # Every Japanese message that has words holds Japanese (no English left untranslated),
    # unless it is only a format (placeholders, numbers, symbols).
    untranslated = [
        key
        for key, value in catalog("ja").items()
        if re.search(
            r"[A-Za-z]{4,}", re.sub(r"\{[^}]*\}|`[^`]*`|:[a-z_]+:|<[^>]*>", "", _BRANDS.sub("", value))
        )
        and not _JAPANESE.search(value)
    ]
    assert untranslated == []


def test_every_catalog_key_used_in_code_exists() -> None:
    """Literal keys passed to a translator or BotError in bot/ must exist in the catalog."""
    known = set(catalog("en"))
    prefixes = {k.split(".")[0] for k in known}
    pattern = re.compile(
        r"""(?:\bt|BotError|NotAllowed|NotFound|Conflict|Unavailable|PlatformError)\(\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']"""
    )
    missing = []
    for path in (ROOT / "bot").rglob("*.py"):
        for key in pattern.findall(path.read_text(encoding="utf-8")):
            if key.split(".")[0] in prefixes and key not in known:
                missing.append(f"{path.relative_to(ROOT)}: {key}")
    assert missing == []
