"""The messages of an import from Slack, in the DM where the file was dropped: reading, the preview
with Import / Cancel, progress, the final report, refusals and errors (pure Block Kit).

Each is one message the bot keeps updating in place (``chat.update``), so the DM shows one answer
per file. File names and anything read from the file are escaped.
"""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot.i18n import Translator
from bot.kpi.ids import ActionId
from bot.kpi.import_report import ImportProgress, skip_summary
from bot.kpi.import_run import ImportReport, report_lines
from bot.kpi.progress import progress_text
from bot.slack.blocks import Message, context, escape, fields, mrkdwn, plain

#: Rejected rows listed in the preview (the count is always complete).
SHOWN_PROBLEMS = 10


def _title(key: str, filename: str, t: Translator) -> str:
    return t(key, name=escape(filename))


def build_reading(filename: str, *, t: Translator) -> Message:
    text = _title("uploads.reading", filename, t)
    return Message(text=text, blocks=[mrkdwn(text)])


def build_refused(*, t: Translator, reason: str) -> Message:
    """The polite answer to someone who may not record KPI values (``reason``: the setter rule's)."""
    text = t("uploads.refused", reason=reason)
    return Message(text=text, blocks=[mrkdwn(text)])


def build_failed(filename: str, *, error: str, t: Translator) -> Message:
    """A file that cannot be imported: too large, unknown format, a failed download (nothing written)."""
    title = _title("uploads.failed", filename, t)
    return Message(
        text=f"{title} {error}",
        blocks=[mrkdwn(title), mrkdwn(error), context(t("uploads.nothing_written"))],
    )


def _period(report: ImportReport, t: Translator) -> str:
    if report.first is None or report.last is None:
        return t("uploads.none")
    if report.first == report.last:
        return report.first.isoformat()
    return t("uploads.range", first=report.first.isoformat(), last=report.last.isoformat())


def _facts(report: ImportReport, *, accounts: dict[str, str], t: Translator) -> list[str]:
    names = t.join(escape(accounts.get(a, a)) for a in sorted(report.accounts)) or t("uploads.none")
    posts, values = report.posts, report.values
    facts = [
        t("uploads.field.format", format=t(report.format_key)),
        t("uploads.field.account", accounts=names),
        t("uploads.field.period", period=_period(report, t)),
        t("uploads.field.rows", rows=f"{report.rows:,}", skipped=f"{report.skipped:,}"),
    ]
    if report.kind == "posts":
        facts.append(
            t(
                "uploads.field.posts",
                new=f"{posts.new:,}",
                updated=f"{posts.updated:,}",
                unchanged=f"{posts.unchanged:,}",
            )
        )
    daily = report.daily
    if daily.new or daily.updated or daily.unchanged:
        facts.append(
            t(
                "uploads.field.daily",
                new=f"{daily.new:,}",
                updated=f"{daily.updated:,}",
                unchanged=f"{daily.unchanged:,}",
            )
        )
    if values.recorded or values.unchanged or (report.kind == "kpi" and not daily.new + daily.unchanged):
        facts.append(t("uploads.field.values", new=f"{values.recorded:,}", unchanged=f"{values.unchanged:,}"))
    return facts


def _remarks(report: ImportReport, t: Translator) -> list[str]:
    """Which rows were skipped and why (one line), branded search found, notes about the file."""
    detail = report.detail
    if detail is None:
        return [t("uploads.skipped_reason", count=f"{report.skipped:,}")] if report.skipped else []
    out = []
    if (summary := skip_summary(t, detail.skips)) is not None:
        out.append(escape(summary))
    if (b := detail.branded) is not None:
        out.append(
            t(
                "imports.report.branded",
                queries=f"{b.queries:,}",
                clicks=f"{b.clicks:,}",
                impressions=f"{b.impressions:,}",
            )
        )
    out += [escape(t(note.key, **note.params)) for note in detail.notes]
    return out


