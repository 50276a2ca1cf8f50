"""Known-answer and misuse tests of sealed fields and KEK-wrapped subject keys."""

import base64
import hashlib
import hmac
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wellbeing.crypto.errors import CiphertextInvalid, UnsupportedFormat, WrongKek
from wellbeing.crypto.kek import Kek, KeyRing
from wellbeing.crypto.sealing import (
    new_data_key,
    open_sealed,
    seal,
    seal_with_nonce,
    sealed_key_id,
)

KEY = bytes(range(32))
SUBJECT = UUID("6f1c2a4e-8b3d-4f5a-9c7e-0d1b2a3c4e5f")
OTHER_SUBJECT = UUID("0a9b8c7d-6e5f-4a3b-8c1d-2e3f4a5b6c7d")
FIELD = "participant.surname"
NONCE = bytes(range(100, 112))
PLAINTEXT = b"CANARY-Featherstonehaugh"
# Computed once with seal_with_nonce and checked below against raw AES-GCM.
SEALED_HEX = (
    "01"
    "6f1c2a4e8b3d4f5a9c7e0d1b2a3c4e5f"
    "6465666768696a6b6c6d6e6f"
    "0b5a90272bb07bd85b032b80bf1719892dac6362ea19941a"
    "9387acbdca3007432cad8cefd9273d77"
)
SEALED = bytes.fromhex(SEALED_HEX)
FIELD_AD_PREFIX = b"wellbeing.field.v1\x00"
WRAP_AD_PREFIX = b"wellbeing.subject-key.v1\x00"
KEK_SECRET = bytes(range(200, 232))
KEK_ID = "3e710f53d76da88f"


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def test_seal_with_fixed_nonce_gives_the_pinned_bytes() -> None:
    sealed = seal_with_nonce(KEY, SUBJECT, FIELD, PLAINTEXT, NONCE)

    assert sealed.hex() == SEALED_HEX


def test_pinned_value_starts_with_version_subject_and_nonce() -> None:
    assert SEALED[0] == 0x01
    assert SEALED[1:17] == SUBJECT.bytes
    assert SEALED[17:29] == NONCE
    assert len(SEALED) == 29 + len(PLAINTEXT) + 16


def test_pinned_value_opens_with_raw_aes_gcm_and_the_documented_ad() -> None:
    associated = FIELD_AD_PREFIX + SUBJECT.bytes + FIELD.encode()

    plaintext = AESGCM(KEY).decrypt(NONCE, SEALED[29:], associated)

    assert plaintext == PLAINTEXT


def test_pinned_value_opens() -> None:
    assert open_sealed(KEY, SUBJECT, FIELD, SEALED) == PLAINTEXT


def test_sealed_value_round_trips() -> None:
    key = new_data_key()

    sealed = seal(key, SUBJECT, FIELD, PLAINTEXT)

    assert open_sealed(key, SUBJECT, FIELD, sealed) == PLAINTEXT


def test_empty_plaintext_round_trips() -> None:
    sealed = seal(KEY, SUBJECT, FIELD, b"")

    assert open_sealed(KEY, SUBJECT, FIELD, sealed) == b""


def test_sealed_value_names_its_key_id() -> None:
    assert sealed_key_id(SEALED) == SUBJECT


def test_each_seal_uses_a_fresh_nonce() -> None:
    first = seal(KEY, SUBJECT, FIELD, PLAINTEXT)
    second = seal(KEY, SUBJECT, FIELD, PLAINTEXT)

    assert first[17:29] != second[17:29]
    assert first != second


def test_new_data_keys_are_random_256_bit_keys() -> None:
    first, second = new_data_key(), new_data_key()

    assert len(first) == 32
    assert first != second


def test_altered_version_byte_is_an_unsupported_format() -> None:
    with pytest.raises(UnsupportedFormat):
        open_sealed(KEY, SUBJECT, FIELD, flip(SEALED, 0))


@pytest.mark.parametrize("position", range(1, len(SEALED)))
def test_altering_any_other_byte_fails_authentication(position: int) -> None:
    with pytest.raises(CiphertextInvalid):
        open_sealed(KEY, SUBJECT, FIELD, flip(SEALED, position))


