"""The messages of an import from Slack, in the DM where the file was dropped: reading, the preview
with Import / Cancel, progress, the final report, refusals and errors (pure Block Kit).

Each is one message the bot keeps updating in place (``chat.update``), so the DM shows one answer
per file. File names and anything read from the file are escaped.
"""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.i18n import Translator
from bot.kpi.ids import ActionId
from bot.kpi.import_report import ImportReport, render_report, skip_summary
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
    first, last = report.first_day, report.last_day
    if first is None or last is None:
        return t("uploads.none")
    if first == last:
        return first.isoformat()
    return t("uploads.range", first=first.isoformat(), last=last.isoformat())


def _facts(report: ImportReport, *, accounts: dict[str, str], t: Translator) -> list[str]:
    names = ", ".join(escape(accounts.get(a, a)) for a in report.accounts) or t("uploads.none")
    posts, daily, values = report.posts, report.daily, report.kpis
    facts = [
        t("uploads.field.format", format=t(report.label_key)),
        t("uploads.field.account", accounts=names),
        t("uploads.field.period", period=_period(report, t)),
        t("uploads.field.rows", rows=f"{report.rows:,}", skipped=f"{len(report.skips):,}"),
    ]
    if posts.new or posts.updated or posts.unchanged:
        facts.append(
            t(
                "uploads.field.posts",
                new=f"{posts.new:,}",
                updated=f"{posts.updated:,}",
                unchanged=f"{posts.unchanged:,}",
            )
        )
    if daily.new or daily.updated or daily.unchanged:
        facts.append(
            t(
                "uploads.field.daily",
                new=f"{daily.new:,}",
                updated=f"{daily.updated:,}",
                unchanged=f"{daily.unchanged:,}",
            )
        )
    if values.recorded or values.unchanged:
        facts.append(t("uploads.field.values", new=f"{values.recorded:,}", unchanged=f"{values.unchanged:,}"))
    return facts


def _problems(report: ImportReport, t: Translator) -> list[str]:
    shown = [
        t("imports.report.row", line=p.line, message=escape(t(p.key, **p.params)))
        for p in report.problems[:SHOWN_PROBLEMS]
    ]
    if len(report.problems) > len(shown):
        shown.append(t("uploads.more_problems", count=f"{len(report.problems) - len(shown):,}"))
    return shown


def build_preview(
    report: ImportReport, *, upload_id: int, filename: str, accounts: dict[str, str], t: Translator
) -> Message:
    """What importing the file would do, with Import / Cancel; or, when rows are rejected, why it
    cannot be imported (no Import button: a file imports whole or not at all)."""
    title = _title("uploads.preview_title", filename, t)
    blocks: list[Block] = [mrkdwn(title), fields(_facts(report, accounts=accounts, t=t))]
    remarks = [skip_summary(t, report.skips), *(t(n.key, **n.params) for n in report.notes)]
    if report.branded is not None:
        b = report.branded
        remarks.append(
            t(
                "imports.report.branded",
                queries=f"{b.queries:,}",
                clicks=f"{b.clicks:,}",
                impressions=f"{b.impressions:,}",
            )
        )
    if any(remarks):
        blocks.append(context(*(escape(r) for r in remarks if r)))
    count = f"{len(report.problems):,}"
    if not report.ok:
        problems = _problems(report, t)
        if report.error is not None:
            problems.append(escape(report.error.render(t)))
        blocks.append(mrkdwn(t("uploads.rejected", count=count) + "\n" + "\n".join(problems)))
        blocks.append(context(t("uploads.nothing_written")))
        return Message(text=f"{title} {t('uploads.rejected', count=count)}", blocks=blocks)
    if not report.changed:
        blocks.append(mrkdwn(t("kpi.import.nothing_new")))
        blocks.append(context(t("uploads.nothing_written")))
        return Message(text=f"{title} {t('kpi.import.nothing_new')}", blocks=blocks)
    blocks.append(context(t("uploads.confirm_hint")))
    blocks.append(
        ActionsBlock(
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
    )
    return Message(text=f"{title} {t('uploads.confirm_hint')}", blocks=blocks)


def build_progress(filename: str, *, rows: int, fraction: float | None, t: Translator) -> Message:
    text = _title("uploads.importing", filename, t)
    done = t("uploads.progress", rows=f"{rows:,}")
    if fraction is not None:
        done += " " + t("uploads.progress_share", percent=f"{min(fraction, 1.0) * 100:.0f}")
    return Message(text=text, blocks=[mrkdwn(text), context(done)])


def build_done(report: ImportReport, *, filename: str, user_id: str, t: Translator) -> Message:
    """The end of the import: the command line's report, and who imported it."""
    key = "uploads.done" if report.ok else "uploads.failed"
    title = _title(key, filename, t)
    lines = "\n".join(escape(line) for line, _problem in render_report(t, report))
    blocks = [mrkdwn(title), mrkdwn(lines), context(t("uploads.imported_by", user=f"<@{user_id}>"))]
    return Message(text=f"{title}\n{lines}", blocks=blocks)


def build_cancelled(filename: str, *, t: Translator) -> Message:
    text = _title("uploads.cancelled", filename, t)
    return Message(text=text, blocks=[mrkdwn(text), context(t("uploads.nothing_written"))])
