"""Tests of the shipped instrument and catalogue, scoring and file validation."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wellbeing.aggregates.instrument import (
    AnswersIncomplete,
    Catalogue,
    CatalogueEntryUnknown,
    DefinitionInvalid,
    Instrument,
    InvalidAnswer,
    UnknownKind,
    UnknownPart,
    WrongPart,
    parse_instrument,
)
from wellbeing.commands.instrument_files import load_catalogue, load_instruments
from wellbeing.errors import InputError, WellbeingError

Definition = dict[str, Any]

# One answer per item of the shipped wellbeing-check, on the 0-3 frequency
# scale. Reverse items (marked R) count as 3 - value.
ANSWERS = {
    # mood: 3, 2, R1 -> 2, 2; sum 9 over 4 items = 2.25
    "mood-1": 3,
    "mood-2": 2,
    "mood-3": 1,
    "mood-4": 2,
    # calm: R3 -> 0, 2, R0 -> 3; sum 5 over 3 = 1.666... -> 1.67
    "calm-1": 3,
    "calm-2": 2,
    "calm-3": 0,
    # temper: 1, R2 -> 1, 2; sum 4 over 3 = 1.333... -> 1.33
    "temper-1": 1,
    "temper-2": 2,
    "temper-3": 2,
    # friends: 3, 2, R1 -> 2, 1; sum 8 over 4 = 2.00
    "friends-1": 3,
    "friends-2": 2,
    "friends-3": 1,
    "friends-4": 1,
    # adults: 3, 3, 2; sum 8 over 3 = 2.666... -> 2.67
    "adults-1": 3,
    "adults-2": 3,
    "adults-3": 2,
    # belonging: 2, R3 -> 0, 0; sum 2 over 3 = 0.666... -> 0.67
    "belonging-1": 2,
    "belonging-2": 3,
    "belonging-3": 0,
    # confidence: 0, 1, R3 -> 0; sum 1 over 3 = 0.333... -> 0.33
    "confidence-1": 0,
    "confidence-2": 1,
    "confidence-3": 3,
    # coping: 2, 1, R1 -> 2, 0; sum 5 over 4 = 1.25
    "coping-1": 2,
    "coping-2": 1,
    "coping-3": 1,
    "coping-4": 0,
}
COMPREHENSIVE_SCORES = {
    "mood": 2.25,
    "calm": 1.67,
    "temper": 1.33,
    "friends": 2.0,
    "adults": 2.67,
    "belonging": 0.67,
    "confidence": 0.33,
    "coping": 1.25,
}
# The universal kind asks the first item of each subdomain, so each score is
# that one answer, as a mean of one: only calm-1 is reverse (R3 -> 0).
UNIVERSAL_SCORES = {
    "mood": 3.0,
    "calm": 0.0,
    "temper": 1.0,
    "friends": 3.0,
    "adults": 3.0,
    "belonging": 2.0,
    "confidence": 0.0,
    "coping": 2.0,
}


@pytest.fixture(scope="module")
def instrument() -> Instrument:
    return load_instruments()["wellbeing-check"]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(load_instruments())


def small_instrument() -> Definition:
    """A valid instrument small enough to break one reference at a time."""
    return {
        "name": "small-check",
        "version": 1,
        "title": "Small check",
        "scales": {"frequency": {"values": [0, 1, 2, 3], "labels": list("ABCD")}},
        "domains": [
            {
                "id": "feelings",
                "title": "Feelings",
                "subdomains": [
                    {"id": "mood", "title": "Mood"},
                    {"id": "calm", "title": "Calm"},
                ],
            }
        ],
        "items": [
            small_item("mood-1", "mood", universal=True),
            small_item("mood-2", "mood", reverse=True),
            small_item("calm-1", "calm", universal=True),
        ],
        "scoring": {"rule": "mean", "decimals": 2},
    }


def small_item(
    item_id: str, subdomain: str, *, universal: bool = False, reverse: bool = False
) -> Definition:
    return {
        "id": item_id,
        "subdomain": subdomain,
        "text": f"Statement {item_id}",
        "scale": "frequency",
        "universal": universal,
        "reverse": reverse,
    }


def small_catalogue() -> Definition:
    return {
        "name": "programme-catalogue",
        "version": 1,
        "title": "Small catalogue",
        "entries": [
            {"id": "safe-1", "part": "safety", "title": "Plan", "subdomains": ["calm"]},
            {"id": "tip-1", "part": "advice", "title": "Tip", "subdomains": ["mood"]},
        ],
    }


def write(folder: Path, name: str, data: object) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_shipped_instrument_loads(instrument: Instrument) -> None:
    assert (instrument.name, instrument.version) == ("wellbeing-check", 1)
    assert [domain.id for domain in instrument.domains] == [
        "feelings",
        "connections",
        "self",
    ]
    assert [sub.id for sub in instrument.subdomains] == list(COMPREHENSIVE_SCORES)
    assert len(instrument.items) == len(ANSWERS)


def test_shipped_catalogue_loads(catalogue: Catalogue) -> None:
    parts = {entry.part for entry in catalogue.entries}

    assert 12 <= len(catalogue.entries) <= 20
    assert parts == {"safety", "advice", "activities"}


def test_shipped_files_are_read_once_per_process() -> None:
    first = load_catalogue(load_instruments())

    assert load_catalogue(load_instruments()) is first
    assert load_instruments() == load_instruments()


def test_comprehensive_scores_match_hand_computation(instrument: Instrument) -> None:
    assert instrument.score(ANSWERS, "comprehensive") == COMPREHENSIVE_SCORES


def test_universal_scores_match_hand_computation(instrument: Instrument) -> None:
    universal_ids = {item.id for item in instrument.items_for("universal")}
    answers = {key: value for key, value in ANSWERS.items() if key in universal_ids}

    assert instrument.score(answers, "universal") == UNIVERSAL_SCORES


def test_universal_score_ignores_answers_to_other_items(
    instrument: Instrument,
) -> None:
    assert instrument.score(ANSWERS, "universal") == UNIVERSAL_SCORES


def test_means_round_half_up() -> None:
    data = small_instrument()
    data["scoring"]["decimals"] = 0
    small = parse_instrument(data, "small.json")

    # mood: 2 and R0 -> 3 average 2.5, which round() would take down to 2.
    scores = small.score({"mood-1": 2, "mood-2": 0, "calm-1": 1}, "comprehensive")

    assert scores == {"mood": 3.0, "calm": 1.0}


def test_incomplete_answers_are_refused_naming_the_missing_items(
    instrument: Instrument,
) -> None:
    answers = {k: v for k, v in ANSWERS.items() if k not in {"calm-2", "coping-4"}}

    with pytest.raises(AnswersIncomplete) as caught:
        instrument.score(answers, "comprehensive")

    assert caught.value.missing == ("calm-2", "coping-4")
    assert str(caught.value) == "2 item(s) unanswered: calm-2, coping-4"


def test_universal_needs_only_its_own_items(instrument: Instrument) -> None:
    with pytest.raises(AnswersIncomplete) as caught:
        instrument.score({"mood-1": 1}, "universal")

    assert len(caught.value.missing) == len(UNIVERSAL_SCORES) - 1
    assert "mood-1" not in caught.value.missing


@pytest.mark.parametrize("value", [4, -1, True, 2.0])
def test_answer_off_the_scale_is_refused_naming_the_item(
    instrument: Instrument, value: Any
) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        instrument.check_answers({"mood-1": 1, "temper-3": value})

    assert caught.value.reason == "not-on-scale"
    assert caught.value.item_id == "temper-3"
    assert str(value) not in str(caught.value)


def test_answer_for_an_unknown_item_is_refused_naming_it(
    instrument: Instrument,
) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        instrument.score({**ANSWERS, "mood-9": 1}, "comprehensive")

    assert str(caught.value) == "answer to item mood-9 is invalid: unknown-item"
    assert isinstance(caught.value, InputError)


def test_unknown_item_not_shaped_like_an_id_is_not_repeated(
    instrument: Instrument,
) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        instrument.check_answers({"Jane Doe": 1})

    assert "Jane" not in str(caught.value)


def test_unknown_kind_is_refused(instrument: Instrument) -> None:
    with pytest.raises(UnknownKind):
        instrument.score(ANSWERS, "short")


def test_universal_covers_one_item_per_subdomain(instrument: Instrument) -> None:
    covered = [item.subdomain for item in instrument.items_for("universal")]

    assert sorted(covered) == sorted(sub.id for sub in instrument.subdomains)


def test_item_texts_are_substantial_and_distinct(instrument: Instrument) -> None:
    texts = [item.text.strip().casefold() for item in instrument.items]

    assert min(len(text) for text in texts) >= 10
    assert len(set(texts)) == len(texts)


def test_catalogue_refers_only_to_instrument_subdomains(
    instrument: Instrument, catalogue: Catalogue
) -> None:
    known = {sub.id for sub in instrument.subdomains}

    assert all(set(entry.subdomains) <= known for entry in catalogue.entries)


def test_suited_to_lists_entries_sharing_a_subdomain(catalogue: Catalogue) -> None:
    suited = catalogue.suited_to(["friends"])

    assert [entry.id for entry in suited] == [
        "activity-lunch-club",
        "activity-break-buddy",
        "activity-outdoor-play",
    ]
    assert catalogue.suited_to(["no-such-area"]) == []


def test_check_choice_accepts_an_entry_in_its_own_part(catalogue: Catalogue) -> None:
    catalogue.check_choice("advice", "advice-worry-time")


def test_check_choice_refuses_an_entry_from_another_part(
    catalogue: Catalogue,
) -> None:
    with pytest.raises(WrongPart) as caught:
        catalogue.check_choice("safety", "advice-worry-time")

    assert caught.value.belongs_to == "advice"


def test_check_choice_refuses_an_unknown_entry(catalogue: Catalogue) -> None:
    with pytest.raises(CatalogueEntryUnknown) as caught:
        catalogue.check_choice("advice", "advice-nothing")

    assert caught.value.entry_id == "advice-nothing"


def test_check_choice_refuses_an_unknown_part(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownPart):
        catalogue.check_choice("homework", "advice-worry-time")


def test_a_folder_of_valid_files_loads(tmp_path: Path) -> None:
    write(tmp_path / "instruments", "small-check.json", small_instrument())
    write(tmp_path / "catalogue", "programme-catalogue.json", small_catalogue())

    instruments = load_instruments(tmp_path / "instruments")
    catalogue = load_catalogue(instruments, tmp_path / "catalogue")

    assert list(instruments) == ["small-check"]
    assert [entry.id for entry in catalogue.entries] == ["safe-1", "tip-1"]


def unknown_subdomain(data: Definition) -> None:
    # A subdomain declared in no domain can only be reached this way.
    data["items"].append(small_item("mood-9", "sleep"))


def unknown_scale(data: Definition) -> None:
    data["items"][1]["scale"] = "agreement"


def duplicate_item(data: Definition) -> None:
    data["items"].append(small_item("mood-2", "mood"))


def duplicate_subdomain(data: Definition) -> None:
    extra = {
        "id": "self",
        "title": "Self",
        "subdomains": [{"id": "calm", "title": "C"}],
    }
    data["domains"].append(extra)


def subdomain_without_items(data: Definition) -> None:
    data["items"] = [item for item in data["items"] if item["subdomain"] != "calm"]


def domain_without_subdomains(data: Definition) -> None:
    data["domains"].append({"id": "self", "title": "Self", "subdomains": []})


def no_universal_items(data: Definition) -> None:
    for item in data["items"]:
        item["universal"] = False


def scale_without_values(data: Definition) -> None:
    data["scales"]["frequency"] = {"values": [], "labels": []}


def misspelt_key(data: Definition) -> None:
    data["items"][1]["revers"] = data["items"][1].pop("reverse")


def unknown_rule(data: Definition) -> None:
    data["scoring"]["rule"] = "median"


@pytest.mark.parametrize(
    ("breaking", "entry", "reason"),
    [
        (unknown_subdomain, "item mood-9", "unknown subdomain"),
        (unknown_scale, "item mood-2", "unknown scale"),
        (duplicate_item, "item mood-2", "duplicate id"),
        (duplicate_subdomain, "subdomain calm", "duplicate id"),
        (subdomain_without_items, "subdomain calm", "no items"),
        (domain_without_subdomains, "domain self", "no subdomains"),
        (no_universal_items, "instrument", "no universal items"),
        (scale_without_values, "scale frequency", "no values"),
        (misspelt_key, "item mood-2", "unexpected key revers"),
        (unknown_rule, "scoring", "unknown rule"),
    ],
)
def test_broken_instrument_is_refused_naming_file_and_entry(
    tmp_path: Path, breaking: Callable[[Definition], None], entry: str, reason: str
) -> None:
    data = copy.deepcopy(small_instrument())
    breaking(data)
    write(tmp_path, "broken.json", data)

    with pytest.raises(DefinitionInvalid) as caught:
        load_instruments(tmp_path)

    assert str(caught.value) == f"broken.json: {entry}: {reason}"
    assert isinstance(caught.value, WellbeingError)


def test_file_that_is_not_json_is_refused_naming_file_and_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "broken.json").write_text('{\n  "name": "x",\n}', encoding="utf-8")

    with pytest.raises(DefinitionInvalid) as caught:
        load_instruments(tmp_path)

    assert str(caught.value).startswith("broken.json: line 3: ")


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    text = json.dumps(small_instrument()).replace(
        '"scales": {', '"scales": {"frequency": {}, ', 1
    )
    (tmp_path / "broken.json").write_text(text, encoding="utf-8")

    with pytest.raises(DefinitionInvalid) as caught:
        load_instruments(tmp_path)

    assert str(caught.value) == "broken.json: key frequency: repeated"


def test_an_instrument_name_used_twice_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.json", small_instrument())
    write(tmp_path, "b.json", small_instrument())

    with pytest.raises(DefinitionInvalid) as caught:
        load_instruments(tmp_path)

    assert str(caught.value) == "b.json: instrument small-check: name used twice"


def catalogue_unknown_part(data: Definition) -> None:
    data["entries"][0]["part"] = "homework"


def catalogue_unknown_subdomain(data: Definition) -> None:
    data["entries"][1]["subdomains"].append("sleep")


def catalogue_duplicate_entry(data: Definition) -> None:
    data["entries"][1]["id"] = "safe-1"


def catalogue_entry_without_subdomains(data: Definition) -> None:
    data["entries"][1]["subdomains"] = []


@pytest.mark.parametrize(
    ("breaking", "entry", "reason"),
    [
        (catalogue_unknown_part, "entry safe-1", "unknown part"),
        (catalogue_unknown_subdomain, "entry tip-1", "unknown subdomain sleep"),
        (catalogue_duplicate_entry, "entry safe-1", "duplicate id"),
        (catalogue_entry_without_subdomains, "entry tip-1", "no subdomains"),
    ],
)
def test_broken_catalogue_is_refused_naming_file_and_entry(
    tmp_path: Path, breaking: Callable[[Definition], None], entry: str, reason: str
) -> None:
    instruments = {"small-check": parse_instrument(small_instrument(), "small.json")}
    data = small_catalogue()
    breaking(data)
    write(tmp_path, "programme-catalogue.json", data)

    with pytest.raises(DefinitionInvalid) as caught:
        load_catalogue(instruments, tmp_path)

    assert str(caught.value) == f"programme-catalogue.json: {entry}: {reason}"


def test_shipped_catalogue_is_checked_against_the_instruments_given() -> None:
    instruments = {"small-check": parse_instrument(small_instrument(), "small.json")}

    with pytest.raises(DefinitionInvalid) as caught:
        load_catalogue(instruments)

    assert "unknown subdomain" in str(caught.value)
