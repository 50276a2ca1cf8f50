"""Registry of the small value types that events may carry."""

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

VALUE_TYPES: dict[str, type[Any]] = {}
VALUE_NAMES: dict[type[Any], str] = {}


def value_type(name: str) -> Callable[[type[T]], type[T]]:
    """Register a frozen dataclass under a stable name for stored events."""

    def register(cls: type[T]) -> type[T]:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} must be a dataclass")
        VALUE_TYPES[name] = cls
        VALUE_NAMES[cls] = name
        return cls

    return register
