"""The mapper that seals personal fields on the way in and opens them out."""

from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from wellbeing.aggregates.personal import Redacted, personal_fields
from wellbeing.crypto import open_sealed
from wellbeing.crypto.sealing import seal_fields
from wellbeing.errors import WellbeingError
from wellbeing.persistence.keys import SubjectKeys
from wellbeing.persistence.transcoder import OrjsonTranscoder, SealedBytes, tag, untag


class UnmarkedSealedField(WellbeingError):
    """A stored sealed value sits in a field the event class does not mark."""

    code = "unmarked-sealed-field"


class RedactedValueWritten(WellbeingError):
    """An erased or sealed marker was offered as a value to store."""

    code = "redacted-value-written"


def subject_kind(event_class: type) -> str:
    return str(getattr(event_class, "subject_kind", "participant"))


class SealingMapper(Mapper[UUID]):
    """Seals each personal field under its subject's key with a stable field id.

    Reading never fails on a person who was erased (ERASED) or in a process
    without a KEK (SEALED); a missing key, a wrong KEK and an altered value
    raise KeyMissing, WrongKek and CiphertextInvalid.
    """

    def __init__(self, keys: SubjectKeys) -> None:
        super().__init__(transcoder=OrjsonTranscoder())
        self.keys = keys

    def prepare_keys(self, events: list[DomainEventProtocol[Any]]) -> None:
        """Make sure every subject of these events has a key, in one go."""
        subjects: dict[UUID, str] = {}
        for event in events:
            cls = type(event)
            state = vars(event)
            if any(state.get(n) is not None for n in personal_fields(cls)):
                subject = self._subject(cls, state["originator_id"], state)
                subjects.setdefault(subject, subject_kind(cls))
        if subjects:
            self.keys.ensure(subjects)

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        cls = type(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        # Only values that are there need a key: an event whose personal
        # fields are all empty (a program closed without a note) stays
        # writable after the person was erased.
        sealed = {
            name: field_id
            for name, field_id in personal_fields(cls).items()
            if state.get(name) is not None
        }
        if sealed:
            subject_id = self._subject(cls, originator_id, state)
            key = self.keys.for_writing(subject_id, subject_kind(cls))
            plain: dict[str, bytes] = {}
            for name, field_id in sealed.items():
                value = state[name]
                if type(value) is str:
                    plain[field_id] = orjson.dumps(value)
                    continue
                if isinstance(value, Redacted):
                    raise RedactedValueWritten(f"field {name} holds a marker")
                plain[field_id] = orjson.dumps(tag(value))
            done = seal_fields(key, subject_id, plain)
            for name, field_id in sealed.items():
                state[name] = SealedBytes(done[field_id])
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(cls),
            state=self.transcoder.encode(state),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        return self.decode(stored_event, open_fields=True)

    def decode(
        self, stored_event: StoredEvent, *, open_fields: bool
    ) -> DomainEventProtocol[Any]:
        """Decode an event; without open_fields, personal fields stay SealedBytes.

        Read models that keep personal data copy the sealed bytes as they are,
        so erasing the key makes their copies unreadable too, and decoding
        needs no key at all.
        """
        cls = resolve_topic(stored_event.topic)
        state: dict[str, Any] = self.transcoder.decode(stored_event.state)
        originator_id = stored_event.originator_id
        if not isinstance(originator_id, UUID):
            originator_id = UUID(str(originator_id))
        state["originator_id"] = originator_id
        state["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        if open_fields:
            self._open_fields(cls, state)
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return cast(DomainEventProtocol[Any], domain_event)

    def _open_fields(self, cls: type, state: dict[str, Any]) -> None:
        names = [n for n, v in state.items() if isinstance(v, SealedBytes)]
        if not names:
            return
        field_ids = personal_fields(cls)
        subject_id = self._subject(cls, state["originator_id"], state)
        key = self.keys.for_reading(subject_id)
        for name in names:
            if name not in field_ids:
                raise UnmarkedSealedField(f"{cls.__qualname__}.{name} is not marked")
            if isinstance(key, Redacted):
                state[name] = key
                continue
            plain = open_sealed(key, subject_id, field_ids[name], state[name].data)
            state[name] = untag(orjson.loads(plain))

    @staticmethod
    def _subject(cls: type, originator_id: UUID, state: dict[str, Any]) -> UUID:
        field = getattr(cls, "subject_field", "originator_id")
        subject = originator_id if field == "originator_id" else state[field]
        if not isinstance(subject, UUID):
            raise WellbeingError(f"{cls.__qualname__} names no subject id")
        return subject
