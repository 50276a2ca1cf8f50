"""Instruments and the programme catalogue: item banks, scoring and validation."""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal

from wellbeing.errors import InputError, WellbeingError

KINDS = ("universal", "comprehensive")
PARTS = ("safety", "advice", "activities")
SCORING_RULES = ("mean",)
MAX_DECIMALS = 4

AnswerProblem = Literal["unknown-item", "not-on-scale"]

# Ids travel into stored events, export column names and URLs, so they keep to
# an alphabet that no spreadsheet or URL mangles.
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ID_LIMIT = 64
_ID_RULE = "id must be lower-case letters and digits joined by single hyphens"


class DefinitionInvalid(WellbeingError):
    """An instrument or catalogue file is wrong; names the file and the entry."""

    code = "definition-invalid"

    def __init__(self, source: str, entry: str, reason: str) -> None:
        super().__init__(f"{source}: {entry}: {reason}")
        self.source = source
        self.entry = entry
        self.reason = reason


class InvalidAnswer(InputError):
    """An answer names an unknown item or lies off its scale; the value is hidden."""

    code = "invalid-answer"

    def __init__(self, item_id: str, reason: AnswerProblem) -> None:
        super().__init__(f"answer to item {_shown(item_id)} is invalid: {reason}")
        self.item_id = _shown(item_id)
        self.reason: AnswerProblem = reason


class AnswersIncomplete(InputError):
    """Some items of the kind being scored have no answer; names them."""

    code = "answers-incomplete"

    def __init__(self, missing: Sequence[str]) -> None:
        listed = ", ".join(missing)
        super().__init__(f"{len(missing)} item(s) unanswered: {listed}")
        self.missing = tuple(missing)


class UnknownKind(InputError):
    """A snapshot kind other than universal or comprehensive was asked for."""

    code = "unknown-kind"

    def __init__(self, kind: str) -> None:
        expected = " or ".join(KINDS)
        super().__init__(f"unknown instrument kind {_shown(kind)}: expected {expected}")


class UnknownPart(InputError):
    """A program part other than safety, advice or activities was named."""

    code = "unknown-part"

    def __init__(self, part: str) -> None:
        expected = ", ".join(PARTS)
        super().__init__(f"unknown program part {_shown(part)}: expected {expected}")


class CatalogueEntryUnknown(InputError):
    """The catalogue has no entry with this id."""

    code = "catalogue-entry-unknown"

    def __init__(self, entry_id: str) -> None:
        super().__init__(f"catalogue entry {_shown(entry_id)} does not exist")
        self.entry_id = _shown(entry_id)


class WrongPart(InputError):
    """A catalogue entry was chosen for a program part it does not belong to."""

    code = "wrong-part"

    def __init__(self, entry_id: str, part: str, belongs_to: str) -> None:
        super().__init__(
            f"catalogue entry {entry_id} belongs to {belongs_to}, not to {part}"
        )
        self.entry_id = entry_id
        self.part = part
        self.belongs_to = belongs_to


def _shown(identifier: str) -> str:
    # Clients supply these strings; one that is not shaped like an id might be
    # anything a person typed, so an error never repeats it.
    if len(identifier) <= _ID_LIMIT and _ID.fullmatch(identifier):
        return identifier
    return "(not an id)"


@dataclass(frozen=True)
class Scale:
    """An answer scale: allowed values in ascending order, one label each."""

    id: str
    values: tuple[int, ...]
    labels: tuple[str, ...]

    def allows(self, value: object) -> bool:
        # A JSON true would otherwise pass as 1 and 2.0 as 2.
        return type(value) is int and value in self.values

    def reversed(self, value: int) -> int:
        """The value mirrored on the scale; max - value for a scale from 0."""
        return self.values[0] + self.values[-1] - value


@dataclass(frozen=True)
class Subdomain:
    """One area scored on its own, such as mood; belongs to one domain."""

    id: str
    title: str
    domain: str


@dataclass(frozen=True)
class Domain:
    """A group of subdomains, such as feelings."""

    id: str
    title: str
    subdomains: tuple[Subdomain, ...]


@dataclass(frozen=True)
class Item:
    """One statement a child answers on a scale, counted in one subdomain."""

    id: str
    subdomain: str
    text: str
    scale: str
    universal: bool
    reverse: bool


