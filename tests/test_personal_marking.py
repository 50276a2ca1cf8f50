"""Every event field that looks personal is marked personal."""

import re

from wellbeing.aggregates.base import LedgerAggregate
from wellbeing.aggregates.personal import personal_fields

LOOKS_PERSONAL = re.compile(
    r"name|birth|dob|upn|e_?mail|answer|score|note|sex|year_group|tag",
    re.IGNORECASE,
)
NOT_PERSONAL = {"originator_topic"}


def all_event_classes() -> list[type]:
    found: list[type] = []
    pending: list[type] = [LedgerAggregate.Event]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_event_classes_are_found() -> None:
    names = {getattr(cls, "TOPIC", "") for cls in all_event_classes()}
    assert "wellbeing:ParticipantRegistered" in names


def test_personal_looking_fields_are_marked() -> None:
    unmarked = []
    for cls in all_event_classes():
        marked = personal_fields(cls)
        for name in getattr(cls, "__annotations__", {}):
            suspicious = LOOKS_PERSONAL.search(name) and name not in marked
            if suspicious and name not in NOT_PERSONAL and not _team_level(cls, name):
                unmarked.append(f"{cls.__qualname__}.{name}")
    assert unmarked == []


def test_field_ids_are_unique_per_meaning() -> None:
    ids: dict[str, str] = {}
    for cls in all_event_classes():
        for name, field_id in personal_fields(cls).items():
            assert ids.setdefault(field_id, name) == name


def _team_level(cls: type, name: str) -> bool:
    # A team's name and a tag vocabulary describe a school, not a person.
    return cls.__qualname__.startswith("Team.") and name in ("name", "tag", "tags")
