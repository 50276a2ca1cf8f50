"""The subject-access report: everything held about one participant."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from wellbeing.commands.actor import Actor
from wellbeing.commands.history import history
from wellbeing.commands.participants import describe, load_visible
from wellbeing.persistence.runtime import Runtime


def subject_access_report(
    runtime: Runtime, actor: Actor, participant_id: UUID
) -> dict[str, Any]:
    """Current details and full history, the UPN withheld.

    The UPN is a blind number that only a partner export may carry; the
    report says whether one is held, and the school's MIS has the value.
    """
    participant = load_visible(runtime, actor, participant_id, "subject-access")
    details = describe(participant)
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "generated_by": str(actor.user_id),
        "participant": details,
        "history": history(runtime, participant_id, reveal_upn=False),
    }