@dataclass(frozen=True)
class Instrument:
    """A versioned item bank with its scoring rule; build it with `parse_instrument`.

    Every item counts in the comprehensive kind; items marked universal also
    form the short universal kind.
    """

    name: str
    version: int
    title: str
    # Left out of the hash because a mapping has none; equality still counts it.
    scales: Mapping[str, Scale] = field(hash=False)
    domains: tuple[Domain, ...]
    items: tuple[Item, ...]
    decimals: int
    rule: str = "mean"

    @property
    def subdomains(self) -> tuple[Subdomain, ...]:
        """Every subdomain, in the order the domains declare them."""
        return tuple(sub for domain in self.domains for sub in domain.subdomains)

    def items_for(self, kind: str) -> tuple[Item, ...]:
        """The items a snapshot of this kind asks; raises `UnknownKind`."""
        if kind == "comprehensive":
            return self.items
        if kind == "universal":
            return tuple(item for item in self.items if item.universal)
        raise UnknownKind(kind)

    def check_answers(self, answers: Mapping[str, int]) -> None:
        """Raise `InvalidAnswer` for the first unknown item or off-scale value."""
        for item_id, value in answers.items():
            item = self._items_by_id.get(item_id)
            if item is None:
                raise InvalidAnswer(item_id, "unknown-item")
            if not self.scales[item.scale].allows(value):
                raise InvalidAnswer(item_id, "not-on-scale")

    def score(self, answers: Mapping[str, int], kind: str) -> dict[str, float]:
        """One score per subdomain the kind covers, higher meaning better.

        A score is the mean of the subdomain's items in the kind, reverse
        items mirrored first, rounded half up to `decimals`. Answers to items
        outside the kind are checked but not counted. Raises `UnknownKind`,
        `InvalidAnswer` and `AnswersIncomplete`.
        """
        items = self.items_for(kind)
        self.check_answers(answers)
        missing = [item.id for item in items if item.id not in answers]
        if missing:
            raise AnswersIncomplete(missing)

        points: dict[str, list[int]] = {}
        for item in items:
            points.setdefault(item.subdomain, []).append(
                self._points(item, answers[item.id])
            )
        return {
            sub.id: _rounded_mean(points[sub.id], self.decimals)
            for sub in self.subdomains
            if sub.id in points
        }

    def _points(self, item: Item, value: int) -> int:
        if item.reverse:
            return self.scales[item.scale].reversed(value)
        return value

    @cached_property
    def _items_by_id(self) -> Mapping[str, Item]:
        return {item.id: item for item in self.items}


def _rounded_mean(values: Sequence[int], decimals: int) -> float:
    # Exact arithmetic, then half up: a school checking a score by hand rounds
    # 1.125 to 1.13, where binary floats and round() could give 1.12.
    exact = Fraction(sum(values), len(values))
    quotient = Decimal(exact.numerator) / Decimal(exact.denominator)
    return float(quotient.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP))


