"""Running uploaded pupil files as import jobs on a background thread.

The uploaded file lives in the process's upload folder only until its job
ends; a file left by a process that stopped is deleted at the next start,
and its job shows as interrupted. Uploading the same file again completes
the import (the import itself never creates a pupil twice).
"""

import hashlib
import logging
import socket
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from uuid import UUID, uuid4

from wellbeing.api.problems import log_failure
from wellbeing.commands.actor import Actor
from wellbeing.commands.import_participants import (
    ImportParticipants,
    ImportReport,
    import_participants,
)
from wellbeing.commands.pupil_file import PupilFileMalformed
from wellbeing.errors import WellbeingError
from wellbeing.persistence import import_jobs
from wellbeing.persistence.runtime import Runtime

logger = logging.getLogger(__name__)


def runner_name(upload_dir: Path) -> str:
    """This host and upload folder: whose disk holds a job's file."""
    place = f"{socket.gethostname()}:{upload_dir.resolve()}"
    return hashlib.sha256(place.encode()).hexdigest()[:16]


class ImportRunner:
    """A small thread pool that runs import jobs one after another."""

    def __init__(self, runtime: Runtime, upload_dir: Path, workers: int = 1) -> None:
        self.runtime = runtime
        self.upload_dir = upload_dir
        self.runner = runner_name(upload_dir)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="import-job")
        self._pending: set[Future[None]] = set()

    def recover(self) -> None:
        """Delete files left by a stopped process and mark their jobs."""
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        self.upload_dir.chmod(0o700)
        for leftover in self.upload_dir.iterdir():
            leftover.unlink(missing_ok=True)
        with self.runtime.database.transaction() as tx:
            count = import_jobs.interrupt_unfinished(tx, self.runner)
        if count:
            logger.warning("import jobs interrupted count=%d", count)

    def start(self, actor: Actor, team_id: UUID, path: Path, commit: bool) -> UUID:
        """Queue a job for a file already in the upload folder; it owns the file."""
        job_id = uuid4()
        with self.runtime.database.transaction() as tx:
            import_jobs.create(tx, job_id, team_id, actor.user_id, self.runner, commit)
        future = self._pool.submit(self._run, job_id, actor, team_id, path, commit)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return job_id

    def wait(self) -> None:
        """Wait for every queued job; for tests and an orderly shutdown."""
        for future in list(self._pending):
            future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _run(
        self, job_id: UUID, actor: Actor, team_id: UUID, path: Path, commit: bool
    ) -> None:
        try:
            with self.runtime.database.transaction() as tx:
                import_jobs.set_status(tx, job_id, import_jobs.RUNNING)
            command = ImportParticipants(actor, team_id, path, commit=commit)
            report = import_participants(self.runtime, command)
            with self.runtime.database.transaction() as tx:
                import_jobs.finish(tx, job_id, _summary(report), _rows(report))
            logger.info("import job finished job_id=%s", job_id)
        except WellbeingError as error:
            self._fail(job_id, _failure(error))
            logger.info("import job failed job_id=%s code=%s", job_id, error.code)
        except Exception as error:  # noqa: BLE001 (a thread's last resort)
            log_failure(None, error)
            self._fail(job_id, "internal")
        finally:
            path.unlink(missing_ok=True)

    def _fail(self, job_id: UUID, code: str) -> None:
        with self.runtime.database.transaction() as tx:
            import_jobs.fail(tx, job_id, code)


def _failure(error: WellbeingError) -> str:
    """The stored error: a code, and for a malformed file where it breaks,
    in the `code:detail` form row reasons use; never a value from the file."""
    if isinstance(error, PupilFileMalformed):
        return f"{error.code}:line-{error.line}:{error.reason}"
    return error.code


def _summary(report: ImportReport) -> dict[str, object]:
    return {
        "encoding": report.encoding,
        "warnings": report.warnings,
        "blank_lines": report.blank_lines,
        "counts": report.summary(),
    }


def _rows(report: ImportReport) -> list[import_jobs.RowReport]:
    return [
        import_jobs.RowReport(row.number, row.status, row.reasons, row.participant_id)
        for row in report.rows
    ]
