"""Sealing several fields with one cipher gives values open_sealed accepts."""

import uuid

import pytest

from wellbeing.crypto import CiphertextInvalid, new_data_key, open_sealed
from wellbeing.crypto.sealing import seal_fields


def test_every_field_opens_with_its_own_field_id() -> None:
    key, subject = new_data_key(), uuid.uuid4()

    sealed = seal_fields(key, subject, {"a.one": b"1", "a.two": b"22"})

    assert open_sealed(key, subject, "a.one", sealed["a.one"]) == b"1"
    assert open_sealed(key, subject, "a.two", sealed["a.two"]) == b"22"


def test_a_field_moved_to_another_field_id_fails() -> None:
    key, subject = new_data_key(), uuid.uuid4()

    sealed = seal_fields(key, subject, {"a.one": b"1", "a.two": b"22"})

    with pytest.raises(CiphertextInvalid):
        open_sealed(key, subject, "a.two", sealed["a.one"])


def test_each_field_gets_a_fresh_nonce() -> None:
    key, subject = new_data_key(), uuid.uuid4()

    sealed = seal_fields(key, subject, {"a.one": b"same", "a.two": b"same"})

    assert sealed["a.one"][17:29] != sealed["a.two"][17:29]
