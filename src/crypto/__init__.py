"""Sealing of personal fields and wrapping of subject keys; no domain, no I/O."""

from wellbeing.crypto.errors import (
    CiphertextInvalid,
    CryptoError,
    KekNotConfigured,
    KeyMissing,
    UnsupportedFormat,
    WrongKek,
)
from wellbeing.crypto.kek import Kek, KeyRing
from wellbeing.crypto.sealing import new_data_key, open_sealed, seal

__all__ = [
    "CiphertextInvalid",
    "CryptoError",
    "Kek",
    "KekNotConfigured",
    "KeyMissing",
    "KeyRing",
    "UnsupportedFormat",
    "WrongKek",
    "new_data_key",
    "open_sealed",
    "seal",
]
