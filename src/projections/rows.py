"""Collecting a batch's row changes, then writing them in bulk."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wellbeing.persistence.database import Tx
from wellbeing.projections.engine import Table, identifier

_PUT, _PATCH, _DELETE = "put", "patch", "delete"


class RowChanges:
    """The net change to each row a batch touches, written in bulk at the end.

    Each row (by table and key) ends the batch with one pending change: put
    (the whole row, replacing any stored one), patch (some columns of a
    stored row) or delete. Later events fold into it, so the order of events
    inside a batch is kept with a few statements per table rather than one
    per event. Rows are updated and deleted by the text of their key.
    """

    def __init__(self, tables: Sequence[Table]) -> None:
        self._keys = {t.name: t.key for t in tables}
        self._types = {t.name: dict(t.columns) for t in tables}
        self._pending: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}

    def _table(self, table: str) -> dict[str, tuple[str, dict[str, Any]]]:
        return self._pending.setdefault(table, {})

    def put(self, table: str, row: dict[str, Any]) -> None:
        """Store the whole row, replacing a stored row with the same key."""
        self._table(table)[str(row[self._keys[table]])] = (_PUT, dict(row))

    def update(self, table: str, key: str, **changes: Any) -> None:
        """Change some columns; a row deleted earlier in the batch stays gone."""
        pending = self._table(table)
        kind, values = pending.get(key, (_PATCH, {}))
        if kind == _DELETE:
            return
        pending[key] = (kind, {**values, **changes})

    def delete(self, table: str, key: str) -> None:
        self._table(table)[key] = (_DELETE, {})

    def write(self, tx: Tx, names: Mapping[str, str]) -> None:
        for table, changes in self._pending.items():
            real = _Real(
                identifier(names[table]), self._keys[table], self._types[table]
            )
            deletes = [k for k, (kind, _) in changes.items() if kind == _DELETE]
            _delete(tx, real, deletes)
            puts = [row for kind, row in changes.values() if kind == _PUT]
            for columns, rows in _by_columns(puts).items():
                _put(tx, real, columns, rows)
            patches = [
                {**values, real.key: k}
                for k, (kind, values) in changes.items()
                if kind == _PATCH and values
            ]
            for columns, rows in _by_columns(patches).items():
                _patch(tx, real, columns, rows)


@dataclass(frozen=True)
class _Real:
    """A table as named in this write, with its key and column types."""

    name: str
    key: str
    types: dict[str, str]

    def arrays(
        self, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> tuple[str, list[list[Any]]]:
        """unnest() arguments, one typed array a column, and their values.

        On PostgreSQL a batch's rows go as one array per column in a single
        statement; measured with benchmarks/projections.py, that halves the
        time spent writing against a pipeline of one statement a row.
        SQLite, in the same process, has no round trips to save.
        """
        casts = ", ".join("%s::" + self.types[c] + "[]" for c in columns)
        return casts, [list(values) for values in zip(*rows, strict=True)]


def _by_columns(
    rows: Sequence[dict[str, Any]],
) -> dict[tuple[str, ...], list[tuple[Any, ...]]]:
    grouped: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        columns = tuple(sorted(row))
        grouped.setdefault(columns, []).append(tuple(row[c] for c in columns))
    return grouped


def _delete(tx: Tx, real: _Real, keys: list[str]) -> None:
    if not keys:
        return
    if tx.dialect == "postgres":
        casts, params = real.arrays([real.key], [(k,) for k in keys])
        tx.execute(
            "DELETE FROM {} WHERE {} = ANY({})".format(real.name, real.key, casts),
            params,
        )
        return
    tx.executemany(
        "DELETE FROM {} WHERE {} = %s".format(real.name, real.key),
        [(k,) for k in keys],
    )


def _put(
    tx: Tx, real: _Real, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    names = [identifier(c) for c in columns]
    others = [c for c in names if c != real.key]
    conflict = " ON CONFLICT ({}) DO ".format(real.key) + (
        "UPDATE SET " + ", ".join("{0} = excluded.{0}".format(c) for c in others)
        if others
        else "NOTHING"
    )
    head = "INSERT INTO {} ({})".format(real.name, ", ".join(names))
    if tx.dialect == "postgres":
        casts, params = real.arrays(names, rows)
        tx.execute(head + " SELECT * FROM unnest(" + casts + ")" + conflict, params)
        return
    marks = ", ".join(["%s"] * len(names))
    tx.executemany(head + " VALUES (" + marks + ")" + conflict, rows)


def _patch(
    tx: Tx, real: _Real, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    names = [identifier(c) for c in columns]
    changed = [c for c in names if c != real.key]
    if tx.dialect == "postgres":
        casts, params = real.arrays(names, rows)
        statement = (
            "UPDATE {0} SET {1} FROM unnest({2}) AS v ({3}) WHERE {0}.{4} = v.{4}"
        )
        tx.execute(
            statement.format(
                real.name,
                ", ".join("{0} = v.{0}".format(c) for c in changed),
                casts,
                ", ".join(names),
                real.key,
            ),
            params,
        )
        return
    at = names.index(real.key)
    tx.executemany(
        "UPDATE {} SET {} WHERE {} = %s".format(
            real.name, ", ".join("{} = %s".format(c) for c in changed), real.key
        ),
        [(*row[:at], *row[at + 1 :], row[at]) for row in rows],
    )
