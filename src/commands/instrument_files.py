"""Reading instrument and programme catalogue files, shipped or from a folder.

An instrument file is one JSON object::

    {"name": "wellbeing-check", "version": 1, "title": "...",
     "scales": {"frequency": {"values": [0, 1, 2, 3],
                              "labels": ["Never", "Sometimes", "Often", "Always"]}},
     "domains": [{"id": "feelings", "title": "...",
                  "subdomains": [{"id": "mood", "title": "..."}]}],
     "items": [{"id": "mood-1", "subdomain": "mood", "text": "...",
                "scale": "frequency", "universal": true, "reverse": false}],
     "scoring": {"rule": "mean", "decimals": 2}}

Every key shown is required and no other key is allowed. Ids are lower-case
letters and digits joined by hyphens; subdomain ids are unique across the
whole instrument. Scale values rise without repeats, one label each. A
subdomain's score is the mean of its answered items, a reverse item counting
as (lowest + highest - value), which is (max - value) on a scale from 0, so
that a higher score always means better wellbeing; means round half up.

The catalogue file, ``programme-catalogue.json``, is one JSON object::

    {"name": "programme-catalogue", "version": 1, "title": "...",
     "entries": [{"id": "advice-worry-time", "part": "advice", "title": "...",
                  "subdomains": ["calm"]}]}

where ``part`` is safety, advice or activities and every subdomain belongs to
a loaded instrument.
"""

import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from wellbeing.aggregates.instrument import (
    Catalogue,
    DefinitionInvalid,
    Instrument,
    parse_catalogue,
    parse_instrument,
)

CATALOGUE_FILE = "programme-catalogue.json"


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def load_instruments(folder: Path | None = None) -> dict[str, Instrument]:
    """Every instrument in a folder's JSON files, keyed by name.

    Without a folder, the instruments shipped in the package, read once per
    process. Raises `DefinitionInvalid` naming the file.
    """
    if folder is None:
        return dict(_shipped_instruments())
    return _read_instruments(folder)


def load_catalogue(
    instruments: Mapping[str, Instrument], folder: Path | None = None
) -> Catalogue:
    """The programme catalogue, its subdomains checked against `instruments`.

    Without a folder, the catalogue shipped in the package; it is read once
    per process when checked against the shipped instruments. Raises
    `DefinitionInvalid` naming the file.
    """
    if folder is None and instruments == _shipped_instruments():
        return _shipped_catalogue()
    return _read_catalogue(folder or _package_folder("catalogue"), instruments)


@cache
def _shipped_instruments() -> Mapping[str, Instrument]:
    return _read_instruments(_package_folder("instruments"))


@cache
def _shipped_catalogue() -> Catalogue:
    return _read_catalogue(_package_folder("catalogue"), _shipped_instruments())


def _package_folder(name: str) -> Traversable:
    # Through importlib.resources the files are found inside an installed wheel
    # as well as in the source tree of an editable install.
    return files("wellbeing") / name


def _read_instruments(folder: Traversable) -> dict[str, Instrument]:
    instruments: dict[str, Instrument] = {}
    for resource in _json_files(folder):
        instrument = parse_instrument(_read_json(resource), resource.name)
        if instrument.name in instruments:
            raise DefinitionInvalid(
                resource.name, f"instrument {instrument.name}", "name used twice"
            )
        instruments[instrument.name] = instrument
    if not instruments:
        raise DefinitionInvalid(folder.name, "folder", "no instrument files")
    return instruments


def _read_catalogue(
    folder: Traversable, instruments: Mapping[str, Instrument]
) -> Catalogue:
    resource = folder / CATALOGUE_FILE
    if not resource.is_file():
        raise DefinitionInvalid(CATALOGUE_FILE, "file", "not found")
    return parse_catalogue(_read_json(resource), resource.name, instruments)


def _json_files(folder: Traversable) -> list[Traversable]:
    if not folder.is_dir():
        raise DefinitionInvalid(folder.name, "folder", "not found")
    found = [
        entry
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(".json")
    ]
    # Sorted so that a name used twice is reported against the same file on
    # every machine.
    return sorted(found, key=lambda entry: entry.name)


def _read_json(resource: Traversable) -> dict[str, Any]:
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DefinitionInvalid(resource.name, "file", "unreadable") from error
    try:
        data = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}"
        raise DefinitionInvalid(resource.name, where, error.msg) from error
    except _DuplicateKey as error:
        where = f"key {error.key}"
        raise DefinitionInvalid(resource.name, where, "repeated") from error
    if not isinstance(data, dict):
        raise DefinitionInvalid(resource.name, "file", "not a JSON object")
    return data


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # The json module keeps the last of two equal keys without a word, which
    # would let a second scale or a second "reverse" hide the first.
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKey(key)
        data[key] = value
    return data
