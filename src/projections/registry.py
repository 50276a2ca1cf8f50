"""The projections the product maintains, by name."""

from wellbeing.projections.engine import Projection
from wellbeing.projections.usage import UsageProjection


def all_projections() -> dict[str, Projection]:
    from wellbeing.projections.exports import ExportProjection

    found: list[Projection] = [UsageProjection(), ExportProjection()]
    return {p.name: p for p in found}
