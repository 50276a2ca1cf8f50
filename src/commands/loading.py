"""Loading aggregates by id, as the type the caller expects."""

from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from wellbeing.aggregates.base import LedgerAggregate, NotFound
from wellbeing.persistence.runtime import Runtime

A = TypeVar("A", bound=LedgerAggregate)


def load(runtime: Runtime, cls: type[A], aggregate_id: UUID) -> A:
    """Raises NotFound, naming the kind only, when there is no such aggregate."""
    kind = cls.__name__.lower()
    try:
        found: object = runtime.ledger.repository.get(aggregate_id)
    except AggregateNotFoundError:
        raise NotFound(f"{kind} not found") from None
    if not isinstance(found, cls):
        raise NotFound(f"{kind} not found")
    return found
