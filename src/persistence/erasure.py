"""The registry through which every store of derived copies erases a person."""

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from wellbeing.persistence.database import Tx

EraseRows = Callable[[Tx, UUID], None]


@dataclass(frozen=True)
class Eraser:
    """Removes one person's rows from one store, inside the erasure's tx."""

    name: str
    tables: tuple[str, ...]
    erase: EraseRows


ERASERS: dict[str, Eraser] = {}


def register_eraser(name: str, *tables: str) -> Callable[[EraseRows], EraseRows]:
    """Add a store to erasure; its tables are vacuumed after each erasure."""

    def register(erase: EraseRows) -> EraseRows:
        ERASERS[name] = Eraser(name, tables, erase)
        return erase

    return register


def run_erasers(tx: Tx, subject_id: UUID) -> None:
    for eraser in ERASERS.values():
        eraser.erase(tx, subject_id)


def erased_tables() -> tuple[str, ...]:
    names = ["subject_keys"]
    for eraser in ERASERS.values():
        names.extend(t for t in eraser.tables if t not in names)
    return tuple(names)
