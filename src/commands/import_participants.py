"""Importing pupils from a school's MIS export into one team.

A commit runs in batches under a recorded import run: each batch stores its
new participants, their blind-index rows, the team's reference counter and
the batch's row outcomes in one transaction, so a pupil is never created
twice and an interrupted run is completed by importing the file again.
"""

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from itertools import islice
from pathlib import Path
from uuid import UUID

from wellbeing.aggregates.team import Team
from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize
from wellbeing.commands.import_commits import BatchCommits
from wellbeing.commands.import_matching import (
    PENDING,
    BatchPlan,
    MatchContext,
    plan_batch,
)
from wellbeing.commands.import_report import (
    NEW,
    REJECTED,
    STATUSES,
    UNCHANGED,
    UPDATED,
    ImportReport,
    RowOutcome,
)
from wellbeing.commands.import_roster import (
    LEAVING_SHARE,
    ConfirmationRequired,
    heal_names_index,
    leavers,
    mark_left,
)
from wellbeing.commands.import_rows import (
    Candidate,
    CheckOptions,
    RowChecker,
    reject,
    taxonomy_columns,
)
from wellbeing.commands.loading import load
from wellbeing.commands.pupil_file import TAGS, PupilFile, PupilRow, read_pupil_file
from wellbeing.errors import InputError
from wellbeing.persistence.blind_index import BlindIndex, refresh_statistics
from wellbeing.persistence.database import Tx, UniqueViolation
from wellbeing.persistence.event_store import VersionConflict
from wellbeing.persistence.import_runs import ImportRun, ImportRuns, RowRecord
from wellbeing.persistence.participants import set_left_on
from wellbeing.persistence.runtime import Runtime
from wellbeing.persistence.team_roll import add_to_roll, has_pupils_without_upn

__all__ = [
    "BATCH_SIZE",
    "ConfirmationRequired",
    "ImportParticipants",
    "ImportReport",
    "RowOutcome",
    "import_participants",
    "list_import_runs",
]

logger = logging.getLogger(__name__)
BATCH_SIZE = 500
# Known shortcoming: every batch that registers pupils moves the team's
# reference counter on, so imports into one team take turns batch by batch;
# with four or five at once, one may run out of attempts and stop as
# interrupted (its batches so far kept; the same file run again finishes).
BATCH_ATTEMPTS = 12
STATISTICS_FIRST_REFRESH = 2_000


@dataclass(frozen=True)
class ImportParticipants:
    """Import a pupil file; a dry run unless commit is set.

    `column_map` names the file's header for a field (surname, upn, fsm, ...).
    `full_roster` marks pupils missing from the file as having left, and
    needs `confirm_leavers` when more than a quarter of the roll would.
    """

    actor: Actor
    team_id: UUID
    path: Path
    commit: bool = False
    allow_other_establishments: bool = False
    today: date | None = None
    column_map: Mapping[str, str] = field(default_factory=dict)
    strict: bool = False
    allow_missing_upn: bool = False
    full_roster: bool = False
    confirm_leavers: bool = False
    batch_size: int = BATCH_SIZE


def import_participants(runtime: Runtime, command: ImportParticipants) -> ImportReport:
    """Check every row and, with commit, store the good ones in batches.

    Raises PupilFileInvalid or PupilFileMalformed for a file that cannot be
    read, and ConfirmationRequired when --full-roster would mark too many
    pupils as having left without confirmation.
    """
    if command.batch_size < 1:
        raise InputError("batch_size: must be at least 1")
    team = load(runtime, Team, command.team_id)
    authorize(runtime, command.actor, "import-participants", team)
    pupil_file = read_pupil_file(
        command.path, column_map=command.column_map, today=command.today
    )
    session = _Session(runtime, command, team, pupil_file)
    if session.backfill and command.full_roster:
        raise InputError("full_roster: a UPN template file is not a full roster")
    report = session.run()
    logger.info(
        "import finished team_id=%s committed=%s rows=%d",
        team.id,
        report.committed,
        len(report.rows),
    )
    return report