def test_dropping_the_last_byte_fails_authentication() -> None:
    with pytest.raises(CiphertextInvalid):
        open_sealed(KEY, SUBJECT, FIELD, SEALED[:-1])


def test_value_too_short_to_hold_a_tag_is_an_unsupported_format() -> None:
    with pytest.raises(UnsupportedFormat):
        open_sealed(KEY, SUBJECT, FIELD, SEALED[:29])


def test_value_transplanted_to_another_subject_fails() -> None:
    with pytest.raises(CiphertextInvalid):
        open_sealed(KEY, OTHER_SUBJECT, FIELD, SEALED)


def test_value_transplanted_to_another_subject_under_its_key_id_fails() -> None:
    transplanted = SEALED[:1] + OTHER_SUBJECT.bytes + SEALED[17:]

    with pytest.raises(CiphertextInvalid):
        open_sealed(KEY, OTHER_SUBJECT, FIELD, transplanted)


def test_value_transplanted_to_another_field_fails() -> None:
    with pytest.raises(CiphertextInvalid):
        open_sealed(KEY, SUBJECT, "participant.forename", SEALED)


def test_value_opened_with_another_key_fails() -> None:
    with pytest.raises(CiphertextInvalid):
        open_sealed(new_data_key(), SUBJECT, FIELD, SEALED)


@pytest.mark.parametrize(
    ("subject", "field", "sealed"),
    [
        pytest.param(SUBJECT, FIELD, flip(SEALED, 40), id="tampered"),
        pytest.param(SUBJECT, FIELD, flip(SEALED, 0), id="version"),
        pytest.param(OTHER_SUBJECT, FIELD, SEALED, id="other subject"),
        pytest.param(SUBJECT, "participant.forename", SEALED, id="other field"),
    ],
)
def test_failure_message_carries_no_plaintext(
    subject: UUID, field: str, sealed: bytes
) -> None:
    with pytest.raises((CiphertextInvalid, UnsupportedFormat)) as caught:
        open_sealed(KEY, subject, field, sealed)

    assert "CANARY" not in str(caught.value)
    assert "CANARY" not in repr(caught.value)


def test_kek_reads_64_hex_digits() -> None:
    kek = Kek.from_text(KEK_SECRET.hex())

    assert kek.secret == KEK_SECRET


def test_kek_reads_upper_case_hex_with_surrounding_space() -> None:
    kek = Kek.from_text(f"  {KEK_SECRET.hex().upper()}\n")

    assert kek.secret == KEK_SECRET


def test_kek_reads_standard_base64_of_32_bytes() -> None:
    kek = Kek.from_text(base64.b64encode(KEK_SECRET).decode())

    assert kek.secret == KEK_SECRET


def test_kek_reads_url_safe_base64_of_32_bytes() -> None:
    text = base64.urlsafe_b64encode(KEK_SECRET).decode()
    assert "-" in text or "_" in text

    kek = Kek.from_text(text)

    assert kek.secret == KEK_SECRET


def test_kek_text_round_trips() -> None:
    kek = Kek(KEK_SECRET)

    assert Kek.from_text(kek.to_text()) == kek


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("CANARYab" * 7 + "cd", id="58 characters of neither"),
        pytest.param("ab" * 31, id="62 hex digits"),
        pytest.param("ab" * 33, id="66 hex digits"),
        pytest.param("z" * 64, id="64 characters that are not hex"),
        pytest.param(base64.b64encode(bytes(31)).decode(), id="base64 of 31 bytes"),
        pytest.param(base64.b64encode(bytes(33)).decode(), id="base64 of 33 bytes"),
    ],
)
def test_kek_text_of_the_wrong_shape_is_rejected_without_echo(text: str) -> None:
    with pytest.raises(ValueError, match="KEK") as caught:
        Kek.from_text(text)

    assert text not in str(caught.value)
    assert text not in repr(caught.value)


def test_empty_kek_text_is_rejected() -> None:
    with pytest.raises(ValueError, match="KEK"):
        Kek.from_text("  ")


