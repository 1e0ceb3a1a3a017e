"""What an import did (or, dry-run, would do), and how far a running one is: plain data and its
localized lines, shared by ``sns-bot import`` and any other caller of :func:`bot.kpi.imports.import_file`
(pure).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from bot.errors import BotError
from bot.i18n import Translator
from bot.kpi.records import BrandedTotals, DailyResult, RecordResult, RowProblem, RowSkip, UpsertResult

#: Lines listed per skip reason before "…" (the count says the rest).
LISTED_LINES = 8


@dataclass(frozen=True, slots=True)
class Note:
    """Something the report says about the file as a whole (catalog key + params)."""

    key: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of one import.

    Attributes:
        format: the recognised format's name (``search_console_zip`` for the zip as downloaded).
        label_key: catalog key of the format's human name.
        encoding: the text encoding read.
        accounts: configured accounts the rows were filed under.
        first_day, last_day: the days the data covers (publish days of posts, days of series).
        rows: data rows read.
        posts, daily, kpis: what the store did with posts, day values and KPI values.
        skips: rows deliberately left out, each with its reason.
        problems: rejected rows; any of them means nothing was written.
        branded: branded search found in a Search Console queries table.
        notes: remarks about the file as a whole.
        error: the file was refused before any row was read.
        dry_run: the counts are what an import would do; nothing was written.
    """

    format: str
    label_key: str
    encoding: str = ""
    accounts: tuple[str, ...] = ()
    first_day: date | None = None
    last_day: date | None = None
    rows: int = 0
    posts: UpsertResult = UpsertResult()
    daily: DailyResult = DailyResult()
    kpis: RecordResult = RecordResult()
    skips: tuple[RowSkip, ...] = ()
    problems: tuple[RowProblem, ...] = ()
    branded: BrandedTotals | None = None
    notes: tuple[Note, ...] = ()
    error: BotError | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """Nothing refused: the file was (or, dry-run, would be) imported."""
        return self.error is None and not self.problems

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    @property
    def changed(self) -> bool:
        """The import adds or changes something in the store."""
        return bool(
            self.posts.new or self.posts.updated or self.daily.new or self.daily.updated or self.kpis.recorded
        )


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """How far a running import is (sent after every chunk, and once at the end with ``done``).

    Attributes:
        rows: data rows read so far.
        fraction: the share of the file read (0-1), ``None`` when unknown.
        elapsed: seconds since the import started.
    """

    rows: int
    fraction: float | None
    elapsed: float
    done: bool = False

    @property
    def rate(self) -> float | None:
        """Rows per second so far."""
        return self.rows / self.elapsed if self.elapsed > 0 else None

    @property
    def eta(self) -> float | None:
        """Seconds left, estimated from the share read so far."""
        if self.done:
            return 0.0
        if not self.fraction or self.elapsed <= 0:
            return None
        return max(0.0, self.elapsed * (1 - self.fraction) / self.fraction)


def _number(value: int) -> str:
    return f"{value:,}"


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:LISTED_LINES])
    return shown + (", …" if len(lines) > LISTED_LINES else "")


def skip_summary(t: Translator, skips: tuple[RowSkip, ...]) -> str | None:
    """Every skipped row in ONE line, grouped by reason: "Skipped 7 rows: Total row (line 2); …"."""
    if not skips:
        return None
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[int]] = defaultdict(list)
    for skip in skips:
        params = tuple(sorted((k, str(v)) for k, v in skip.params.items()))
        groups[(skip.key, params)].append(skip.line)
    reasons = [
        t("imports.report.skip_reason", reason=t(key, **dict(params)), count=len(lines), lines=_lines(lines))
        for (key, params), lines in groups.items()
    ]
    return t(
        "imports.report.skipped",
        count=_number(len(skips)),
        reasons=t("imports.report.separator").join(reasons),
    )


def render_report(t: Translator, report: ImportReport) -> list[tuple[str, bool]]:
    """The report as lines, each with whether it tells of a problem (the CLI sends those to stderr)."""
    if report.error is not None:
        return [(report.error.render(t), True)]
    out: list[tuple[str, bool]] = [
        (t("imports.report.detected", format=t(report.label_key), encoding=report.encoding), False)
    ]
    if report.accounts:
        out.append((t("imports.report.accounts", accounts=t.join(report.accounts)), False))
    if report.first_day is not None and report.last_day is not None:
        out.append(
            (
                t(
                    "imports.report.period",
                    first=report.first_day.isoformat(),
                    last=report.last_day.isoformat(),
                ),
                False,
            )
        )
    for problem in report.problems:
        out.append(
            (t("imports.report.row", line=problem.line, message=t(problem.key, **problem.params)), True)
        )
    out.append((t("kpi.import.rows", rows=_number(report.rows), skipped=_number(len(report.skips))), False))
    if (summary := skip_summary(t, report.skips)) is not None:
        out.append((summary, False))
    if report.problems:
        out.append((t("kpi.import.rejected", count=_number(len(report.problems))), True))
        return out
    posts, daily, kpis = report.posts, report.daily, report.kpis
    for key, counts in (("kpi.import.posts", posts), ("imports.report.daily", daily)):
        if counts.new or counts.updated or counts.unchanged:
            line = t(
                key,
                new=_number(counts.new),
                updated=_number(counts.updated),
                unchanged=_number(counts.unchanged),
            )
            out.append((line, False))
    if report.branded is not None:
        b = report.branded
        out.append(
            (
                t(
                    "imports.report.branded",
                    queries=_number(b.queries),
                    clicks=_number(b.clicks),
                    impressions=_number(b.impressions),
                ),
                False,
            )
        )
    if kpis.recorded or kpis.unchanged:
        out.append(
            (t("kpi.import.kpis", recorded=_number(kpis.recorded), unchanged=_number(kpis.unchanged)), False)
        )
    for note in report.notes:
        out.append((t(note.key, **note.params), False))
    if not report.changed:
        out.append((t("kpi.import.nothing_new"), False))
    if report.dry_run:
        out.append((t("kpi.import.dry_run"), False))
    return out
