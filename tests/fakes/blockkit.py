"""Block Kit checks Slack applies server-side, done with slack_sdk models (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

# Slack: up to 50 blocks in a message, 100 in a modal or Home tab.
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
# Slack: a section field holds at most 2,000 chars; slack_sdk does not check it.
FIELD_TEXT_LIMIT = 2000
# Undocumented: Slack answers msg_blocks_too_long once the texts of a message add up to about 12-13k chars.
CUMULATIVE_TEXT_LIMIT = 12_000


def block_errors(blocks: Any, *, limit: int = MESSAGE_BLOCK_LIMIT, pointer: str = "/blocks") -> list[str]:
    """Return Slack-style error lines for a list of blocks; empty when Slack would accept them.

    Each block goes through `Block.parse(raw).to_dict()`: `to_dict()` is the recursive length/shape
    validation, and comparing its output with the input catches misspelled or unknown keys
    (the SDK drops them silently).
    """
    if not isinstance(blocks, list):
        return [f"[ERROR] blocks must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]")
    for index, raw in enumerate(blocks):
        where = f"{pointer}/{index}"
        try:
            parsed = Block.parse(raw) if isinstance(raw, dict) else None
            out = parsed.to_dict() if parsed is not None else None
        except SlackObjectFormationError as exc:
            errors.append(f"[ERROR] {exc} [json-pointer:{where}]")
            continue
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            # Model constructors raise these on unknown or missing nested keys.
            errors.append(f"[ERROR] {type(exc).__name__}: {exc} [json-pointer:{where}]")
            continue
        if out is None:
            kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
            errors.append(f"[ERROR] unknown block type {kind!r} [json-pointer:{where}]")
            continue
        errors.extend(
            f"[ERROR] unknown or malformed key [json-pointer:{p}]" for p in _differences(raw, out, where)
        )
        for field_index, field in enumerate(raw.get("fields") or []):
            if isinstance(field, dict) and len(str(field.get("text", ""))) > FIELD_TEXT_LIMIT:
                errors.append(
                    f"[ERROR] must be less than {FIELD_TEXT_LIMIT + 1} characters "
                    f"[json-pointer:{where}/fields/{field_index}/text]"
                )
    return errors


def cumulative_text_length(value: Any) -> int:
    """Sum the length of every `text` string anywhere in a block payload."""
    if isinstance(value, list):
        return sum(cumulative_text_length(item) for item in value)
    if isinstance(value, dict):
        own = len(value["text"]) if isinstance(value.get("text"), str) else 0
        return own + sum(cumulative_text_length(v) for v in value.values() if isinstance(v, dict | list))
    return 0


def message_errors(blocks: Any) -> tuple[str, list[str]] | None:
    """Check a message's `blocks`; return `(slack_error_code, messages)` or None when valid."""
    errors = block_errors(blocks, limit=MESSAGE_BLOCK_LIMIT)
    if errors:
        return "invalid_blocks", errors
    total = cumulative_text_length(blocks)
    if total > CUMULATIVE_TEXT_LIMIT:
        return "msg_blocks_too_long", [
            f"[ERROR] blocks hold {total} chars of text (> {CUMULATIVE_TEXT_LIMIT})"
        ]
    return None


def view_errors(view: Any) -> list[str]:
    """Return Slack-style error lines for a modal or Home tab view; empty when valid."""
    if not isinstance(view, dict):
        return ["[ERROR] view must be an object [json-pointer:/view]"]
    try:
        out = View(**view).to_dict()
    except (SlackObjectFormationError, TypeError, KeyError, ValueError, AttributeError) as exc:
        return [f"[ERROR] {exc} [json-pointer:/view]"]
    given = {key for key, value in view.items() if value is not None and key != "blocks"}
    errors = [f"[ERROR] unknown view key [json-pointer:/view/{key}]" for key in sorted(given - set(out))]
    blocks = view.get("blocks", [])
    errors.extend(block_errors(blocks, limit=VIEW_BLOCK_LIMIT, pointer="/view/blocks"))
    # Slack: a modal holding an input block needs a submit button; slack_sdk only checks its length.
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if view.get("type") == "modal" and has_input and not view.get("submit"):
        errors.append("[ERROR] submit is required when a modal has input blocks [json-pointer:/view/submit]")
    return errors


def _differences(raw: Any, out: Any, pointer: str) -> Iterator[str]:
    """Yield json pointers where the round-tripped payload differs from what was sent."""
    if isinstance(raw, Mapping) and isinstance(out, Mapping):
        for key in sorted(set(raw) | set(out)):
            if key not in out and raw.get(key) is None:
                continue  # None-valued keys are dropped by to_dict() and ignored by Slack.
            if key not in raw or key not in out:
                yield f"{pointer}/{key}"
            else:
                yield from _differences(raw[key], out[key], f"{pointer}/{key}")
    elif isinstance(raw, list) and isinstance(out, list) and len(raw) == len(out):
        for index, (left, right) in enumerate(zip(raw, out, strict=True)):
            yield from _differences(left, right, f"{pointer}/{index}")
    elif raw != out:
        yield pointer
