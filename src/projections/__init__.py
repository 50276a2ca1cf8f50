"""Read models fed from the event log, each with its tables and position.

Importing the package registers the erasers of the views that keep personal
data, so every process that can erase a person clears those copies too.
"""

from wellbeing.projections import exports, roster

__all__ = ["exports", "roster"]