class _Session:
    """One import of one file: its passes, its run and its report."""

    def __init__(
        self,
        runtime: Runtime,
        command: ImportParticipants,
        team: Team,
        pupil_file: PupilFile,
    ) -> None:
        self.runtime = runtime
        self.command = command
        self.team = team
        self.file = pupil_file
        self.backfill = "reference" in pupil_file.columns
        self.index = BlindIndex(runtime.keys, team.id)
        self.runs = ImportRuns(runtime.keys, team.id)
        self.today = command.today or date.today()
        self.upnless_pupils = True
        self.may_have_recorded = True
        # The team is kept between batches: reloading it for each would read
        # every reference reservation so far, a cost that grows with the file
        # and with every import before it. It is reloaded after a conflict,
        # and for every pass.
        self.stale_team = True
        self.index_rows_added = 0
        self.next_refresh = STATISTICS_FIRST_REFRESH
        # A batch is stored while the next is read, except under
        # --full-roster, whose leavers are worked out from every batch's
        # matches, and while a batch that met a conflict is stored again.
        self.commits = BatchCommits()
        self.overlap = False

    def run(self) -> ImportReport:
        fingerprint = self.runs.fingerprint(self.command.path, self._options())
        with self.runtime.database.transaction() as tx:
            previous = self.runs.finished(tx, fingerprint)
            names_matching = self.command.allow_missing_upn or not (
                self.index.has_upns(tx)
            )
            self.upnless_pupils = has_pupils_without_upn(tx, self.team.id)
        if previous is not None:
            return self._replay(previous)
        heal_names_index(self.runtime, self.index)
        if not self.command.commit:
            return self._pass(None, names_matching)
        if self.command.strict or self.command.full_roster:
            trial = self._pass(None, names_matching)
            if self.command.strict and trial.held_back():
                trial.refused = True
                return trial
            self._check_leaving_share(trial)
        return self._commit(fingerprint, names_matching)

    def _options(self) -> bytes:
        # Options that change what a row does are part of the fingerprint,
        # so the same file imported another way is another run.
        command = self.command
        mapping = ";".join(f"{k}={v}" for k, v in sorted(command.column_map.items()))
        return "\n".join(
            (
                f"full-roster={command.full_roster}",
                f"allow-missing-upn={command.allow_missing_upn}",
                f"allow-other-establishments={command.allow_other_establishments}",
                f"map={mapping}",
            )
        ).encode()

    def _check_leaving_share(self, trial: ImportReport) -> None:
        if not self.command.full_roster or self.command.confirm_leavers:
            return
        if trial.on_roll and len(trial.leavers) / trial.on_roll > LEAVING_SHARE:
            raise ConfirmationRequired(len(trial.leavers), trial.on_roll)

    def _commit(self, fingerprint: str, names_matching: bool) -> ImportReport:
        with self.runtime.database.transaction() as tx:
            run, resumed = self.runs.start_or_resume(
                tx, fingerprint, self.command.actor.user_id, names_matching
            )
        self.may_have_recorded = resumed
        logger.info(
            "import run started run_id=%s team_id=%s resumed=%s",
            run.id,
            self.team.id,
            resumed,
        )
        self.overlap = not self.command.full_roster
        try:
            report = self._pass(run, run.names_matching)
            report.resumed = resumed
            left = 0
            if self.command.full_roster:
                left = mark_left(
                    self.runtime,
                    self.command.actor.user_id,
                    report.leavers,
                    self.today,
                    self.command.batch_size,
                )
            with self.runtime.database.transaction() as tx:
                self.runs.finish(tx, run.id, left)
        except BaseException:
            self.commits.abandon()
            self._interrupt(run)
            raise
        finally:
            self.commits.close()
        return report

    def _interrupt(self, run: ImportRun) -> None:
        try:
            with self.runtime.database.transaction() as tx:
                self.runs.interrupt(tx, run.id)
        except Exception:  # noqa: BLE001 (the first failure is the one to raise)
            logger.warning("import run not marked interrupted run_id=%s", run.id)
        else:
            logger.warning("import run interrupted run_id=%s", run.id)

    def _new_report(self, run: ImportRun | None) -> ImportReport:
        return ImportReport(
            encoding=self.file.encoding,
            warnings=[w.code for w in self.file.warnings],
            blank_lines=self.file.blank_lines,
            committed=run is not None,
            run_id=None if run is None else run.id,
            upn_backfill=self.backfill,
        )

    def _replay(self, previous: ImportRun) -> ImportReport:
        """The finished run's rows: nothing changes, so nothing is new."""
        report = self._new_report(previous)
        report.committed = self.command.commit
        report.already_imported = True
        with self.runtime.database.transaction() as tx:
            records = list(self.runs.rows(tx, previous.id))
        erased = {r.number for r in records if _pupil_erased(r)}
        columns = self._identifying_columns(erased) if erased else {}
        for record in records:
            report.rows.append(_replayed(record, columns.get(record.number)))
        return report

    def _identifying_columns(self, numbers: set[int]) -> dict[int, str]:
        # A run keeps no value of a row, so the file is read again to name
        # the column that tied each of these rows to its pupil.
        if self.backfill:
            return dict.fromkeys(numbers, "reference")
        return {
            row.number: "surname" if row.upn is None else "upn"
            for row in self.file.rows()
            if row.number in numbers
        }

    def _pass(self, run: ImportRun | None, names_matching: bool) -> ImportReport:
        self.stale_team = True
        report = self._new_report(run)
        taxonomies = taxonomy_columns(self.team, self.file.columns)
        unmapped = set(self.file.columns) & set(TAGS) - set(taxonomies)
        for column in sorted(unmapped):
            report.warn(f"no-taxonomy-for-column:{column}")
        options = CheckOptions(
            backfill=self.backfill,
            names_matching=names_matching,
            allow_other_establishments=self.command.allow_other_establishments,
            today=self.today,
        )
        checker = RowChecker(self.team, self.index, options, taxonomies)
        claimed: dict[UUID, int] = {}
        present: set[UUID] = set()
        for batch in _checked(self.file.rows(), checker, self.command.batch_size):
            report.rows.extend(c.outcome for c in batch)
            settle = partial(self._settle_batch, run, batch, claimed, present)
            _with_backoff(settle)
        self.commits.settle()
        if self.command.full_roster:
            report.leavers, report.on_roll = leavers(
                self.runtime, self.team.id, present
            )
        if run is None:
            for outcome in report.rows:
                if outcome.status == NEW:
                    outcome.participant_id = None
        return report

    def _settle_batch(
        self,
        run: ImportRun | None,
        batch: list[Candidate],
        claimed: dict[UUID, int],
        present: set[UUID],
    ) -> None:
        # The batch before must be in the store before this one is matched.
        self.commits.settle()
        if self.stale_team:
            self.team = load(self.runtime, Team, self.team.id)
            self.stale_team = False
        recorded = self._recorded(run, batch)
        for candidate in batch:
            _reset(candidate, recorded.get(candidate.row.number))
        context = MatchContext(
            actor_id=self.command.actor.user_id,
            team_id=self.team.id,
            index=self.index,
            backfill=self.backfill,
            full_roster=self.command.full_roster,
            claimed=claimed,
            upnless_pupils=self.upnless_pupils,
        )
        plan = plan_batch(self.runtime, context, batch, self.team)
        if any(p.upn is None for p in plan.fresh):
            self.upnless_pupils = True
        if run is None:
            # A dry run stores nothing: the reservation is dropped, and the
            # numbers it took are never shown.
            self.team.collect_events()
        else:
            settled = [c for c in batch if c.row.number not in recorded]
            redo = partial(self._redo, run, batch, claimed, present, plan)
            self._store(run, plan, settled, redo)
            self._keep_statistics(len(plan.upn_rows) + len(plan.name_rows))
        claimed.update(plan.claimed)
        present.update(plan.present)

    def _recorded(
        self, run: ImportRun | None, batch: list[Candidate]
    ) -> dict[int, RowRecord]:
        # A run started afresh has settled nothing until a second import of
        # the same file joins it, which shows as a conflict; look only then.
        if run is None or not batch or not self.may_have_recorded:
            return {}
        with self.runtime.database.transaction() as tx:
            return self.runs.recorded(
                tx, run.id, batch[0].row.number, batch[-1].row.number
            )

    def _store(
        self,
        run: ImportRun,
        plan: BatchPlan,
        settled: list[Candidate],
        redo: Callable[[], None],
    ) -> None:
        records = [_record(c.outcome) for c in settled]
        aggregates = plan.aggregates()
        if not records and not aggregates:
            return

        def rows(tx: Tx) -> None:
            add_to_roll(tx, self.team.id, [(p.id, p.reference) for p in plan.fresh])
            self.index.add_upns(tx, plan.upn_rows)
            self.index.add_names(tx, plan.name_rows)
            for participant_id, digest in plan.renamed:
                self.index.replace_names(tx, participant_id, digest)
            for participant_id in plan.rejoined:
                set_left_on(tx, participant_id, None)
            self.runs.record(tx, run.id, records)

        writer = self.runtime.writer
        if self.overlap:
            stored = writer.prepare(*aggregates)
            self.commits.submit(partial(writer.commit_stored, stored, rows), redo)
            return
        try:
            writer.commit(*aggregates, extra=rows)
        except UniqueViolation:
            # Another import registered one of these pupils, or settled one of
            # these rows, a moment ago: load afresh and match again.
            self._conflicted()
            raise VersionConflict("blind index changed during the batch") from None
        except VersionConflict:
            self._conflicted()
            raise

    def _redo(
        self,
        run: ImportRun,
        batch: list[Candidate],
        claimed: dict[UUID, int],
        present: set[UUID],
        plan: BatchPlan,
    ) -> None:
        """Store again, in this thread, a batch whose transaction met another
        writer's: its claims are withdrawn and it is matched afresh."""
        self._conflicted()
        for participant_id, number in plan.claimed.items():
            if claimed.get(participant_id) == number:
                del claimed[participant_id]
        self.overlap = False
        try:
            _with_backoff(partial(self._settle_batch, run, batch, claimed, present))
        finally:
            self.overlap = True

    def _keep_statistics(self, added: int) -> None:
        # Each time this import has added four times as many index rows as
        # at the last refresh, the planner's statistics are refreshed: a few
        # refreshes for any size of file, each of a few tens of milliseconds.
        self.index_rows_added += added
        if self.index_rows_added >= self.next_refresh:
            refresh_statistics(self.runtime.database)
            self.next_refresh *= 4

    def _conflicted(self) -> None:
        # The team object in hand is behind the store (its events were taken
        # for this commit and not stored), and rows may have been settled by
        # a second import of the same file.
        self.stale_team = True
        self.may_have_recorded = True


