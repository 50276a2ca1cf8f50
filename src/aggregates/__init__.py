"""Aggregates and their events; importing this registers every topic."""

from wellbeing.aggregates import participant, team, user

__all__ = ["participant", "team", "user"]
