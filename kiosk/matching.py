"""The appointments a kiosk screen's own search found, handed to its confirm form as a signed token.

The confirm form carries no appointment id: anyone can post any id, and an id is a handle on a
stranger's booking. It carries this token (the site, the local day and the matched ids, signed
with the app's secret, valid for ``MAX_AGE`` seconds) and the index of the row tapped. So a
confirm can only check in what a search on this site found today, a moment ago."""
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from webapp.timeutil import local_day

SALT = "kiosk.appointment-match"
MAX_AGE = 10 * 60           # long enough to read the results, too short to keep a token around
MAX_FIELD = 2000            # a token for a handful of ids is a few hundred characters


class MatchRefused(Exception):
    """``code`` is "expired" (search again) or "invalid" (tampered, another site or day, no such row)."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Match:
    appointment_id: int


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def sign(site, appointment_ids: list[int]) -> str:
    return _serializer().dumps({"site": site.id, "day": local_day(site.timezone).isoformat(),
                                "ids": list(appointment_ids)})


def _pick_index(raw) -> int:
    value = (raw or "").strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 2):
        raise MatchRefused("invalid")
    return int(value)


def resolve(site, token, pick) -> Match:
    """The appointment the customer tapped, if ``token`` is this site's search of today."""
    if not token or len(token) > MAX_FIELD:
        raise MatchRefused("invalid")
    try:
        payload = _serializer().loads(token, max_age=MAX_AGE)
    except SignatureExpired:
        raise MatchRefused("expired") from None
    except BadSignature:
        raise MatchRefused("invalid") from None
    index = _pick_index(pick)
    ids = payload.get("ids") if isinstance(payload, dict) else None
    if (not isinstance(ids, list) or payload.get("site") != site.id
            or payload.get("day") != local_day(site.timezone).isoformat()):
        raise MatchRefused("invalid")
    if index >= len(ids) or not isinstance(ids[index], int):
        raise MatchRefused("invalid")
    return Match(ids[index])
