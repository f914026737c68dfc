"""The appointments a kiosk screen's own search found, handed to its confirm form as a signed token.

The confirm form carries no appointment id: anyone can post any id, and an id is a handle on a
stranger's booking. It carries this token (the site, the local day and the matched ids, signed
with the app's secret, valid for ``MAX_AGE`` seconds) and the index of the row tapped. So a
confirm can only check in what a search on this site found today, a moment ago.

A token of the lobby list of today's appointments (``listed=True``) was handed to anyone who
walked up: its confirm must also carry a proof that the booking is the customer's (the whole
plate or the last digits of the mobile; kiosk.views checks it). A token of a search needs none:
the customer typed the whole plate or mobile to get it."""
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
    needs_proof: bool = False


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def sign(site, appointment_ids: list[int], listed: bool = False) -> str:
    payload = {"site": site.id, "day": local_day(site.timezone).isoformat(), "ids": list(appointment_ids)}
    if listed:
        payload["proof"] = True
    return _serializer().dumps(payload)


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
    return Match(ids[index], needs_proof=payload.get("proof") is True)


def appointment_id_of(token, pick) -> int | None:
    """The appointment a confirm is about, for counting wrong proofs per booking; None when the
    token does not hold up (the view then refuses it anyway). Site and day are the view's to check."""
    try:
        payload = _serializer().loads(token or "", max_age=MAX_AGE) if len(token or "") <= MAX_FIELD else None
        ids = payload.get("ids") if isinstance(payload, dict) else None
        index = _pick_index(pick)
    except (BadSignature, MatchRefused):
        return None
    if not isinstance(ids, list) or index >= len(ids) or not isinstance(ids[index], int):
        return None
    return ids[index]
