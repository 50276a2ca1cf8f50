"""Errors raised when a sealed value or a subject key cannot be opened."""

from wellbeing.errors import WellbeingError


class CryptoError(WellbeingError):
    """Base of the errors about keys and sealed values."""

    code = "crypto"


class CiphertextInvalid(CryptoError):
    """A sealed value failed authentication: tampered, or moved elsewhere."""

    code = "ciphertext-invalid"


class WrongKek(CryptoError):
    """A wrapped subject key does not open under any configured KEK."""

    code = "wrong-kek"


class KeyMissing(CryptoError):
    """A subject has no key and no erasure tombstone: the key table is damaged."""

    code = "key-missing"


class KekNotConfigured(CryptoError):
    """Sealed fields must be opened or written, and no KEK is configured."""

    code = "kek-not-configured"


class UnsupportedFormat(CryptoError):
    """A sealed value or wrapped key starts with an unknown version byte."""

    code = "unsupported-format"
