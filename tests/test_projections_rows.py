"""Row changes folded per batch and written in bulk, on both stores."""

from typing import Any

import pytest

from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.engine import Table, view_table
from wellbeing.projections.rows import RowChanges

TABLE = view_table("rows_probe", "id TEXT, n INTEGER, label TEXT", "id")


@pytest.fixture
def probe(runtime: Runtime) -> Table:
    with runtime.database.transaction() as tx:
        for statement in getattr(TABLE, tx.dialect):
            tx.execute(statement.format(table=TABLE.name))
    return TABLE


def write(runtime: Runtime, *changes: tuple[str, Any]) -> list[tuple[Any, ...]]:
    rows = RowChanges([TABLE])
    for kind, value in changes:
        if kind == "put":
            rows.put(TABLE.name, value)
        elif kind == "update":
            rows.update(TABLE.name, value[0], **value[1])
        else:
            rows.delete(TABLE.name, value)
    with runtime.database.transaction() as tx:
        rows.write(tx, {TABLE.name: TABLE.name})
        tx.execute("SELECT id, n, label FROM rows_probe ORDER BY id")
        return [tuple(row) for row in tx.fetchall()]


def row(key: str, n: int | None, label: str | None) -> tuple[str, Any]:
    return ("put", {"id": key, "n": n, "label": label})


def test_update_in_the_same_batch_folds_into_the_put(
    runtime: Runtime, probe: Table
) -> None:
    stored = write(runtime, row("a", 1, "x"), ("update", ("a", {"label": "y"})))

    assert stored == [("a", 1, "y")]


def test_put_replaces_a_row_stored_by_an_earlier_batch(
    runtime: Runtime, probe: Table
) -> None:
    write(runtime, row("a", 1, "x"))

    stored = write(runtime, ("delete", "a"), row("a", 2, None))

    assert stored == [("a", 2, None)]


def test_update_of_a_stored_row_changes_only_its_columns(
    runtime: Runtime, probe: Table
) -> None:
    write(runtime, row("a", 1, "x"), row("b", 2, "y"))

    stored = write(
        runtime,
        ("update", ("a", {"label": "z"})),
        ("update", ("b", {"n": None})),
    )

    assert stored == [("a", 1, "z"), ("b", None, "y")]


def test_row_deleted_in_a_batch_stays_deleted_after_a_later_update(
    runtime: Runtime, probe: Table
) -> None:
    write(runtime, row("a", 1, "x"))

    stored = write(runtime, ("delete", "a"), ("update", ("a", {"label": "z"})))

    assert stored == []


def test_update_of_a_missing_row_changes_nothing(
    runtime: Runtime, probe: Table
) -> None:
    stored = write(runtime, ("update", ("ghost", {"label": "z"})))

    assert stored == []
