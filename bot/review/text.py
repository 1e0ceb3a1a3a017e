"""Draft text rules: platform length (X's weighted count), and the readable line diff between revisions (pure).

X counts with twitter-text's v3 configuration: text is NFC-normalised; code points in
0-4351, 8192-8205, 8208-8223 and 8242-8247 weigh 1, every other code point 2 (so Japanese
counts double); any URL counts 23; an emoji sequence (skin tones, ZWJ families, flags,
keycaps) counts 2 as a whole. Other platforms count Unicode code points after NFC.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

#: twitter-text v3: code point ranges (inclusive) that weigh 1; everything else weighs 2.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
X_URL_LENGTH = 23
X_HEAVY_WEIGHT = 2

_ZWJ = 0x200D
_VS16 = 0xFE0F
_VS15 = 0xFE0E
_KEYCAP = 0x20E3
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_TAGS = range(0xE0020, 0xE0080)
_REGIONAL = range(0x1F1E6, 0x1F200)
#: Code points that are emoji on their own (pictographs, symbols, dingbats, transport, …).
_EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2B05, 0x2B55),
    (0x231A, 0x23FF),
    (0x2934, 0x2935),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
)

# twitter-text stops a URL at the first character outside ASCII (e.g. Japanese right after it),
# and trailing punctuation belongs to the sentence, not to the link.
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_TLDS = (
    "com|net|org|jp|io|co|info|biz|me|tv|app|dev|ly|gl|us|uk|de|fr|cn|kr|tw|ai|so|to|fm|gg|news|"
    "blog|shop|tokyo|site|online|xyz|page|link|tech|edu|gov"
)
_URL_RE = re.compile(
    rf"(?:https?://{_URL_CHARS}+)"
    rf"|(?<![A-Za-z0-9@.\-_/])(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+(?:{_TLDS})\b(?:/{_URL_CHARS}*)?",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,:;!?'\")]"


def _is_light(code: int) -> bool:
    return any(low <= code <= high for low, high in _LIGHT_RANGES)


def _is_emoji_base(code: int) -> bool:
    return any(low <= code <= high for low, high in _EMOJI_RANGES)


def find_urls(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` code point spans of the URLs in ``text`` (scheme or well-known domain)."""
    spans: list[tuple[int, int]] = []
    for match in _URL_RE.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _TRAILING_PUNCTUATION:
            end -= 1
        # "example.com" must have a dot in the host; a bare word never matches (the regex needs a TLD).
        if end > start:
            spans.append((start, end))
    return spans


def _emoji_end(codes: list[int], i: int) -> int | None:
    """Where the emoji sequence starting at ``i`` ends, or None when no emoji starts there."""
    n = len(codes)
    code = codes[i]
    if code in _REGIONAL:
        return i + 2 if i + 1 < n and codes[i + 1] in _REGIONAL else i + 1
    # Keycap: 0-9 # * (+ VS16) + U+20E3.
    if chr(code) in "0123456789#*":
        j = i + 1
        if j < n and codes[j] == _VS16:
            j += 1
        return j + 1 if j < n and codes[j] == _KEYCAP else None
    presentation = i + 1 < n and codes[i + 1] == _VS16
    if not (_is_emoji_base(code) or presentation):
        return None
    j = i + 1
    while j < n:
        nxt = codes[j]
        if nxt in (_VS16, _VS15) or nxt in _SKIN_TONES or nxt in _TAGS:
            j += 1
        elif nxt == _ZWJ and j + 1 < n and (_is_emoji_base(codes[j + 1]) or codes[j + 1] in _REGIONAL):
            j += 2
        else:
            break
    return j


def x_weighted_length(text: str) -> int:
    """The length X shows for ``text`` (280 is the limit), per twitter-text v3."""
    normalized = unicodedata.normalize("NFC", text)
    codes = [ord(c) for c in normalized]
    url_at = dict(find_urls(normalized))
    total = 0
    i = 0
    while i < len(codes):
        if i in url_at:
            total += X_URL_LENGTH
            i = url_at[i]
            continue
        end = _emoji_end(codes, i)
        if end is not None:
            total += X_HEAVY_WEIGHT
            i = end
            continue
        total += 1 if _is_light(codes[i]) else X_HEAVY_WEIGHT
        i += 1
    return total


def draft_length(text: str, *, platform: str) -> int:
    """``text``'s length as ``platform`` counts it (X weighted; others: code points after NFC)."""
    if platform == "x":
        return x_weighted_length(text)
    return len(unicodedata.normalize("NFC", text))


@dataclass(frozen=True, slots=True)
class LengthCheck:
    length: int
    limit: int | None
    weighted: bool

    @property
    def over(self) -> bool:
        return self.limit is not None and self.length > self.limit


def check_length(text: str, *, platform: str, limit: int | None) -> LengthCheck:
    return LengthCheck(draft_length(text, platform=platform), limit, platform == "x")


class DiffOp(StrEnum):
    """What a line of :func:`line_diff` is; the value is the mark it is shown with."""

    SAME = " "
    REMOVED = "-"
    ADDED = "+"
    #: Unchanged lines left out.
    GAP = "…"


@dataclass(frozen=True, slots=True)
class DiffLine:
    op: DiffOp
    text: str


def line_diff(old: str, new: str, *, context: int = 1) -> list[DiffLine]:
    """What changed between two drafts, line by line: removed ``-``, added ``+``, a little unchanged
    context `` `` around each change, and ``…`` where unchanged lines were left out (:class:`DiffOp`)."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    groups = [g for g in matcher.get_grouped_opcodes(context) if any(op[0] != "equal" for op in g)]
    out: list[DiffLine] = []
    for group in groups:
        if group[0][1] > 0 or group[0][3] > 0:
            out.append(DiffLine(DiffOp.GAP, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(DiffLine(DiffOp.SAME, line) for line in old_lines[i1:i2])
                continue
            if tag in ("replace", "delete"):
                out.extend(DiffLine(DiffOp.REMOVED, line) for line in old_lines[i1:i2])
            if tag in ("replace", "insert"):
                out.extend(DiffLine(DiffOp.ADDED, line) for line in new_lines[j1:j2])
    if groups and groups[-1][-1][2] < len(old_lines):
        out.append(DiffLine(DiffOp.GAP, ""))
    return out


def excerpt(text: str, limit: int = 80) -> str:
    """The first line of ``text``, cut to ``limit`` characters (for lists and notifications)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= limit else first[: limit - 1] + "…"
