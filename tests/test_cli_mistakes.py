"""A mistyped command line is refused without repeating what was typed."""

import pytest
from people import make_canary

from wellbeing.cli.main import main, without_values

PUPIL = "0b0c3f7e-1d2a-4a51-9a1a-1f0f2e3d4c5b"


@pytest.mark.parametrize(
    "words",
    [
        ["participants", "replace-upn", PUPIL, "{upn}"],
        ["snapshots", "start", PUPIL, "--instrument", "x", "--kind", "{upn}"],
        ["{upn}"],
        ["participants", "show", PUPIL, "--{surname}"],
    ],
)
def test_a_value_in_the_wrong_place_is_not_echoed(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    canary = make_canary(71)
    typed = [w.format(upn=canary.upn, surname=canary.surname) for w in words]

    with pytest.raises(SystemExit) as stopped:
        main(typed)

    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert "error:" in err
    assert canary.upn not in err
    assert canary.surname not in err


def test_choices_are_still_listed() -> None:
    message = "argument --kind: invalid choice: 'x' (choose from 'a', 'b')"
    assert (
        without_values(message)
        == "argument --kind: invalid choice (choose from 'a', 'b')"
    )
