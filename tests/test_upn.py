"""Tests of the UPN's canonical form, check letter and validation."""

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from wellbeing.aggregates.upn import (
    CHECK_LETTERS,
    InvalidUpn,
    canonical_upn,
    check_letter,
    validate_upn,
)
from wellbeing.errors import InputError

# Worked by hand: the body 999000000001 weighs 9x2 + 9x3 + 9x4 + 1x13 = 94,
# and 94 mod 23 = 2, the third letter of the table: C.
HAND_CHECKED = "C999000000001"
INVISIBLE_EDGES = " \t\n\u00a0\u2007\u3000\u200b\u200c\u200d\u2060\ufeff"
REPLACEMENTS = string.digits + string.ascii_uppercase + " -/.#"


@st.composite
def upns(draw: st.DrawFn) -> str:
    digits = draw(st.text(alphabet=string.digits, min_size=11, max_size=11))
    final = draw(st.sampled_from(string.digits + CHECK_LETTERS))
    body = digits + final
    return check_letter(body) + body


def worth(character: str) -> int | None:
    if character in string.digits:
        return int(character)
    if character in CHECK_LETTERS:
        return CHECK_LETTERS.index(character)
    return None


def with_character(upn: str, position: int, character: str) -> str:
    return upn[:position] + character + upn[position + 1 :]


def reason_for(raw: str) -> str:
    with pytest.raises(InvalidUpn) as caught:
        validate_upn(raw)
    return caught.value.reason


def test_hand_checked_example_validates() -> None:
    assert check_letter(HAND_CHECKED[1:]) == "C"
    assert validate_upn(HAND_CHECKED).value == HAND_CHECKED


@given(upns())
def test_every_upn_with_its_check_letter_validates(upn: str) -> None:
    assert validate_upn(upn).value == upn


@given(upns(), st.integers(0, 12), st.sampled_from(REPLACEMENTS))
def test_changing_any_one_character_fails(
    upn: str, position: int, replacement: str
) -> None:
    assume(replacement != upn[position])
    same_worth = worth(replacement) is not None and worth(replacement) == worth(
        upn[position]
    )
    assume(not (position == 12 and same_worth))

    with pytest.raises(InvalidUpn):
        validate_upn(with_character(upn, position, replacement))


def test_final_digit_and_letter_of_the_same_worth_both_validate() -> None:
    temporary = with_character(HAND_CHECKED, 12, "B")

    assert validate_upn(HAND_CHECKED).temporary is False
    assert validate_upn(temporary).temporary is True
    assert validate_upn(temporary).value != validate_upn(HAND_CHECKED).value


@given(
    upns(),
    st.text(alphabet=INVISIBLE_EDGES, max_size=4),
    st.text(alphabet=INVISIBLE_EDGES, max_size=4),
    st.booleans(),
)
def test_canonical_form_strips_edges_and_upper_cases(
    upn: str, before: str, after: str, lower: bool
) -> None:
    raw = before + (upn.lower() if lower else upn) + after

    assert canonical_upn(raw) == upn
    assert validate_upn(raw).value == upn


def test_space_inside_the_value_is_not_stripped() -> None:
    assert reason_for(HAND_CHECKED[:6] + " " + HAND_CHECKED[6:]) == "wrong-length"


@pytest.mark.parametrize("raw", ["", HAND_CHECKED[:-1], HAND_CHECKED + "1"])
def test_wrong_length(raw: str) -> None:
    assert reason_for(raw) == "wrong-length"


@pytest.mark.parametrize(
    "raw",
    [
        "1" + HAND_CHECKED[1:],
        "#" + HAND_CHECKED[1:],
        with_character(HAND_CHECKED, 5, "A"),
        with_character(HAND_CHECKED, 5, "-"),
        with_character(HAND_CHECKED, 5, "\u0663"),
        with_character(HAND_CHECKED, 12, "*"),
        "\u00c9" + HAND_CHECKED[1:],
    ],
    ids=[
        "digit-first",
        "symbol-first",
        "letter-inside",
        "symbol-inside",
        "arabic-indic-digit",
        "symbol-last",
        "accented-first",
    ],
)
def test_bad_character(raw: str) -> None:
    assert reason_for(raw) == "bad-character"


def test_wrong_check_letter() -> None:
    assert reason_for(with_character(HAND_CHECKED, 0, "A")) == "wrong-check-letter"


@pytest.mark.parametrize("letter", ["I", "O", "S"])
@pytest.mark.parametrize("position", [0, 12])
def test_letter_not_allowed(letter: str, position: int) -> None:
    assert reason_for(with_character(HAND_CHECKED, position, letter)) == (
        "letter-not-allowed"
    )


def test_invalid_upn_is_an_input_error_naming_only_the_reason() -> None:
    with pytest.raises(InputError) as caught:
        validate_upn("A999000000001")

    assert str(caught.value) == "UPN is invalid: wrong-check-letter"


@pytest.mark.parametrize("la_code", ["999", "940", "941", "201", "908", "420"])
def test_known_la_code_has_no_warning(la_code: str) -> None:
    body = la_code + "00000001"
    upn = validate_upn(check_letter(body + "0") + body + "0")

    assert upn.la_code == la_code
    assert upn.warnings == ()


def test_unknown_la_code_is_a_warning_not_a_rejection() -> None:
    body = "123000000010"

    upn = validate_upn(check_letter(body) + body)

    assert upn.la_code == "123"
    assert upn.warnings == ("unknown-la-code",)


@given(upns())
def test_repr_and_str_never_show_the_value(upn: str) -> None:
    value = validate_upn(upn)

    for shown in (repr(value), str(value), f"{value}", repr([value])):
        assert upn not in shown
        assert upn[1:] not in shown
        assert upn[1:12] not in shown


@given(upns(), st.sampled_from(REPLACEMENTS))
def test_errors_never_show_the_value(upn: str, replacement: str) -> None:
    assume(replacement != upn[0])
    changed = with_character(upn, 0, replacement)

    with pytest.raises(InvalidUpn) as caught:
        validate_upn(changed)

    for shown in (str(caught.value), repr(caught.value)):
        assert changed[1:12] not in shown


def test_check_letter_refuses_a_body_with_a_letter_inside() -> None:
    with pytest.raises(InvalidUpn):
        check_letter("99900A000001")
