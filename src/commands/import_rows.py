"""Checking each row of a pupil file on its own and against earlier rows."""

import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

from wellbeing.aggregates.team import Team
from wellbeing.aggregates.upn import InvalidUpn, Upn, validate_upn
from wellbeing.commands.import_report import REJECTED, RowOutcome
from wellbeing.commands.pupil_file import TAGS, PupilRow
from wellbeing.persistence.blind_index import BlindIndex

# Team taxonomies are named by people ("FSM", "SEN provision"); these folded
# names tie each tag column of a file to one of them.
_TAXONOMY_NAMES = {
    "fsm": ("fsm", "fsmeligible", "freeschoolmeals"),
    "sen-provision": ("senprovision", "sen", "send"),
    "pupil-premium": ("pupilpremium", "pp"),
    "looked-after": ("lookedafter", "lookedafterchild", "cla", "lac"),
}

_Key = tuple[str, bytes | int]
# Ages in whole years at the import that draw no warning.
_USUAL_AGES = (2, 25)


@dataclass(slots=True)
class Candidate:
    """A row with its checked values and blind-index digests.

    `checked` holds what is wrong with the row by itself; a row with
    anything there is rejected whatever the store holds.
    """

    row: PupilRow
    outcome: RowOutcome
    checked: list[str]
    warnings: list[str]
    upn: Upn | None = None
    former: Upn | None = None
    reference: int | None = None
    upn_digest: bytes | None = None
    former_digest: bytes | None = None
    names_digest: bytes | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return not self.checked


@dataclass(frozen=True)
class CheckOptions:
    """How rows are read: by reference (back-fill) and what may be missing."""

    backfill: bool
    names_matching: bool
    allow_other_establishments: bool
    today: date | None = None


def fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(character for character in folded if character.isalnum())


def taxonomy_columns(team: Team, columns: Mapping[str, str]) -> dict[str, str]:
    """The team taxonomy each tag column of the file fills, by column."""
    found: dict[str, str] = {}
    for column in TAGS:
        if column not in columns:
            continue
        names = _TAXONOMY_NAMES[column]
        for taxonomy in team.taxonomies:
            if fold(taxonomy) in names:
                found[column] = taxonomy
                break
    return found


