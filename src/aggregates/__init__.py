"""Aggregates and their events; importing this registers every topic."""

from wellbeing.aggregates import participant, program, snapshot, team, user

__all__ = ["participant", "program", "snapshot", "team", "user"]