def _reset(candidate: Candidate, record: RowRecord | None) -> None:
    outcome = candidate.outcome
    if record is not None:
        outcome.status = record.status
        outcome.reasons = list(record.reasons)
        outcome.warnings = list(record.warnings)
        outcome.participant_id = record.participant_id
    elif not candidate.usable:
        reject(candidate)
    else:
        outcome.status = PENDING
        outcome.reasons = []
        outcome.warnings = list(candidate.warnings)
        outcome.participant_id = None


def _pupil_erased(record: RowRecord) -> bool:
    # A row that stood for a pupil always names one when it is recorded;
    # only erasure's scrubbing of import rows takes the name away.
    return record.status in (NEW, UPDATED, UNCHANGED) and record.participant_id is None


def _replayed(record: RowRecord, erased_column: str | None) -> RowOutcome:
    """A finished run's row as a second import reports it, changing nothing."""
    if erased_column is not None:
        status, reasons = REJECTED, [f"participant-erased:{erased_column}"]
    elif record.status in (NEW, UPDATED):
        status, reasons = UNCHANGED, list(record.reasons)
    else:
        status, reasons = record.status, list(record.reasons)
    return RowOutcome(
        record.number, status, reasons, record.participant_id, list(record.warnings)
    )


def _record(outcome: RowOutcome) -> RowRecord:
    return RowRecord(
        outcome.number,
        outcome.status,
        tuple(outcome.reasons),
        tuple(outcome.warnings),
        outcome.participant_id,
    )


