"""What an import did or would do, row by row, in statuses and codes only."""

from dataclasses import dataclass, field
from uuid import UUID

NEW = "new"
UPDATED = "updated"
UNCHANGED = "unchanged"
REJECTED = "rejected"
AMBIGUOUS = "ambiguous"
# A conflict with what the team holds (a UPN of another pupil, one pupil
# named by two rows) is a rejection whose reason code says which.
STATUSES = (NEW, UPDATED, UNCHANGED, REJECTED, AMBIGUOUS)
BASIC = (NEW, UPDATED, UNCHANGED, REJECTED)
# Rows that change nothing until a person has looked at them.
HELD_BACK = frozenset({REJECTED, AMBIGUOUS})


@dataclass(slots=True)
class RowOutcome:
    """What became of one row; reasons and warnings are `code:column`."""

    number: int
    status: str
    reasons: list[str] = field(default_factory=list)
    participant_id: UUID | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """Counts and per-row outcomes of one import; free of personal data.

    `already_imported` says the same file, with the same options, was
    imported in full before, so nothing was done; `refused` says --strict
    turned the whole file down.
    """

    encoding: str
    warnings: list[str]
    blank_lines: int
    committed: bool
    rows: list[RowOutcome] = field(default_factory=list)
    run_id: UUID | None = None
    resumed: bool = False
    already_imported: bool = False
    refused: bool = False
    upn_backfill: bool = False
    leavers: list[UUID] = field(default_factory=list)
    on_roll: int = 0

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    def summary(self) -> dict[str, int]:
        """Counts of new, updated, unchanged and rejected rows, always, and
        of ambiguous rows when there are any."""
        counts = dict.fromkeys(BASIC, 0)
        for row in self.rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts

    def held_back(self) -> int:
        """Rows that a person must look at before they can be applied."""
        return sum(1 for row in self.rows if row.status in HELD_BACK)

    def warn(self, code: str) -> None:
        if code not in self.warnings:
            self.warnings.append(code)
