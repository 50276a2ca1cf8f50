"""Retrying a unit of work when another writer changed the same aggregate."""

import logging
from collections.abc import Callable
from typing import TypeVar

from wellbeing.persistence.event_store import VersionConflict

logger = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 5


def with_retries(work: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """Run work, loading afresh each time; raises VersionConflict at the end."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except VersionConflict:
            if attempt == attempts:
                raise
            logger.info("version conflict, retrying attempt=%d", attempt)
    raise AssertionError("unreachable")
