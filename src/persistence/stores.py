"""Imports every store that keeps derived copies, so its eraser registers.

Erasure reaches only the stores whose module has been imported; a new store
joins by being listed here.
"""

from wellbeing.persistence import (
    blind_index,
    command_results,
    email_index,
    import_jobs,
    import_runs,
    tokens,
)
from wellbeing.projections import exports, roster

__all__ = [
    "blind_index",
    "command_results",
    "email_index",
    "exports",
    "import_jobs",
    "import_runs",
    "roster",
    "tokens",
]
