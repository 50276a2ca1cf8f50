"""Writing partner exports: CSV safe for spreadsheets, or JSON."""

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

import orjson

from wellbeing.aggregates.personal import Redacted
from wellbeing.projections.partner_export import SMALL_CELL
from wellbeing.projections.periods import term

# A spreadsheet runs a cell that starts with one of these as a formula; a
# leading apostrophe makes it text again and is not shown.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
BOM = "\ufeff"


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


def columns_for(
    rows_sample: dict[str, Any] | None, subdomains: Iterable[str]
) -> list[str]:
    base = [k for k in (rows_sample or {}) if k != "scores"]
    return base + [f"score_{name}" for name in subdomains]


def flatten(row: dict[str, Any], subdomains: Iterable[str]) -> dict[str, Any]:
    flat = {k: v for k, v in row.items() if k != "scores"}
    scores = row.get("scores") or {}
    for name in subdomains:
        flat[f"score_{name}"] = scores.get(name)
    return flat


def csv_chunks(rows: Iterable[dict[str, Any]], subdomains: list[str]) -> Iterator[str]:
    """The export as CSV text pieces: a BOM, a header, then one line a row."""
    buffer = io.StringIO()
    writer: Any = None
    yield BOM
    for row in rows:
        flat = flatten(row, subdomains)
        if writer is None:
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(list(flat))
        writer.writerow([safe_cell(v) for v in flat.values()])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if writer is None:
        yield "record\r\n"


def json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The export as a JSON array, one row at a time."""
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


def statistics(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts per LA and academic term; a count under five is suppressed."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        day = date.fromisoformat(row["snapshot_date"])
        counts[(row["la_code"], term(day), row["record"])] += 1
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for (la_code, period, record), count in sorted(counts.items()):
        cell = cells.setdefault(
            (la_code, period),
            {"la_code": la_code, "term": period, "snapshot": 0, "program": 0},
        )
        cell[record] = count
    return [_suppress(cell) for cell in cells.values()]


def _suppress(cell: dict[str, Any]) -> dict[str, Any]:
    shown = dict(cell)
    for key in ("snapshot", "program"):
        if 0 < shown[key] < SMALL_CELL:
            shown[key] = f"<{SMALL_CELL}"
    return shown
