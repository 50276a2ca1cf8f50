"""The subject-access report: everything held about one participant."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from wellbeing.commands.actor import Actor
from wellbeing.commands.history import history
from wellbeing.commands.participants import describe, load_visible
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.exports import records_of


def subject_access_report(
    runtime: Runtime, actor: Actor, participant_id: UUID
) -> dict[str, Any]:
    """Current details and full history, with every snapshot and program
    of the participant and their histories (answers, scores, plans and
    notes are the child's data too), the UPN withheld.

    The UPN is a blind number that only a partner export may carry; the
    report says whether one is held, and the school's MIS has the value.
    """
    participant = load_visible(runtime, actor, participant_id, "subject-access")
    details = describe(participant)
    snapshot_ids, program_ids = records_of(runtime, participant_id)
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "generated_by": str(actor.user_id),
        "participant": details,
        "history": history(runtime, participant_id, reveal_upn=False),
        "snapshots": [_record(runtime, i) for i in snapshot_ids],
        "programs": [_record(runtime, i) for i in program_ids],
    }


def _record(runtime: Runtime, record_id: UUID) -> dict[str, Any]:
    return {"id": str(record_id), "history": history(runtime, record_id)}
