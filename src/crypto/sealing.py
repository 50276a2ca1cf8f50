"""The sealed-value format: AES-256-GCM under one subject's data key.

Layout of a sealed value, version 1::

    0x01 | key id (16 bytes, the subject id) | nonce (12 bytes) | ciphertext+tag

The associated data binds the value to its subject and to a stable field id,
so a value copied into another person's event or another field fails to open.
"""

import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wellbeing.crypto.errors import CiphertextInvalid, UnsupportedFormat

FORMAT_V1 = 0x01
KEY_ID_SIZE = 16
NONCE_SIZE = 12
HEADER_SIZE = 1 + KEY_ID_SIZE + NONCE_SIZE
DATA_KEY_SIZE = 32
_AD_PREFIX = b"wellbeing.field.v1\x00"


def new_data_key() -> bytes:
    """A fresh random 256-bit subject data key."""
    return AESGCM.generate_key(bit_length=DATA_KEY_SIZE * 8)


def associated_data(subject_id: UUID, field_id: str) -> bytes:
    return _subject_prefix(subject_id.bytes) + field_id.encode("utf-8")


def _subject_prefix(subject: bytes) -> bytes:
    return _AD_PREFIX + subject


def seal(key: bytes, subject_id: UUID, field_id: str, plaintext: bytes) -> bytes:
    """Seal plaintext for one field of one subject under a fresh nonce."""
    return seal_with_nonce(key, subject_id, field_id, plaintext, os.urandom(12))


def seal_with_nonce(
    key: bytes, subject_id: UUID, field_id: str, plaintext: bytes, nonce: bytes
) -> bytes:
    """Seal with a given nonce; only known-answer tests should call this."""
    ad = associated_data(subject_id, field_id)
    body = AESGCM(key).encrypt(nonce, plaintext, ad)
    return bytes([FORMAT_V1]) + subject_id.bytes + nonce + body


def sealed_key_id(sealed: bytes) -> UUID:
    """The id of the key a sealed value was made with.

    Raises UnsupportedFormat for an unknown version byte or a short value.
    """
    if len(sealed) < HEADER_SIZE + 16 or sealed[0] != FORMAT_V1:
        raise UnsupportedFormat("sealed value has an unknown format")
    return UUID(bytes=sealed[1 : 1 + KEY_ID_SIZE])


def open_sealed(key: bytes, subject_id: UUID, field_id: str, sealed: bytes) -> bytes:
    """Open a sealed value expected to belong to subject_id's field_id.

    Raises CiphertextInvalid when the value was altered, or belongs to another
    subject or field; the error carries no detail on purpose.
    """
    if len(sealed) < HEADER_SIZE + 16 or sealed[0] != FORMAT_V1:
        raise UnsupportedFormat("sealed value has an unknown format")
    # Bytes compared, not UUIDs built: exports open hundreds of thousands.
    if sealed[1 : 1 + KEY_ID_SIZE] != subject_id.bytes:
        raise CiphertextInvalid("sealed value does not belong to this subject")
    nonce = sealed[1 + KEY_ID_SIZE : HEADER_SIZE]
    try:
        return AESGCM(key).decrypt(
            nonce, sealed[HEADER_SIZE:], associated_data(subject_id, field_id)
        )
    except InvalidTag:
        raise CiphertextInvalid("sealed value failed authentication") from None


def seal_fields(
    key: bytes, subject_id: UUID, fields: dict[str, bytes]
) -> dict[str, bytes]:
    """Seal several fields of one subject with one cipher, a nonce each.

    The same format as seal(); building the cipher and the header once per
    event, and drawing every nonce from one call for random bytes, is
    measurable when importing many pupils.
    """
    cipher = AESGCM(key)
    subject = subject_id.bytes
    header = bytes([FORMAT_V1]) + subject
    prefix = _subject_prefix(subject)
    nonces = os.urandom(NONCE_SIZE * len(fields))
    sealed: dict[str, bytes] = {}
    for place, (field_id, plaintext) in enumerate(fields.items()):
        nonce = nonces[place * NONCE_SIZE : (place + 1) * NONCE_SIZE]
        ad = prefix + field_id.encode("utf-8")
        sealed[field_id] = header + nonce + cipher.encrypt(nonce, plaintext, ad)
    return sealed
