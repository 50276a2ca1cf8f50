"""Tests of the tagged JSON transcoder that stored event state goes through."""

import dataclasses
import enum
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wellbeing.persistence.transcoder import (
    OrjsonTranscoder,
    SealedBytes,
    TranscodingError,
    value_type,
)

CANARY = "CANARY-Featherstonehaugh-5521"
SUBJECT = UUID("6f1c2a4e-8b3d-4f5a-9c7e-0d1b2a3c4e5f")


@value_type("tests.transcoder.Measurement")
@dataclasses.dataclass(frozen=True)
class Measurement:
    subject_id: UUID
    taken_on: date
    scores: tuple[int, ...]
    note: str | None


class Unsupported:
    """An object whose repr and str would leak the canary if echoed."""

    def __repr__(self) -> str:
        return CANARY

    def __str__(self) -> str:
        return CANARY


class Colour(enum.StrEnum):
    RED = "red"


def round_trip(value: Any) -> Any:
    transcoder = OrjsonTranscoder()
    return transcoder.decode(transcoder.encode(value))


def typed(value: Any) -> Any:
    """The value with the exact type of every part beside it, for comparison."""
    if isinstance(value, list | tuple):
        return type(value), [typed(item) for item in value]
    if isinstance(value, dict):
        return dict, {key: typed(item) for key, item in value.items()}
    if isinstance(value, Measurement):
        return Measurement, typed(dataclasses.astuple(value))
    return type(value), value


def offsets() -> st.SearchStrategy[timezone]:
    minutes = st.integers(min_value=-14 * 60, max_value=14 * 60)
    return minutes.map(lambda m: timezone(timedelta(minutes=m)))


def leaves() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(),
        st.uuids(),
        st.dates(),
        st.datetimes(
            min_value=datetime(1900, 1, 1),
            max_value=datetime(2200, 1, 1),
            timezones=offsets(),
        ),
        st.binary().map(SealedBytes),
    )


def json_like() -> st.SearchStrategy[Any]:
    keys = st.text().filter(lambda key: not key.startswith("#"))
    return st.recursive(
        leaves(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.lists(inner, max_size=4).map(tuple),
            st.dictionaries(keys, inner, max_size=4),
        ),
        max_leaves=20,
    )


@pytest.mark.parametrize(
    "value",
    ["", "text", 0, -7, 2**63 - 1, True, False, 1.5, -0.25, None],
    ids=repr,
)
def test_plain_json_value_round_trips_with_its_type(value: Any) -> None:
    result = round_trip(value)

    assert typed(result) == typed(value)


def test_uuid_round_trips_as_uuid() -> None:
    result = round_trip(SUBJECT)

    assert type(result) is UUID
    assert result == SUBJECT


def test_utc_datetime_round_trips_to_the_microsecond() -> None:
    moment = datetime(2024, 9, 3, 8, 45, 12, 345678, tzinfo=UTC)

    result = round_trip(moment)

    assert type(result) is datetime
    assert result == moment
    assert result.utcoffset() == timedelta(0)


def test_aware_datetime_in_another_zone_reads_back_as_same_instant_in_utc() -> None:
    moment = datetime(2024, 3, 31, 1, 30, tzinfo=timezone(timedelta(hours=5)))

    result = round_trip(moment)

    assert result == moment
    assert result.utcoffset() == timedelta(0)
    assert result.replace(tzinfo=None) == datetime(2024, 3, 30, 20, 30)


def test_date_round_trips_as_a_date_not_a_datetime() -> None:
    result = round_trip(date(2024, 2, 29))

    assert type(result) is date
    assert result == date(2024, 2, 29)


def test_nested_lists_and_dicts_round_trip() -> None:
    value = {"a": [1, {"b": [SUBJECT, date(2024, 1, 1)], "c": {}}, []], "d": None}

    result = round_trip(value)

    assert typed(result) == typed(value)


def test_tuple_round_trips_as_a_tuple() -> None:
    value = (1, "two", (SUBJECT,), ())

    result = round_trip(value)

    assert typed(result) == typed(value)


def test_sealed_bytes_round_trip_byte_for_byte() -> None:
    sealed = SealedBytes(bytes(range(256)))

    result = round_trip(sealed)

    assert type(result) is SealedBytes
    assert result.data == sealed.data


def test_registered_value_type_round_trips_with_typed_fields() -> None:
    value = Measurement(SUBJECT, date(2024, 6, 1), (3, 4), None)

    result = round_trip(value)

    assert type(result) is Measurement
    assert typed(result) == typed(value)


def test_stored_form_of_typed_values_is_pinned() -> None:
    encoded = OrjsonTranscoder().encode({"id": UUID(int=1), "on": date(2024, 5, 1)})

    assert encoded == (
        b'{"id":{"#u":"00000000000000000000000000000001"},"on":{"#d":"2024-05-01"}}'
    )


@given(json_like())
def test_any_json_like_value_round_trips_exactly(value: Any) -> None:
    result = round_trip(value)

    assert typed(result) == typed(value)


def test_registering_a_class_that_is_not_a_dataclass_fails() -> None:
    with pytest.raises(TypeError):
        value_type("tests.transcoder.NotADataclass")(Unsupported)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(datetime(2024, 1, 1, 9, 0), id="naive datetime"),
        pytest.param({1, 2}, id="set"),
        pytest.param(b"raw", id="bytes"),
        pytest.param(Decimal("1.10"), id="decimal"),
        pytest.param(Unsupported(), id="object"),
        pytest.param(Colour.RED, id="str subclass"),
        pytest.param({1: "one"}, id="non-str key"),
        pytest.param({"#u": "0" * 32}, id="key starting with #"),
        pytest.param([{"deep": {3, 4}}], id="nested set"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="infinity"),
        pytest.param(2**64, id="integer past 64 bits"),
    ],
)
def test_unsupported_value_is_rejected(value: Any) -> None:
    with pytest.raises(TranscodingError):
        OrjsonTranscoder().encode(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(Unsupported(), id="object"),
        pytest.param([Unsupported()], id="object in a list"),
        pytest.param({CANARY}, id="set"),
        pytest.param(CANARY.encode(), id="bytes"),
        pytest.param(Decimal("552100000001"), id="decimal"),
        pytest.param({(CANARY,): 1}, id="non-str key"),
        pytest.param({"#" + CANARY: 1}, id="key starting with #"),
        pytest.param(datetime(5521, 1, 1), id="naive datetime"),
    ],
)
def test_rejection_message_does_not_contain_the_value(value: Any) -> None:
    with pytest.raises(TranscodingError) as caught:
        OrjsonTranscoder().encode(value)

    assert CANARY not in str(caught.value)
    assert "5521" not in str(caught.value)


def test_unknown_value_type_name_is_rejected_on_decode() -> None:
    with pytest.raises(TranscodingError):
        OrjsonTranscoder().decode(b'{"#v":"tests.transcoder.Nowhere","f":{}}')


def test_unknown_tag_is_rejected_on_decode() -> None:
    with pytest.raises(TranscodingError):
        OrjsonTranscoder().decode(b'{"#zz":1}')
