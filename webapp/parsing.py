"""The edge where typed text becomes ids and money: one reader for each, with bounds.

Everything a browser (or anyone with curl) sends is text. A record id of 10^26 overflows
SQLite's 64-bit integers and PostgreSQL's ``integer`` columns, and ``1e309`` is a finite
``Decimal`` whose ``quantize`` raises: both used to end in a 500. Views read ids and amounts
through here, so out-of-range input is simply "not found" or a message next to the field.

``parse_*`` are pure (unit-tested by table); ``read_*`` take a field of the current request."""
import re
from decimal import Decimal, InvalidOperation

from flask import abort, request
from werkzeug.routing import IntegerConverter

# Primary keys are ``integer`` on PostgreSQL (SQLite's are 64-bit): the tighter bound of the two,
# so the same id means the same thing on both databases.
MAX_ID = 2**31 - 1
CENT = Decimal("0.01")
# Longer than any amount a person types (¥9,999,999.99 with separators) yet far from a
# 100k-character paste, which never reaches Decimal's parser.
_MAX_MONEY_CHARS = 32
_ID = re.compile(r"[0-9]{1,10}")
_MONEY_NOISE = re.compile(r"[\s,¥￥]")


def parse_whole(raw, low=0, high=MAX_ID) -> int | None:
    """A whole number in [low, high] from ASCII digits; None for anything else (sign, spaces
    inside, exponent, other scripts' digits, too large)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if low <= raw <= high else None
    text = str(raw if raw is not None else "").strip()
    if not _ID.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_id(raw) -> int | None:
    """A record id: a whole number in 1..MAX_ID, else None."""
    return parse_whole(raw, 1, MAX_ID)


def read_id(name: str, source=None) -> int | None:
    """``parse_id`` of the field ``name`` of the posted form (or ``source``)."""
    data = request.form if source is None else source
    return parse_id(data.get(name))


def parse_money(raw, low=Decimal("0"), high=Decimal("10000000"), places=2) -> Decimal | None:
    """An amount (or quantity) in [low, high] with at most ``places`` decimals; None when it is
    not one. Thousands separators and the yuan sign are allowed. Bounds are checked before any
    rounding, so no exponent, however large, reaches ``quantize``."""
    if isinstance(raw, Decimal):
        value = raw
    else:
        text = _MONEY_NOISE.sub("", str(raw if raw is not None else ""))
        if not text or len(text) > _MAX_MONEY_CHARS:
            return None
        try:
            value = Decimal(text)
        except (InvalidOperation, ValueError):
            return None
    if not value.is_finite() or not low <= value <= high:
        return None
    step = Decimal(1).scaleb(-places)
    if value != value.quantize(step):
        return None
    return value


def read_money(name: str, source=None, **bounds) -> Decimal | None:
    """``parse_money`` of the field ``name`` of the posted form (or ``source``)."""
    data = request.form if source is None else source
    return parse_money(data.get(name), **bounds)


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` in every URL: ids above MAX_ID do not match, so the answer is 404 before any
    query is made (Werkzeug's own converter has no upper bound)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 - Werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)


def _has_nul(values) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values.getlist(key)) for key in values.keys())


def refuse_nul_bytes():
    """No person types a NUL character; PostgreSQL refuses it in text columns (a 500 after the
    work was done). Refuse such requests up front with 400."""
    if "\x00" in request.path or _has_nul(request.args):
        abort(400)
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data") and _has_nul(request.form):
        abort(400)


def init_app(app):
    """The bounded ``int`` converter must be in place before blueprints add their rules."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_nul_bytes)