@dataclass(frozen=True)
class CatalogueEntry:
    """One intervention a program may include, suited to some subdomains."""

    id: str
    part: str
    title: str
    subdomains: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """The interventions programs choose from; build it with `parse_catalogue`."""

    name: str
    version: int
    title: str
    entries: tuple[CatalogueEntry, ...]

    def get(self, entry_id: str) -> CatalogueEntry:
        """The entry with this id; raises `CatalogueEntryUnknown`."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise CatalogueEntryUnknown(entry_id)

    def suited_to(self, subdomains: Iterable[str]) -> list[CatalogueEntry]:
        """Entries sharing at least one of these subdomains, in catalogue order."""
        if isinstance(subdomains, str):
            # A lone id would otherwise be read as a set of letters.
            raise TypeError("suited_to takes a collection of subdomain ids")
        wanted = frozenset(subdomains)
        return [
            entry for entry in self.entries if wanted.intersection(entry.subdomains)
        ]

    def check_choice(self, part: str, entry_id: str) -> None:
        """Raise `UnknownPart`, `CatalogueEntryUnknown` or `WrongPart`."""
        if part not in PARTS:
            raise UnknownPart(part)
        entry = self.get(entry_id)
        if entry.part != part:
            raise WrongPart(entry.id, part, entry.part)


@dataclass(frozen=True)
class _Node:
    """One JSON object of a definition file, with the file and entry it is."""

    data: Mapping[str, Any]
    source: str
    entry: str

    def invalid(self, reason: str) -> DefinitionInvalid:
        return DefinitionInvalid(self.source, self.entry, reason)

    def allow(self, *keys: str) -> None:
        # A misspelt key such as "revers" would otherwise be ignored silently
        # and change every score the item takes part in.
        for key in self.data:
            if key not in keys:
                raise self.invalid(f"unexpected key {key}")

    def required(self, key: str) -> object:
        if key not in self.data:
            raise self.invalid(f"missing {key}")
        return self.data[key]

    def text(self, key: str) -> str:
        value = self.required(key)
        if not isinstance(value, str) or not value.strip():
            raise self.invalid(f"{key} must be non-empty text")
        return value

    def identifier(self, key: str) -> str:
        value = self.text(key)
        if not _ID.fullmatch(value):
            raise self.invalid(f"{key}: {_ID_RULE}")
        return value

    def integer(self, key: str, lowest: int, highest: int | None = None) -> int:
        value = self.required(key)
        if type(value) is not int or value < lowest:
            raise self.invalid(f"{key} must be a whole number from {lowest}")
        if highest is not None and value > highest:
            raise self.invalid(f"{key} must be at most {highest}")
        return value

    def flag(self, key: str) -> bool:
        value = self.required(key)
        if not isinstance(value, bool):
            raise self.invalid(f"{key} must be true or false")
        return value

    def items_of(self, key: str) -> list[object]:
        value = self.required(key)
        if not isinstance(value, list):
            raise self.invalid(f"{key} must be a list")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.items_of(key)
        texts = tuple(value for value in values if isinstance(value, str))
        if len(texts) != len(values):
            raise self.invalid(f"{key} must be a list of text")
        return texts

    def integers(self, key: str) -> tuple[int, ...]:
        values = self.items_of(key)
        numbers = tuple(value for value in values if type(value) is int)
        if len(numbers) != len(values):
            raise self.invalid(f"{key} must be a list of whole numbers")
        return numbers

    def child(self, key: str, entry: str) -> "_Node":
        value = self.required(key)
        if not isinstance(value, Mapping):
            raise self.invalid(f"{key} must be an object")
        return _Node(value, self.source, entry)

    def children(self, key: str, label: str) -> list["_Node"]:
        """The objects of a list, each named by its own id; ids must be unique."""
        nodes = [
            self._member(value, f"{label} #{position}").named(label)
            for position, value in enumerate(self.items_of(key), 1)
        ]
        _refuse_duplicates(nodes)
        return nodes

    def keyed_children(self, key: str, label: str) -> list[tuple[str, "_Node"]]:
        """The objects of a JSON object whose keys are their ids."""
        pairs = []
        for identifier, value in self.child(key, key).data.items():
            node = self._member(value, f"{label} {identifier}")
            if not _ID.fullmatch(identifier):
                raise node.invalid(_ID_RULE)
            pairs.append((identifier, node))
        return pairs

    def named(self, label: str) -> "_Node":
        return _Node(self.data, self.source, f"{label} {self.identifier('id')}")

    def _member(self, value: object, entry: str) -> "_Node":
        if not isinstance(value, Mapping):
            raise DefinitionInvalid(self.source, entry, "not an object")
        return _Node(value, self.source, entry)


def _refuse_duplicates(nodes: Iterable[_Node]) -> None:
    seen: set[str] = set()
    for node in nodes:
        identifier = node.identifier("id")
        if identifier in seen:
            raise node.invalid("duplicate id")
        seen.add(identifier)


def parse_instrument(data: Mapping[str, Any], source: str) -> Instrument:
    """Build an instrument from the JSON object of its file.

    Raises `DefinitionInvalid` naming `source` and the entry for a duplicate
    id, an item naming an unknown subdomain or scale, a domain without
    subdomains, a subdomain without items, a scale without values, an empty
    universal set, an unknown scoring rule, and any missing, misspelt or
    mistyped key.
    """
    top = _Node(data, source, "instrument")
    top.allow("name", "version", "title", "scales", "domains", "items", "scoring")
    scales = MappingProxyType(
        {
            key: _parse_scale(key, node)
            for key, node in top.keyed_children("scales", "scale")
        }
    )
    domains = _parse_domains(top)
    instrument = Instrument(
        name=top.identifier("name"),
        version=top.integer("version", 1),
        title=top.text("title"),
        scales=scales,
        domains=domains,
        items=_parse_items(top, scales, domains),
        decimals=_parse_decimals(top),
    )
    _check_coverage(top, instrument)
    return instrument


def _parse_scale(identifier: str, node: _Node) -> Scale:
    node.allow("values", "labels")
    values = node.integers("values")
    if not values:
        raise node.invalid("no values")
    if any(low >= high for low, high in zip(values, values[1:], strict=False)):
        raise node.invalid("values must rise without repeats")
    labels = node.strings("labels")
    if len(labels) != len(values):
        raise node.invalid("needs exactly one label per value")
    return Scale(identifier, values, labels)


def _parse_domains(top: _Node) -> tuple[Domain, ...]:
    nodes = top.children("domains", "domain")
    if not nodes:
        raise top.invalid("no domains")
    domains = []
    every_subdomain: list[_Node] = []
    for node in nodes:
        node.allow("id", "title", "subdomains")
        members = node.children("subdomains", "subdomain")
        if not members:
            raise node.invalid("no subdomains")
        every_subdomain.extend(members)
        domains.append(_parse_domain(node, members))
    # Scores are keyed by subdomain alone, so an id may not repeat anywhere.
    _refuse_duplicates(every_subdomain)
    return tuple(domains)


def _parse_domain(node: _Node, members: Iterable[_Node]) -> Domain:
    domain_id = node.identifier("id")
    subdomains = tuple(_parse_subdomain(member, domain_id) for member in members)
    return Domain(domain_id, node.text("title"), subdomains)


def _parse_subdomain(node: _Node, domain_id: str) -> Subdomain:
    node.allow("id", "title")
    return Subdomain(node.identifier("id"), node.text("title"), domain_id)


def _parse_items(
    top: _Node, scales: Mapping[str, Scale], domains: Iterable[Domain]
) -> tuple[Item, ...]:
    scale_ids = frozenset(scales)
    subdomain_ids = frozenset(sub.id for domain in domains for sub in domain.subdomains)
    return tuple(
        _parse_item(node, scale_ids, subdomain_ids)
        for node in top.children("items", "item")
    )


def _parse_item(
    node: _Node, scale_ids: frozenset[str], subdomain_ids: frozenset[str]
) -> Item:
    node.allow("id", "subdomain", "text", "scale", "universal", "reverse")
    item = Item(
        id=node.identifier("id"),
        subdomain=node.text("subdomain"),
        text=node.text("text"),
        scale=node.text("scale"),
        universal=node.flag("universal"),
        reverse=node.flag("reverse"),
    )
    if item.subdomain not in subdomain_ids:
        raise node.invalid("unknown subdomain")
    if item.scale not in scale_ids:
        raise node.invalid("unknown scale")
    return item


def _parse_decimals(top: _Node) -> int:
    scoring = top.child("scoring", "scoring")
    scoring.allow("rule", "decimals")
    if scoring.text("rule") not in SCORING_RULES:
        raise scoring.invalid("unknown rule")
    return scoring.integer("decimals", 0, MAX_DECIMALS)


def _check_coverage(top: _Node, instrument: Instrument) -> None:
    answered = frozenset(item.subdomain for item in instrument.items)
    for sub in instrument.subdomains:
        if sub.id not in answered:
            raise DefinitionInvalid(top.source, f"subdomain {sub.id}", "no items")
    if not instrument.items_for("universal"):
        raise top.invalid("no universal items")


def parse_catalogue(
    data: Mapping[str, Any], source: str, instruments: Mapping[str, Instrument]
) -> Catalogue:
    """Build the programme catalogue from the JSON object of its file.

    Raises `DefinitionInvalid` naming `source` and the entry for a duplicate
    id, an unknown part, an entry suited to no subdomain or to one that none
    of `instruments` has, and any missing, misspelt or mistyped key.
    """
    top = _Node(data, source, "catalogue")
    top.allow("name", "version", "title", "entries")
    known = frozenset(
        sub.id for instrument in instruments.values() for sub in instrument.subdomains
    )
    nodes = top.children("entries", "entry")
    if not nodes:
        raise top.invalid("no entries")
    return Catalogue(
        name=top.identifier("name"),
        version=top.integer("version", 1),
        title=top.text("title"),
        entries=tuple(_parse_entry(node, known) for node in nodes),
    )


def _parse_entry(node: _Node, known: frozenset[str]) -> CatalogueEntry:
    node.allow("id", "part", "title", "subdomains")
    entry = CatalogueEntry(
        id=node.identifier("id"),
        part=node.text("part"),
        title=node.text("title"),
        subdomains=node.strings("subdomains"),
    )
    if entry.part not in PARTS:
        raise node.invalid("unknown part")
    if not entry.subdomains:
        raise node.invalid("no subdomains")
    for subdomain in entry.subdomains:
        if subdomain not in known:
            raise node.invalid(f"unknown subdomain {subdomain}")
    return entry