def _with_backoff(work: Callable[[], None]) -> None:
    # Two imports into one team at once take turns: every batch that
    # registers pupils moves the team's reference counter on, so the other
    # import's batch is planned again. A random pause, growing with each
    # attempt, lets it slip in between the first one's batches.
    for attempt in range(1, BATCH_ATTEMPTS + 1):
        try:
            work()
        except VersionConflict:
            if attempt == BATCH_ATTEMPTS:
                raise
            logger.info("import batch conflict, retrying attempt=%d", attempt)
            time.sleep(random.uniform(0, 0.01 * attempt))
        else:
            return


def _checked(
    rows: Iterator[PupilRow], checker: RowChecker, size: int
) -> Iterator[list[Candidate]]:
    while batch := list(islice(rows, size)):
        yield [checker.check(row) for row in batch]


def list_import_runs(
    runtime: Runtime, actor: Actor, team_id: UUID, now: datetime | None = None
) -> list[dict[str, object]]:
    """The team's import runs, newest first: status and counts, no values.

    A run that stopped without saying so shows as interrupted once it has
    been silent for a while.
    """
    team = load(runtime, Team, team_id)
    authorize(runtime, actor, "import-participants", team)
    with runtime.database.transaction() as tx:
        summaries = ImportRuns(runtime.keys, team.id).summaries(tx)
    moment = now or datetime.now(UTC)
    return [
        {
            "run_id": str(s.run.id),
            "status": s.run.status_at(moment),
            "started_at": s.run.started_at.isoformat(),
            "finished_at": s.run.finished_at.isoformat() if s.run.finished_at else None,
            "rows": sum(s.counts.values()),
            **{status: s.counts.get(status, 0) for status in STATUSES},
            "left": s.run.left_count,
        }
        for s in summaries
    ]
