"""The projections the product maintains, by name."""

from typing import TYPE_CHECKING

from wellbeing.projections.engine import Projection, catch_up
from wellbeing.projections.exports import ExportProjection
from wellbeing.projections.roster import RosterProjection
from wellbeing.projections.usage import UsageProjection

if TYPE_CHECKING:
    from wellbeing.persistence.runtime import Runtime


def all_projections() -> dict[str, Projection]:
    found: list[Projection] = [
        UsageProjection(),
        ExportProjection(),
        RosterProjection(),
    ]
    return {p.name: p for p in found}


def catch_up_all(runtime: "Runtime") -> dict[str, int]:
    """Bring every view up to date; the embedded store's way to keep them.

    Returns how many events each projection read.
    """
    return {name: catch_up(runtime, p) for name, p in all_projections().items()}