def _problems(report: ImportReport, t: Translator) -> list[str]:
    shown = [
        t("imports.report.row", line=p.line, message=escape(t(p.key, **p.params)))
        for p in report.problems[:SHOWN_PROBLEMS]
    ]
    if report.rejected > len(shown):
        shown.append(t("uploads.more_problems", count=f"{report.rejected - len(shown):,}"))
    return shown


def build_preview(
    report: ImportReport, *, upload_id: int, filename: str, accounts: dict[str, str], t: Translator
) -> Message:
    """What importing the file would do, with Import / Cancel; or, when rows are rejected, why it
    cannot be imported (no Import button: a file imports whole or not at all)."""
    title = _title("uploads.preview_title", filename, t)
    blocks: list[object] = [mrkdwn(title), fields(_facts(report, accounts=accounts, t=t))]
    blocks += [context(remark) for remark in _remarks(report, t)]
    if not report.ok:
        problems = _problems(report, t)
        if report.error is not None:
            problems.append(report.error.render(t))
        blocks.append(
            mrkdwn(t("uploads.rejected", count=f"{report.rejected:,}") + "\n" + "\n".join(problems))
        )
        blocks.append(context(t("uploads.nothing_written")))
        text = f"{title} {t('uploads.rejected', count=f'{report.rejected:,}')}"
        return Message(text=text, blocks=blocks)  # type: ignore[arg-type]
    if not report.writes:
        blocks.append(mrkdwn(t("kpi.import.nothing_new")))
        blocks.append(context(t("uploads.nothing_written")))
        return Message(text=f"{title} {t('kpi.import.nothing_new')}", blocks=blocks)  # type: ignore[arg-type]
    blocks.append(context(t("uploads.confirm_hint")))
    blocks.append(_actions(upload_id, t))
    return Message(text=f"{title} {t('uploads.confirm_hint')}", blocks=blocks)  # type: ignore[arg-type]


def _actions(upload_id: int, t: Translator) -> ActionsBlock:
    return ActionsBlock(
        block_id="kpi_upload_actions",
        elements=[
            ButtonElement(
                text=plain(t("uploads.import_button")),
                action_id=ActionId.UPLOAD_IMPORT,
                value=str(upload_id),
                style="primary",
            ),
            ButtonElement(
                text=plain(t("uploads.cancel_button")),
                action_id=ActionId.UPLOAD_CANCEL,
                value=str(upload_id),
            ),
        ],
    )


def build_progress(
    filename: str, *, tick: ImportProgress | None, t: Translator, restarted: bool = False
) -> Message:
    """The import under way: rows read, rows/s and the time left (the command line's progress line,
    bar included); ``tick`` is ``None`` before the first chunk. ``restarted``: an earlier attempt
    died unfinished and this click started it again."""
    text = _title("uploads.importing", filename, t)
    blocks: list[object] = [mrkdwn(text)]
    if restarted:
        blocks.append(context(t("uploads.restarted")))
    line = progress_text(t, tick, bar=True) if tick is not None else t("uploads.starting")
    blocks.append(context(escape(line)))
    return Message(text=text, blocks=blocks)  # type: ignore[arg-type]


def build_interrupted(filename: str, *, upload_id: int, t: Translator) -> Message:
    """An import whose process stopped before it finished (a restart); Import starts it again (an
    import is one transaction, and importing what is already saved changes nothing)."""
    title = _title("uploads.interrupted", filename, t)
    return Message(text=title, blocks=[mrkdwn(title), _actions(upload_id, t)])


def build_done(report: ImportReport, *, filename: str, user_id: str, t: Translator) -> Message:
    """The end of the import: the command line's report, and who imported it."""
    key = "uploads.done" if report.ok else "uploads.failed"
    title = _title(key, filename, t)
    lines = "\n".join(escape(line) for line in report_lines(report, t))
    blocks = [mrkdwn(title), mrkdwn(lines), context(t("uploads.imported_by", user=f"<@{user_id}>"))]
    return Message(text=f"{title}\n{lines}", blocks=blocks)


def build_cancelled(filename: str, *, t: Translator) -> Message:
    text = _title("uploads.cancelled", filename, t)
    return Message(text=text, blocks=[mrkdwn(text), context(t("uploads.nothing_written"))])
