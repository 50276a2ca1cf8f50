"""Loading aggregates by id, as the type the caller expects."""

from typing import TypeVar
from uuid import UUID

from wellbeing.aggregates.base import LedgerAggregate, NotFound
from wellbeing.persistence.runtime import Runtime

A = TypeVar("A", bound=LedgerAggregate)


def load(runtime: Runtime, cls: type[A], aggregate_id: UUID) -> A:
    """Raises NotFound, naming the kind only, when there is no such aggregate."""
    found = runtime.reader.aggregate(aggregate_id)
    if not isinstance(found, cls):
        raise NotFound(f"{cls.__name__.lower()} not found")
    return found
