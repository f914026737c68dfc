"""Rules of the service history (顾客服务档案) — pure Python, unit-tested by table.

- what a search query can be (plate, mobile, VIN, name) and when it is refused;
- which declined recommendations are still open (declined, and not done on a later visit);
- the date range of an export, and the CSV cell guard against formula injection."""
import re
from dataclasses import dataclass
from datetime import date, datetime

from .validation import normalise_mobile, normalise_plate

MAX_QUERY = 64
MAX_RANGE_DAYS = 366
_PLATE_CHARS = re.compile(r"^[0-9A-Z\u4e00-\u9fff]+$")
_VIN_CHARS = re.compile(r"^[A-HJ-NPR-Z0-9]+$")
_DIGITS = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class Query:
    """What a search box entry may stand for; ``None`` for a key it cannot be."""
    text: str                   # as typed, trimmed
    plate: str | None           # normalised plate fragment (partial match)
    mobile: str | None          # digits of a mobile number (partial match, at least 4 digits)
    vin: str | None             # VIN fragment (at least 6 characters, e.g. its last digits; partial match)
    name: str | None            # part of a customer's name


class QueryRefused(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def parse_query(raw: str | None) -> Query:
    """Classify a search entry. Refused (QueryRefused): empty, one character, too long, or
    nothing searchable in it (only punctuation)."""
    text = (raw or "").strip()
    if not text:
        raise QueryRefused("query_required")
    if len(text) > MAX_QUERY:
        raise QueryRefused("query_too_long")
    plate = normalise_plate(text)
    plate = plate if len(plate) >= 2 and _PLATE_CHARS.match(plate) else None
    digits = normalise_mobile(text)
    mobile = digits if _DIGITS.match(digits) and 4 <= len(digits) <= 11 else None
    compact = re.sub(r"\s+", "", text).upper()
    vin = compact if 6 <= len(compact) <= 17 and _VIN_CHARS.match(compact) else None
    has_word = any(ch.isalpha() for ch in text)
    name = text if has_word and len(text) >= 2 else None
    if not (plate or mobile or vin or name):
        raise QueryRefused("query_too_short" if len(text) < 2 else "query_invalid")
    return Query(text, plate, mobile, vin, name)


# ---------------------------------------------------------------- declined recommendations

@dataclass(frozen=True)
class Item:
    """A line of a visit's estimate, reduced to what tells whether the same work came back."""
    visit_id: int
    at: datetime                # when the visit was (ticket issued / visit created)
    description: str
    operation_id: int | None = None
    part_id: int | None = None
    reason: str | None = None   # why the customer declined it
    key: int | None = None      # the estimate line id


def _same_work(a: Item, b: Item) -> bool:
    if a.operation_id is not None or b.operation_id is not None:
        return a.operation_id == b.operation_id
    if a.part_id is not None or b.part_id is not None:
        return a.part_id == b.part_id
    return _norm(a.description) == _norm(b.description)


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", (text or "")).lower()


def open_declined(declined: list[Item], approved: list[Item], exclude_visit: int | None = None) -> list[Item]:
    """Declined lines that no later visit did (an approved line of the same operation, part or,
    for free text, description). Newest first; the same work declined twice counts once (the
    latest refusal). ``exclude_visit``: leave out what was declined on that visit (the advisor's
    current visit shows its own lines already)."""
    found: list[Item] = []
    for d in sorted(declined, key=lambda i: (i.at, i.key or 0), reverse=True):
        if d.visit_id == exclude_visit:
            continue
        if any(_same_work(d, a) and (a.at, a.visit_id) > (d.at, d.visit_id) for a in approved):
            continue
        if any(_same_work(d, f) for f in found):
            continue
        found.append(d)
    return found


# ---------------------------------------------------------------- exports

def parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", (raw or "").strip()) else None
    except ValueError:
        return None


def parse_range(raw_from: str | None, raw_to: str | None) -> tuple[date | None, date | None, dict[str, str]]:
    """The export's [from, to] days (both included) and per-field error codes."""
    errors: dict[str, str] = {}
    start, end = parse_day(raw_from), parse_day(raw_to)
    if start is None:
        errors["from"] = "date_required" if not (raw_from or "").strip() else "date_invalid"
    if end is None:
        errors["to"] = "date_required" if not (raw_to or "").strip() else "date_invalid"
    if start and end:
        if end < start:
            errors["to"] = "range_reversed"
        elif (end - start).days >= MAX_RANGE_DAYS:
            errors["to"] = "range_too_long"
    return start, end, errors


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A text cell a spreadsheet will not run: one starting like a formula gets a leading '."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
