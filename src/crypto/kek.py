"""The key-encryption key (KEK) that wraps every subject's data key.

Layout of a wrapped key, version 1::

    0x01 | nonce (12 bytes) | AES-256-GCM(data key) with tag

The associated data names the subject, so a wrapped key moved to another
subject's row fails to unwrap.
"""

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wellbeing.crypto.errors import UnsupportedFormat, WrongKek

WRAP_V1 = 0x01
KEK_SIZE = 32
_AD_PREFIX = b"wellbeing.subject-key.v1\x00"


@dataclass(frozen=True)
class Kek:
    """One key-encryption key; its repr shows only its id."""

    secret: bytes = field(repr=False)
    id: str = field(init=False)
    # One cipher for every wrap and unwrap: an import wraps a key per pupil.
    _cipher: AESGCM = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.secret) != KEK_SIZE:
            raise ValueError("a KEK must be 32 bytes")
        digest = hmac.new(self.secret, b"wellbeing kek id", hashlib.sha256)
        object.__setattr__(self, "id", digest.hexdigest()[:16])
        object.__setattr__(self, "_cipher", AESGCM(self.secret))

    @classmethod
    def generate(cls) -> "Kek":
        return cls(os.urandom(KEK_SIZE))

    @classmethod
    def from_text(cls, text: str) -> "Kek":
        """Read a KEK written as 64 hex digits or as base64 of 32 bytes.

        Raises ValueError, without echoing the text, when it is neither.
        """
        text = text.strip()
        try:
            secret = bytes.fromhex(text) if len(text) == 64 else b""
        except ValueError:
            secret = b""
        if not secret:
            try:
                secret = base64.b64decode(text, altchars=b"-_", validate=False)
            except binascii.Error:
                secret = b""
        if len(secret) != KEK_SIZE:
            raise ValueError("a KEK must be 64 hex digits or base64 of 32 bytes")
        return cls(secret)

    def to_text(self) -> str:
        return self.secret.hex()

    def wrap(self, subject_id: UUID, data_key: bytes) -> bytes:
        nonce = os.urandom(12)
        ad = _AD_PREFIX + subject_id.bytes
        return bytes([WRAP_V1]) + nonce + self._cipher.encrypt(nonce, data_key, ad)

    def unwrap(self, subject_id: UUID, wrapped: bytes) -> bytes:
        """Raises WrongKek when the wrapped key does not open under this KEK."""
        if len(wrapped) < 1 + 12 + 16 or wrapped[0] != WRAP_V1:
            raise UnsupportedFormat("wrapped key has an unknown format")
        ad = _AD_PREFIX + subject_id.bytes
        try:
            return self._cipher.decrypt(wrapped[1:13], wrapped[13:], ad)
        except InvalidTag:
            raise WrongKek("subject key does not open under the KEK") from None


@dataclass(frozen=True)
class KeyRing:
    """The current KEK, which wraps new keys, and older ones still accepted."""

    current: Kek
    previous: tuple[Kek, ...] = ()

    def find(self, kek_id: str) -> Kek:
        """Raises WrongKek when no configured KEK has that id."""
        for kek in (self.current, *self.previous):
            if kek.id == kek_id:
                return kek
        raise WrongKek("subject key is wrapped by a KEK that is not configured")
