"""Aggregates and their events; importing this registers every topic."""

from wellbeing.aggregates import (
    disclosure,
    participant,
    program,
    snapshot,
    team,
    user,
)

__all__ = ["disclosure", "participant", "program", "snapshot", "team", "user"]