class RowChecker:
    """Checks rows in file order, remembering what earlier rows claimed."""

    def __init__(
        self,
        team: Team,
        index: BlindIndex,
        options: CheckOptions,
        taxonomies: Mapping[str, str],
    ) -> None:
        self._team = team
        self._index = index
        self._options = options
        self._taxonomies = taxonomies
        self._claimed: dict[_Key, int] = {}

    def check(self, row: PupilRow) -> Candidate:
        outcome = RowOutcome(row.number, "pending")
        candidate = Candidate(
            row, outcome, [f"{p.code}:{p.column}" for p in row.problems], []
        )
        candidate.upn = self._upn(candidate, row.upn, "upn")
        candidate.former = self._upn(candidate, row.former_upn, "former_upn")
        if candidate.former is not None and candidate.upn == candidate.former:
            candidate.former = None
        if self._options.backfill:
            candidate.reference = self._reference(candidate)
        else:
            self._check_census(candidate)
        _check_names_hold_no_upn(candidate)
        self._check_age(candidate)
        self._digests(candidate)
        if candidate.usable:
            self._check_earlier_rows(candidate)
        candidate.tags = self._tags(candidate)
        return candidate

    def _upn(self, candidate: Candidate, text: str | None, column: str) -> Upn | None:
        if text is None:
            return None
        try:
            upn = validate_upn(text)
        except InvalidUpn as error:
            candidate.checked.append(f"{error.reason}:{column}")
            return None
        candidate.warnings.extend(f"{code}:{column}" for code in upn.warnings)
        return upn

    def _reference(self, candidate: Candidate) -> int | None:
        text = candidate.row.reference
        if text is None:
            candidate.checked.append("missing-value:reference")
            return None
        if not text.isascii() or not text.isdigit():
            candidate.checked.append("invalid-reference:reference")
            return None
        return int(text)

    def _check_census(self, candidate: Candidate) -> None:
        row = candidate.row
        # Without a UPN a row can only match by names, and a former UPN alone
        # says the pupil has a current one that the file left out.
        names_only = self._options.names_matching and row.former_upn is None
        if row.upn is None and not names_only:
            candidate.checked.append("missing-value:upn")
        if not self._options.allow_other_establishments and self._other_school(row):
            candidate.checked.append("other-establishment:estab")

    def _check_age(self, candidate: Candidate) -> None:
        # Schools teach children from 2 to 19; a date far outside that is
        # more likely a typing slip (1890 for 2019) than a pupil, but some
        # settings take young adults, so it is a warning, not a rejection.
        born, today = candidate.row.date_of_birth, self._options.today
        if born is None or today is None:
            return
        years = (
            today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        )
        if not _USUAL_AGES[0] <= years <= _USUAL_AGES[1]:
            candidate.warnings.append("unusual-date-of-birth:date_of_birth")

    def _other_school(self, row: PupilRow) -> bool:
        if row.lea is None or row.estab is None:
            return False
        return (row.lea, row.estab) != (self._team.la_code, self._team.estab)

    def _digests(self, candidate: Candidate) -> None:
        row = candidate.row
        if candidate.upn is not None:
            candidate.upn_digest = self._index.upn_digest(candidate.upn.value)
        if candidate.former is not None:
            candidate.former_digest = self._index.upn_digest(candidate.former.value)
        if row.surname and row.forename and row.date_of_birth:
            candidate.names_digest = self._index.names_digest(
                row.surname, row.forename, row.date_of_birth
            )

    def _check_earlier_rows(self, candidate: Candidate) -> None:
        claims = list(self._claims(candidate))
        for key, code, column in claims:
            first = self._claimed.get(key)
            if first is not None:
                candidate.checked.append(f"{code}-of-row-{first}:{column}")
        if candidate.usable:
            for key, _, _ in claims:
                self._claimed[key] = candidate.row.number

    def _claims(self, candidate: Candidate) -> Iterator[tuple[_Key, str, str]]:
        # A former UPN claims the same pupil as a current one: two rows, one
        # with a temporary UPN and one replacing it, are one pupil twice.
        if candidate.upn_digest is not None:
            yield ("upn", candidate.upn_digest), "duplicate-upn", "upn"
        if candidate.former_digest is not None:
            yield ("upn", candidate.former_digest), "duplicate-upn", "former_upn"
        if self._options.backfill:
            if candidate.reference is not None:
                key = ("reference", candidate.reference)
                yield key, "duplicate-reference", "reference"
        elif candidate.upn is None and candidate.names_digest is not None:
            yield ("names", candidate.names_digest), "duplicate-pupil", "surname"

    def _tags(self, candidate: Candidate) -> dict[str, str]:
        """The tag for each taxonomy the row names from the team's vocabulary.

        A value outside the vocabulary, or a retired tag, is a warning: the
        pupil is imported without it.
        """
        wanted: dict[str, str] = {}
        for column, value in candidate.row.tags.items():
            taxonomy = self._taxonomies.get(column)
            if taxonomy is None:
                continue
            vocabulary = self._team.taxonomies.get(taxonomy, {})
            tag = next(
                (
                    t
                    for t, used in vocabulary.items()
                    if used and fold(t) == fold(value)
                ),
                None,
            )
            if tag is None:
                candidate.warnings.append(f"tag-not-in-vocabulary:{column}")
            else:
                wanted[taxonomy] = tag
        return wanted


_NAME_FIELDS = ("surname", "forename", "middle_names")


def _check_names_hold_no_upn(candidate: Candidate) -> None:
    # A UPN in a name column means the file's columns have shifted, or a
    # mapping named the wrong header: stored as a name, the blind number
    # would be shown on every screen.
    for name in _NAME_FIELDS:
        text = getattr(candidate.row, name)
        if text is not None and _looks_like_upn(text):
            candidate.checked.append(f"upn-in-name-column:{name}")


def _looks_like_upn(text: str) -> bool:
    # Checked by shape first, so that an ordinary name costs a length test
    # rather than a full validation.
    stripped = text.strip()
    if len(stripped) != 13 or not stripped[1:12].isdigit():
        return False
    try:
        validate_upn(stripped)
    except InvalidUpn:
        return False
    return True


def reject(candidate: Candidate) -> None:
    candidate.outcome.status = REJECTED
    candidate.outcome.reasons = list(candidate.checked)
    candidate.outcome.warnings = list(candidate.warnings)
