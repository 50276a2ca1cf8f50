"""The Unique Pupil Number: canonical form, check letter and validation."""

import re
import string
from dataclasses import dataclass, field
from typing import Literal

from wellbeing.errors import InputError

InvalidUpnReason = Literal[
    "wrong-length", "bad-character", "wrong-check-letter", "letter-not-allowed"
]

# The check letter alphabet drops I, O and S, which read too much like 1, 0 and
# 5; a letter's place in this table is also what it counts for at the end of a
# temporary UPN.
CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_NOT_ALLOWED = frozenset("IOS")
_DIGITS = frozenset("0123456789")
_UPPER_ASCII = frozenset(string.ascii_uppercase)
_LENGTH = 13

# \s covers every Unicode space (NBSP included) but not the zero-width
# characters that spreadsheets and copy-and-paste leave at the ends of a cell.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_EDGES = re.compile(rf"^[\s{_INVISIBLE}]+|[\s{_INVISIBLE}]+$")

# English local authority codes as the DfE numbers them, compiled from general
# knowledge rather than from an official register: it may lag behind the
# latest reorganisation, which is why an unknown code only warns.
_LONDON = frozenset(range(201, 214)) | frozenset(range(301, 321))
_METROPOLITAN = frozenset(
    [*range(330, 337), *range(340, 345), *range(350, 360)]
    + [*range(370, 374), *range(380, 385), *range(390, 395)]
)
_SHIRES_AND_UNITARIES = frozenset(
    [800, 801, 802, 803, 805, 806, 807, 808, 810, 811, 812, 813, 815, 816]
    + [821, 822, 823, 825, 826, 830, 831, 838, 839, 840, 841, 845, 846]
    + [850, 851, 852, 855, 856, 857, 860, 861, 865, 866, 867, 868, 869]
    + [870, 871, 872, 873, 874, 876, 877, 878, 879, 880, 881, 882, 883]
    + [884, 885, 886, 887, 888, 889, 890, 891, 892, 893, 894, 895, 896]
    + [908, 916, 919, 921, 925, 926, 929, 931, 933, 935, 936, 937, 938]
    + [940, 941, 942, 943]
)
# A UPN keeps the code of the authority that issued it for life, so pupils
# still carry codes of authorities abolished since (Bedfordshire, Cheshire,
# the old Dorset, Poole and Bournemouth, Cumbria, Northamptonshire).
_FORMER = frozenset([820, 835, 836, 837, 875, 909, 928])
_ISLES_OF_SCILLY = 420
_DFE_TEST_AUTHORITY = 999
KNOWN_LA_CODES = frozenset(
    f"{code:03d}"
    for code in _LONDON
    | _METROPOLITAN
    | _SHIRES_AND_UNITARIES
    | _FORMER
    | {_ISLES_OF_SCILLY, _DFE_TEST_AUTHORITY}
)


class InvalidUpn(InputError):  # noqa: N818 (named for what went wrong)
    """A UPN failed validation; the reason is a code, never the value."""

    code = "invalid-upn"

    def __init__(self, reason: InvalidUpnReason) -> None:
        super().__init__(f"UPN is invalid: {reason}")
        self.reason: InvalidUpnReason = reason


@dataclass(frozen=True, repr=False)
class Upn:
    """A validated UPN in canonical form; build it with `validate_upn`.

    The value is a blind number: neither repr nor str shows it.
    """

    value: str
    temporary: bool
    la_code: str
    warnings: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:
        return f"Upn(<hidden>, temporary={self.temporary})"

    def __str__(self) -> str:
        return repr(self)


def canonical_upn(raw: str) -> str:
    """Strip surrounding spaces and invisible characters, then upper-case."""
    return _EDGES.sub("", raw).upper()


def check_letter(body12: str) -> str:
    """The check letter for characters 2 to 13 of a UPN.

    Raises `InvalidUpn` unless the body is 11 digits then a digit or a letter.
    """
    if len(body12) != _LENGTH - 1:
        raise InvalidUpn("wrong-length")
    if not _DIGITS.issuperset(body12[:-1]):
        raise InvalidUpn("bad-character")
    _check_letter_position(body12[-1], allow_digit=True)
    total = sum(
        weight * _worth(character) for weight, character in enumerate(body12, 2)
    )
    return CHECK_LETTERS[total % len(CHECK_LETTERS)]


def validate_upn(raw: str) -> Upn:
    """Validate a UPN as typed or exported, returning its canonical value.

    Raises `InvalidUpn`. A first character that is a digit is reported as
    `bad-character`: there is no check letter to be wrong. Whole strings are
    compared, so a final digit and the table letter of the same worth both
    validate (a permanent UPN and a temporary one).
    """
    value = canonical_upn(raw)
    if len(value) != _LENGTH:
        raise InvalidUpn("wrong-length")
    _check_letter_position(value[0], allow_digit=False)
    if check_letter(value[1:]) != value[0]:
        raise InvalidUpn("wrong-check-letter")
    la_code = value[1:4]
    warnings = () if la_code in KNOWN_LA_CODES else ("unknown-la-code",)
    return Upn(value, value[-1] in _UPPER_ASCII, la_code, warnings)


def _check_letter_position(character: str, *, allow_digit: bool) -> None:
    if allow_digit and character in _DIGITS:
        return
    if character in _NOT_ALLOWED:
        raise InvalidUpn("letter-not-allowed")
    if character not in _UPPER_ASCII:
        raise InvalidUpn("bad-character")


def _worth(character: str) -> int:
    # A final letter counts by its place in the check-letter table.
    if character in _DIGITS:
        return int(character)
    return CHECK_LETTERS.index(character)
