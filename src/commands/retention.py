"""Retention: erase pupils who left the school more than N years ago."""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.errors import ConfigurationError, WellbeingError
from wellbeing.persistence.participants import left_before
from wellbeing.persistence.runtime import Runtime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionResult:
    """What one run did; `failed` pupils are tried again by the next run."""

    cutoff: date
    erased: int
    already_erased: int
    failed: int = 0


def retention_cutoff(today: date, years: int) -> date:
    """The same day `years` earlier; 29 February falls back to the 28th."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def run_retention(
    runtime: Runtime, actor: Actor, today: date | None = None
) -> RetentionResult:
    """Erase exactly the participants who left before the cutoff.

    Safe to run daily: a participant erased before counts as already erased
    and is not touched again. A participant whose erasure fails (whose
    history a damaged store lost, say) is counted as failed and stops no
    other, so one damaged record never holds back everyone else's erasure.
    """
    authorize(runtime, actor, "run-retention")
    years = runtime.settings.retention_years
    if years is None:
        raise ConfigurationError("WELLBEING_RETENTION_YEARS is not set")
    cutoff = retention_cutoff(today or datetime.now(UTC).date(), years)
    erased = already = failed = 0
    for participant_id in left_before(runtime.database, cutoff):
        if runtime.keys.is_erased(participant_id):
            already += 1
            continue
        try:
            erase_participant(runtime, EraseParticipant(actor, participant_id))
        except WellbeingError:
            logger.exception(
                "retention erasure failed participant_id=%s", participant_id
            )
            failed += 1
            continue
        erased += 1
    logger.info(
        "retention ran cutoff=%s erased=%d already=%d failed=%d",
        cutoff,
        erased,
        already,
        failed,
    )
    return RetentionResult(cutoff, erased, already, failed)