def test_kek_secret_of_the_wrong_length_is_rejected() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Kek(bytes(16))


def test_kek_id_is_pinned_for_a_secret() -> None:
    expected = hmac.new(KEK_SECRET, b"wellbeing kek id", hashlib.sha256)

    assert Kek(KEK_SECRET).id == KEK_ID == expected.hexdigest()[:16]


def test_kek_id_is_stable_for_a_secret() -> None:
    assert Kek(KEK_SECRET).id == Kek.from_text(KEK_SECRET.hex()).id


def test_kek_ids_differ_between_keks() -> None:
    assert Kek.generate().id != Kek.generate().id


def test_kek_repr_shows_the_id_and_hides_the_secret() -> None:
    kek = Kek(KEK_SECRET)

    shown = repr(kek)

    assert KEK_ID in shown
    assert KEK_SECRET.hex() not in shown
    assert repr(KEK_SECRET) not in shown
    assert base64.b64encode(KEK_SECRET).decode() not in shown


def test_wrapped_key_unwraps_to_the_data_key() -> None:
    kek = Kek(KEK_SECRET)
    data_key = new_data_key()

    wrapped = kek.wrap(SUBJECT, data_key)

    assert kek.unwrap(SUBJECT, wrapped) == data_key


def test_wrapped_key_has_version_nonce_and_body() -> None:
    wrapped = Kek(KEK_SECRET).wrap(SUBJECT, KEY)

    assert wrapped[0] == 0x01
    assert len(wrapped) == 1 + 12 + 48


def test_wrapped_key_opens_with_raw_aes_gcm_and_the_documented_ad() -> None:
    wrapped = Kek(KEK_SECRET).wrap(SUBJECT, KEY)

    data_key = AESGCM(KEK_SECRET).decrypt(
        wrapped[1:13], wrapped[13:], WRAP_AD_PREFIX + SUBJECT.bytes
    )

    assert data_key == KEY


def test_each_wrap_uses_a_fresh_nonce() -> None:
    kek = Kek(KEK_SECRET)

    first, second = kek.wrap(SUBJECT, KEY), kek.wrap(SUBJECT, KEY)

    assert first[1:13] != second[1:13]


def test_unwrap_with_another_kek_raises_wrong_kek() -> None:
    wrapped = Kek(KEK_SECRET).wrap(SUBJECT, KEY)

    with pytest.raises(WrongKek):
        Kek.generate().unwrap(SUBJECT, wrapped)


def test_wrapped_key_moved_to_another_subject_raises_wrong_kek() -> None:
    kek = Kek(KEK_SECRET)
    wrapped = kek.wrap(SUBJECT, KEY)

    with pytest.raises(WrongKek):
        kek.unwrap(OTHER_SUBJECT, wrapped)


def test_wrapped_key_with_unknown_version_is_an_unsupported_format() -> None:
    kek = Kek(KEK_SECRET)
    wrapped = kek.wrap(SUBJECT, KEY)

    with pytest.raises(UnsupportedFormat):
        kek.unwrap(SUBJECT, flip(wrapped, 0))


@pytest.mark.parametrize("length", [0, 1, 13, 28])
def test_wrapped_key_too_short_is_an_unsupported_format(length: int) -> None:
    kek = Kek(KEK_SECRET)
    wrapped = kek.wrap(SUBJECT, KEY)

    with pytest.raises(UnsupportedFormat):
        kek.unwrap(SUBJECT, wrapped[:length])


def test_key_ring_finds_the_current_kek() -> None:
    current = Kek(KEK_SECRET)
    ring = KeyRing(current, (Kek.generate(),))

    assert ring.find(current.id) is current


def test_key_ring_finds_a_previous_kek() -> None:
    previous = Kek.generate()
    ring = KeyRing(Kek(KEK_SECRET), (Kek.generate(), previous))

    assert ring.find(previous.id) is previous


def test_key_ring_raises_wrong_kek_for_an_unknown_id() -> None:
    ring = KeyRing(Kek(KEK_SECRET), (Kek.generate(),))

    with pytest.raises(WrongKek):
        ring.find(Kek.generate().id)
