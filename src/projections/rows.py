"""Collecting a batch's row changes, then writing them with executemany."""

from collections.abc import Mapping
from typing import Any

from wellbeing.persistence.database import Tx
from wellbeing.projections.engine import identifier


class RowChanges:
    """Inserts and updates keyed by row id, applied in bulk at the end.

    An update to a row inserted in the same batch changes the pending insert,
    so the order of events inside a batch is kept with one statement per
    table rather than one per event.
    """

    def __init__(self, keys: Mapping[str, str]) -> None:
        self._keys = keys
        self._inserts: dict[str, dict[str, dict[str, Any]]] = {}
        self._updates: dict[str, dict[str, dict[str, Any]]] = {}
        self._deletes: dict[str, set[str]] = {}

    def insert(self, table: str, row: dict[str, Any]) -> None:
        key = str(row[self._keys[table]])
        self._inserts.setdefault(table, {})[key] = dict(row)
        self._deletes.get(table, set()).discard(key)

    def update(self, table: str, key: str, **changes: Any) -> None:
        pending = self._inserts.get(table, {}).get(key)
        if pending is not None:
            pending.update(changes)
            return
        self._updates.setdefault(table, {}).setdefault(key, {}).update(changes)

    def delete(self, table: str, key: str) -> None:
        self._inserts.get(table, {}).pop(key, None)
        self._updates.get(table, {}).pop(key, None)
        self._deletes.setdefault(table, set()).add(key)

    def write(self, tx: Tx, names: Mapping[str, str]) -> None:
        for table, keys in self._deletes.items():
            statement = "DELETE FROM {} WHERE {} = %s".format(
                identifier(names[table]), identifier(self._keys[table])
            )
            tx.executemany(statement, [(k,) for k in keys])
        for table, rows in self._inserts.items():
            self._write_inserts(tx, identifier(names[table]), list(rows.values()))
        for table, updates in self._updates.items():
            self._write_updates(tx, table, identifier(names[table]), updates)

    @staticmethod
    def _write_inserts(tx: Tx, real: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        statement = "INSERT INTO {} ({}) VALUES ({})".format(
            real,
            ", ".join(identifier(c) for c in columns),
            ", ".join(["%s"] * len(columns)),
        )
        tx.executemany(statement, [tuple(r[c] for c in columns) for r in rows])

    def _write_updates(
        self, tx: Tx, table: str, real: str, updates: dict[str, dict[str, Any]]
    ) -> None:
        by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for key, changes in updates.items():
            columns = tuple(sorted(changes))
            values = tuple(changes[c] for c in columns)
            by_columns.setdefault(columns, []).append((*values, key))
        for columns, params in by_columns.items():
            statement = "UPDATE {} SET {} WHERE {} = %s".format(
                real,
                ", ".join(f"{identifier(c)} = %s" for c in columns),
                identifier(self._keys[table]),
            )
            tx.executemany(statement, params)
