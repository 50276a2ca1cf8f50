"""Imports every store that keeps derived copies, so its eraser registers."""

from wellbeing.persistence import blind_index, command_results, email_index
from wellbeing.projections import exports

__all__ = ["blind_index", "command_results", "email_index", "exports"]
