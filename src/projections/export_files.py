"""Writing partner exports: CSV safe for spreadsheets, or JSON."""

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

import orjson

from wellbeing.aggregates.personal import Redacted
from wellbeing.projections.partner_export import SMALL_CELL
from wellbeing.projections.periods import term

# A spreadsheet runs a cell that starts with one of these as a formula (some
# also read the full-width forms); a leading apostrophe makes it text again
# and is not shown.
_FORMULA_STARTS = (
    *("=", "+", "-", "@", "\t", "\r", "\n"),
    *("\uff1d", "\uff0b", "\uff0d", "\uff20"),
)
BOM = "\ufeff"
SUPPRESSED = f"<{SMALL_CELL}"


def safe_cell(value: Any) -> Any:
    """A cell value for CSV: numbers stay numbers, text cannot be a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, Redacted):
        return f"[{value.reason}]"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def flatten(row: dict[str, Any], subdomains: Iterable[str]) -> dict[str, Any]:
    """The row with its `scores` mapping spread into `score_` columns."""
    flat: dict[str, Any] = {}
    for name, value in row.items():
        if name != "scores":
            flat[name] = value
            continue
        scores = value or {}
        for subdomain in subdomains:
            flat[f"score_{subdomain}"] = scores.get(subdomain)
    return flat


def csv_chunks(
    rows: Iterable[dict[str, Any]],
    subdomains: Sequence[str],
    columns: Sequence[str] | None = None,
) -> Iterator[str]:
    """The export as CSV text pieces: a BOM, a header, then one line a row.

    The header is `columns` when given, else the first row's keys; an export
    without rows and without columns has a header of one `record` column.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header = list(columns) if columns is not None else None
    yield BOM
    if header is not None:
        writer.writerow(header)
    for row in rows:
        flat = flatten(row, subdomains)
        if header is None:
            header = list(flat)
            writer.writerow(header)
        writer.writerow([safe_cell(flat.get(name)) for name in header])
        yield _drain(buffer)
    if header is None:
        writer.writerow(["record"])
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The export as a JSON object holding an array of rows, one at a time."""
    yield b'{"rows":['
    first = True
    for row in rows:
        yield (b"" if first else b",") + orjson.dumps(row, default=_json_default)
        first = False
    yield b"]}"


def _json_default(value: Any) -> Any:
    if isinstance(value, Redacted):
        return {value.reason: True}
    raise TypeError(type(value).__name__)


STATISTICS_COLUMNS = ("la_code", "term", "snapshots", "programs")


def statistics(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts of snapshots and programs per LA and academic term.

    Every count under five, zero included, is shown as `<5`, so that no
    cell can single out a small group of pupils.
    """
    counts: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        day = date.fromisoformat(row["snapshot_date"])
        counts[(row["la_code"], term(day), row["record"])] += 1
    cells = sorted({(la_code, period) for la_code, period, _ in counts})
    return [
        {
            "la_code": la_code,
            "term": period,
            "snapshots": _shown(counts[(la_code, period, "snapshot")]),
            "programs": _shown(counts[(la_code, period, "program")]),
        }
        for la_code, period in cells
    ]


def _shown(count: int) -> int | str:
    return SUPPRESSED if count < SMALL_CELL else count
